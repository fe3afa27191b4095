"""The network page: each 5G cell, its links with their figures, availability against
the service level of each device class, and the machine stops the network caused.

Built only from ``vigil.web.api``: latest-value rows of device ``network`` (written
by ``LinkHealth`` and ``CellServiceLevel``) and the ``network_stop`` findings of
``StopAttribution``, never an operator's memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response

from vigil.factory.link import NETWORK
from vigil.web.api import Findings, PageRoute, Pages, Projections, Reader, Registry

LINK_METRICS = (
    "link",
    "link_class",
    "availability",
    "survival_violations",
    "latency_ms",
    "jitter_ms",
    "packet_loss_pct",
    "rsrp_dbm",
    "rsrq_db",
    "sinr_db",
    "throughput_mbps",
)
CELL_METRICS = ("radio", "sinr_db", "throughput_mbps")

pages = Pages(Path(__file__).with_name("templates"))
router = APIRouter(route_class=PageRoute, include_in_schema=False)


def incidents(rows: list[Any]) -> list[dict[str, Any]]:
    """Findings grouped per (cell, incident), newest first, each with its fullest words."""
    grouped: dict[tuple[str, float], dict[str, Any]] = {}
    for row in rows:
        data = row.data
        key = (str(data.get("cell")), float(data.get("incident") or row.time))
        found = grouped.setdefault(
            key, {"cell": data.get("cell_name") or key[0], "start": key[1], "stops": []}
        )
        found["stops"].append(data)
        if row.time >= found.get("time", -1.0):
            found["time"], found["message"] = row.time, row.message
    return sorted(grouped.values(), key=lambda i: -i["start"])


@router.get("/network")
def network(
    request: Request,
    principal: Reader,
    registry: Registry,
    projections: Projections,
    findings: Findings,
) -> Response:
    tenant = principal.tenant
    cells = sorted(registry.entities(tenant, kind="cell"), key=lambda e: e.id)
    links = sorted(
        (e for e in registry.entities(tenant) if isinstance(e.attributes.get("cell"), str)),
        key=lambda e: e.id,
    )
    cell_values = projections.latest_of(
        tenant, [c.id for c in cells], device=NETWORK, metrics=CELL_METRICS
    )
    for cell in cells:  # the per-class rows: sl_<class>, availability_<class>
        found = cell_values.setdefault(cell.id, {})
        for value in projections.latest(tenant, cell.id):
            if value.device == NETWORK and value.metric.startswith(("sl_", "availability_")):
                found[value.metric] = value
    link_values = projections.latest_of(
        tenant, [e.id for e in links], device=NETWORK, metrics=LINK_METRICS
    )
    by_cell: dict[str, list[Any]] = {}
    for link in links:
        by_cell.setdefault(str(link.attributes["cell"]), []).append(link)
    classes = {
        cell.id: sorted(
            m.removeprefix("sl_") for m in cell_values.get(cell.id, {}) if m.startswith("sl_")
        )
        for cell in cells
    }
    stops = findings.recent(tenant, kind="network_stop", limit=200)
    return pages.render(
        request,
        principal,
        "network.html",
        title="5G network",
        cells=[(cell, by_cell.get(cell.id, [])) for cell in cells],
        cell_values=cell_values,
        link_values=link_values,
        classes=classes,
        incidents=incidents(stops),
    )
