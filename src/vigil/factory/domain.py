"""The factory domain's declaration."""

from __future__ import annotations

from typing import Any

from vigil.config import Settings
from vigil.domains import Column, Domain, EntityList, NavLink
from vigil.engine.operator import KeyedOperator
from vigil.factory import attribution, cell
from vigil.factory.attribution import StopAttribution
from vigil.factory.cell import CellServiceLevel
from vigil.factory.line import LineOEE
from vigil.factory.link import LinkHealth
from vigil.factory.machine import CONDITION_KINDS, DEVICE, MachineOEE
from vigil.factory.network_pages import router as network_router
from vigil.factory.pages import router
from vigil.factory.service_levels import ServiceLevel

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


def service_levels(settings: Settings) -> dict[str, ServiceLevel]:
    """The device classes of the plant's configuration (``[network.service_levels]``)."""
    return {
        name: ServiceLevel(**level.model_dump())
        for name, level in settings.network.service_levels.items()
    }


def operators(settings: Settings) -> list[KeyedOperator[Any]]:
    """Machine state and OEE, the line roll-up; link health, then what consumes it."""
    levels, window = service_levels(settings), settings.network.window_seconds
    return [
        MachineOEE(),
        LineOEE(),
        LinkHealth(service_levels=levels, window_seconds=window),
        CellServiceLevel(service_levels=levels, window_seconds=window),
        StopAttribution(),
    ]


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
    routers=(router, network_router),
    navigation=(
        NavLink(href="/plant", title="Plant", tenant_kinds=("plant",)),
        NavLink(href="/network", title="Network", tenant_kinds=("plant",)),
    ),
    condition_kinds={**CONDITION_KINDS, **cell.CONDITION_KINDS, **attribution.CONDITION_KINDS},
    demo_roles={"plant": "engineer"},
)
