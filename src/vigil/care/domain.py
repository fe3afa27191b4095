"""The care domain's declaration."""

from __future__ import annotations

from vigil.care.plan_pages import router as plan_router
from vigil.domains import Domain, EntityList, NavLink

domain = Domain(
    name="care",
    description="Technology-Enabled Care for councils and their NHS partners.",
    tenant_kinds=("council", "icb"),
    entity_kinds={"home": "a person's home, with its TEC sensors"},
    lists=(EntityList(slug="homes", title="Homes", kinds=("home",), tenant_kinds=("council",)),),
    demo_roles={"council": "coordinator"},
    routers=(plan_router,),
    nav=(NavLink(path="/plan", title="Carer plan", tenant_kinds=("council",)),),
)
