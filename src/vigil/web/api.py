"""The web's public API for domains: all a domain's routers may import from ``vigil.web``.

import-linter holds domains to this one module (``pyproject.toml``). A route here
depends on the narrow things it uses -- the caller (by permission), a read-only
repository, the clock, the shared page layout -- never on the ``Platform`` itself:
that keeps domains off the store's SQL and the platform's internals, and keeps
``Platform`` from becoming the object every route is handed.

A domain's page, in full::

    pages = Pages(Path(__file__).with_name("templates"))
    router = APIRouter(route_class=PageRoute, include_in_schema=False)

    @router.get("/caseload")
    def caseload(request: Request, principal: Reader, registry: Registry) -> Response:
        homes = registry.entities(principal.tenant, kind="home")
        return pages.render(request, principal, "caseload.html", title="Caseload", homes=homes)

and the router goes in the domain's declaration (``Domain(routers=(router,))``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from vigil.security import Principal
from vigil.store.documents import DocumentRepository
from vigil.store.operator_state import FindingRepository
from vigil.store.projections import ConditionRepository, ProjectionRepository
from vigil.store.registry import RegistryRepository
from vigil.web.auth import AlertHandler, PagePlanner, Reader, get_platform
from vigil.web.templating import TEMPLATES, PageRoute, navigation

__all__ = [
    "AlertHandler",
    "Audit",
    "Conditions",
    "Documents",
    "Findings",
    "Now",
    "PagePlanner",
    "PageRoute",
    "Pages",
    "Projections",
    "Reader",
    "Registry",
]


async def _registry(request: Request) -> RegistryRepository:
    return (await get_platform(request)).registry


async def _conditions(request: Request) -> ConditionRepository:
    return (await get_platform(request)).conditions


async def _projections(request: Request) -> ProjectionRepository:
    return (await get_platform(request)).projections


async def _findings(request: Request) -> FindingRepository:
    return (await get_platform(request)).findings


async def _documents(request: Request) -> DocumentRepository:
    return (await get_platform(request)).documents


async def _now(request: Request) -> float:
    return (await get_platform(request)).clock()


AuditRecorder = Callable[[Principal, str, str], None]
"""``record(principal, action, target)``: one audit row, committed through the writer."""


async def _audit(request: Request) -> AuditRecorder:
    platform = await get_platform(request)

    def record(principal: Principal, action: str, target: str) -> None:
        platform.record_access(
            principal.tenant, actor=principal.token_id, action=action, target=target
        )

    return record


Registry = Annotated[RegistryRepository, Depends(_registry)]
"""Tenants, entities and devices (read them for the caller's tenant only)."""
Conditions = Annotated[ConditionRepository, Depends(_conditions)]
"""Open and closed conditions: the alert queue's table."""
Projections = Annotated[ProjectionRepository, Depends(_projections)]
"""Latest values and downsampled history, as the operators keep them."""
Findings = Annotated[FindingRepository, Depends(_findings)]
"""Operators' durable records (a home's closed care days), newest first."""
Documents = Annotated[DocumentRepository, Depends(_documents)]
"""Versioned records people change (a day's carer plan); each save is audited."""
Now = Annotated[float, Depends(_now)]
"""The platform's clock (tests and replays set it)."""
Audit = Annotated[AuditRecorder, Depends(_audit)]
"""Records a read of personal data (a resident's page) in the audit log."""


class Pages:
    """A domain's templates, rendered in the shared layout: its own folder first, then
    the web's templates (``base.html``), with the web's filters and globals."""

    def __init__(self, folder: Path) -> None:
        core = TEMPLATES.env
        env = Environment(
            loader=ChoiceLoader([FileSystemLoader(folder), core.loader]),  # type: ignore[list-item]
            autoescape=select_autoescape(default=True),
        )
        env.filters.update(core.filters)
        env.globals.update(core.globals)
        self.templates = Jinja2Templates(env=env)

    def render(
        self,
        request: Request,
        principal: Principal,
        name: str,
        *,
        status_code: int = 200,
        **context: Any,
    ) -> Response:
        """``name`` with ``context``, the caller's navigation and the clock."""
        platform = request.app.state.platform
        context.setdefault("nav", navigation(platform, principal, request.url.path))
        context["now"] = platform.clock()
        return self.templates.TemplateResponse(request, name, context, status_code=status_code)
