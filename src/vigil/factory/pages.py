"""The plant page: every line with its machines, their OEE for the shift and their state.

Built only from ``vigil.web.api``: it reads the latest-value rows ``MachineOEE``
and ``LineOEE`` keep (device ``oee``), never an operator's memory.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response

from vigil.factory.machine import DEVICE
from vigil.web.api import PageRoute, Pages, Projections, Reader, Registry

METRICS = ("state", "oee", "availability", "performance", "quality", "top_downtime")

pages = Pages(Path(__file__).with_name("templates"))
router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/plant")
def plant(
    request: Request, principal: Reader, registry: Registry, projections: Projections
) -> Response:
    tenant = principal.tenant
    lines = registry.entities(tenant, kind="line")
    machines = registry.entities(tenant, kind="machine")
    ids = [e.id for e in (*lines, *machines)]
    values = projections.latest_of(tenant, ids, device=DEVICE, metrics=METRICS)
    by_line: dict[str | None, list[object]] = {}
    for machine in sorted(machines, key=lambda m: m.id):
        by_line.setdefault(machine.parent, []).append(machine)
    rows = [(line, by_line.pop(line.id, [])) for line in sorted(lines, key=lambda e: e.id)]
    loose = [m for group in by_line.values() for m in group]
    return pages.render(
        request,
        principal,
        "plant.html",
        title="Plant",
        rows=rows,
        loose=loose,
        values=values,
    )
