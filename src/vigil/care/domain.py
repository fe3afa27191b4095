"""The care domain's declaration."""

from __future__ import annotations

from typing import Any

from vigil.care.monitor import CONDITION_KINDS, CareMonitor
from vigil.config import Settings
from vigil.domains import Domain, EntityList, NavLink
from vigil.engine.operator import KeyedOperator


def operators(settings: Settings) -> list[KeyedOperator[Any]]:
    return [CareMonitor()]


def _routers() -> tuple[object, ...]:
    """The caseload, resident and carer-plan pages and API (imported here: the web
    toolkit is only needed to serve)."""
    from vigil.care.pages import api, router
    from vigil.care.plan_actions import router as plan_actions
    from vigil.care.plan_pages import router as plan_router
    from vigil.care.resident_pages import api as resident_api
    from vigil.care.resident_pages import router as resident_router

    return (router, api, resident_router, resident_api, plan_router, plan_actions)


domain = Domain(
    name="care",
    description="Technology-Enabled Care for councils and their NHS partners.",
    tenant_kinds=("council", "icb"),
    entity_kinds={"home": "a person's home, with its TEC sensors"},
    operators=operators,
    lists=(EntityList(slug="homes", title="Homes", kinds=("home",), tenant_kinds=("council",)),),
    navigation=(
        NavLink(href="/caseload", title="Caseload", tenant_kinds=("council",)),
        NavLink(href="/plan", title="Carer plan", tenant_kinds=("council",)),
    ),
    routers=_routers(),
    condition_kinds=CONDITION_KINDS,
    demo_roles={"council": "coordinator"},
)
