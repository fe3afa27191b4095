"""The factory domain's declaration."""

from __future__ import annotations

from typing import Any

from vigil.config import Settings
from vigil.domains import Column, Domain, EntityList, NavLink
from vigil.engine.operator import KeyedOperator
from vigil.factory.line import LineOEE
from vigil.factory.machine import CONDITION_KINDS, DEVICE, MachineOEE
from vigil.factory.pages import router

OEE_COLUMNS = tuple(
    Column(title=title, device=DEVICE, metric=metric)
    for title, metric in (
        ("State", "state"),
        ("OEE", "oee"),
        ("Availability", "availability"),
        ("Performance", "performance"),
        ("Quality", "quality"),
    )
)
"""What the machine and line lists show of each: state and OEE for the shift."""


def operators(settings: Settings) -> list[KeyedOperator[Any]]:
    """Machine state and OEE, then the line roll-up that consumes what it derives."""
    return [MachineOEE(), LineOEE()]


domain = Domain(
    name="factory",
    description="Machines, lines and the 5G cells they depend on.",
    tenant_kinds=("plant",),
    entity_kinds={
        "machine": "a machine on a line",
        "line": "a production line",
        "cell": "a 5G radio cell",
    },
    operators=operators,
    lists=(
        EntityList(
            slug="machines",
            title="Machines",
            kinds=("machine",),
            tenant_kinds=("plant",),
            columns=OEE_COLUMNS,
        ),
        EntityList(
            slug="lines",
            title="Lines",
            kinds=("line",),
            tenant_kinds=("plant",),
            columns=OEE_COLUMNS,
        ),
        EntityList(slug="cells", title="5G cells", kinds=("cell",), tenant_kinds=("plant",)),
    ),
    routers=(router,),
    navigation=(NavLink(href="/plant", title="Plant", tenant_kinds=("plant",)),),
    condition_kinds=CONDITION_KINDS,
    demo_roles={"plant": "engineer"},
)
