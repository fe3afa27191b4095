"""The factory domain's declaration."""

from __future__ import annotations

from vigil.domains import Domain, EntityList

domain = Domain(
    name="factory",
    description="Machines, lines and the 5G cells they depend on.",
    tenant_kinds=("plant",),
    entity_kinds={
        "machine": "a machine on a line",
        "line": "a production line",
        "cell": "a 5G radio cell",
    },
    lists=(
        EntityList(slug="machines", title="Machines", kinds=("machine",), tenant_kinds=("plant",)),
        EntityList(slug="lines", title="Lines", kinds=("line",), tenant_kinds=("plant",)),
        EntityList(slug="cells", title="5G cells", kinds=("cell",), tenant_kinds=("plant",)),
    ),
    demo_roles={"plant": "engineer"},
)
