"""The care domain's pages: the caseload, for a council's care team."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response

from vigil.care.caseload import CaseloadRow, rank
from vigil.care.day import DAY_METRIC
from vigil.web.api import Conditions, PageRoute, Pages, Projections, Reader, Registry

router = APIRouter(route_class=PageRoute, include_in_schema=False)
api = APIRouter(prefix="/api/v1/care", tags=["care"])
pages = Pages(Path(__file__).with_name("templates"))


def _caseload(
    tenant: str, registry: Registry, conditions: Conditions, projections: Projections
) -> list[CaseloadRow]:
    homes = registry.entities(tenant, kind="home")
    open_conditions = conditions.open(tenant, limit=5000)
    summaries = {}
    for home in homes:
        for value in projections.latest(tenant, home.id):
            if value.metric == DAY_METRIC and value.text:
                summaries[home.id] = value.text
    return rank(homes, open_conditions, summaries)


@router.get("/caseload")
def caseload_page(
    request: Request,
    principal: Reader,
    registry: Registry,
    conditions: Conditions,
    projections: Projections,
) -> Response:
    rows = _caseload(principal.tenant, registry, conditions, projections)
    return pages.render(request, principal, "caseload.html", title="Caseload", rows=rows)


@api.get("/caseload", summary="Residents of the caller's council, most concern first")
def caseload_api(
    principal: Reader, registry: Registry, conditions: Conditions, projections: Projections
) -> list[dict]:
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
        for r in _caseload(principal.tenant, registry, conditions, projections)
    ]
