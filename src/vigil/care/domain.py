"""The care domain's declaration."""

from __future__ import annotations

from vigil.domains import Domain, EntityList

domain = Domain(
    name="care",
    description="Technology-Enabled Care for councils and their NHS partners.",
    tenant_kinds=("council", "icb"),
    entity_kinds={"home": "a person's home, with its TEC sensors"},
    lists=(EntityList(slug="homes", title="Homes", kinds=("home",), tenant_kinds=("council",)),),
    demo_roles={"council": "coordinator"},
)
