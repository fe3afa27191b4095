"""The care domain's pages: the caseload, for a council's care team."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from vigil.care.caseload import CaseloadRow, rank
from vigil.care.monitor import DAY_METRIC
from vigil.web.auth import PlatformDep, Reader
from vigil.web.templating import TEMPLATES, PageRoute, navigation

router = APIRouter(route_class=PageRoute, include_in_schema=False)
api = APIRouter(prefix="/api/v1/care", tags=["care"])

_env = Environment(
    loader=ChoiceLoader(
        [FileSystemLoader(Path(__file__).with_name("templates")), TEMPLATES.env.loader]
    ),  # type: ignore[list-item]
    autoescape=select_autoescape(default=True),
)
_env.filters.update(TEMPLATES.env.filters)
_env.globals.update(TEMPLATES.env.globals)
_templates = Jinja2Templates(env=_env)


def _caseload(platform: PlatformDep, tenant: str) -> list[CaseloadRow]:
    homes = platform.registry.entities(tenant, kind="home")
    conditions = platform.conditions.open(tenant, limit=5000)
    summaries = {}
    for home in homes:
        for value in platform.projections.latest(tenant, home.id):
            if value.metric == DAY_METRIC and value.text:
                summaries[home.id] = value.text
    return rank(homes, conditions, summaries)


@router.get("/caseload")
def caseload_page(request: Request, principal: Reader, platform: PlatformDep) -> Response:
    rows = _caseload(platform, principal.tenant)
    context = {
        "title": "Caseload",
        "rows": rows,
        "nav": navigation(platform, principal, request.url.path),
        "now": platform.clock(),
    }
    return _templates.TemplateResponse(request, "caseload.html", context)


@api.get("/caseload", summary="Residents of the caller's council, most concern first")
def caseload_api(principal: Reader, platform: PlatformDep) -> list[dict]:
    return [
        {
            "entity": r.entity,
            "name": r.name,
            "resident": r.resident,
            "concern": r.concern,
            "severity": r.severity,
            "reason": r.reason,
            "alerts": [a.id for a in r.alerts],
            "summary": r.summary,
        }
        for r in _caseload(platform, principal.tenant)
    ]
