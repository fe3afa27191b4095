"""The network page: readings in over HTTP, through the chained network operators, out
on ``/network`` with link figures, availability against the service level and the
explained correlation of a machine stop with the cell's radio, for the plant only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from fastapi.testclient import TestClient

from vigil.catalog import Catalog, Device, Entity, Tenant
from vigil.config import Settings
from vigil.platform import Platform
from vigil.web import create_app

MONDAY = 1793577600.0  # 2026-11-02 00:00 UTC
NOW = MONDAY + 14.5 * 3600.0


def at(minutes: float) -> float:
    return MONDAY + 14 * 3600.0 + minutes * 60.0


CATALOG = Catalog(
    tenants=(
        Tenant(id="plant", name="Body Shop Plant", kind="plant"),
        Tenant(id="north", name="North Council", kind="council"),
    ),
    entities=(
        Entity(tenant="plant", id="plant.cell-2", kind="cell", name="cell 2"),
        Entity(tenant="plant", id="plant.l1", kind="line", name="Line 1"),
        Entity(
            tenant="plant",
            id="plant.l1.m3",
            kind="machine",
            name="M3",
            parent="plant.l1",
            attributes={"ideal_cycle_s": 60.0, "cell": "plant.cell-2"},
        ),
        Entity(tenant="north", id="north.h1", kind="home", name="Flat 1"),
    ),
    devices=(
        Device(tenant="plant", id="plant.cell-2.gnb", entity="plant.cell-2", kind="gnb"),
        Device(tenant="plant", id="plant.l1.m3.plc", entity="plant.l1.m3", kind="plc"),
        Device(tenant="plant", id="plant.l1.m3.modem", entity="plant.l1.m3", kind="5g_modem"),
    ),
)


def _events() -> list[dict[str, object]]:
    """Cell 2's SINR falls at 14:01; M3's modem is silent 14:02-14:05; M3 stops 14:02:05,
    no reason, and runs again at 14:06."""
    events: list[dict[str, object]] = []
    seq = {"gnb": 0, "modem": 0, "plc": 0}

    def add(device: str, time: float, metric: str, value: object) -> None:
        seq[device] += 1
        entity = "plant.cell-2" if device == "gnb" else "plant.l1.m3"
        events.append(
            {
                "type": "reading",
                "tenant": "plant",
                "device": f"{entity}.{device}",
                "entity": entity,
                "seq": seq[device],
                "time": time,
                "metric": metric,
                "value": value,
            }
        )

    add("plc", at(0), "state", "running")
    for step in range(0, 61):
        t = at(step / 6)
        add("gnb", t, "sinr_db", 1.0 if at(1) <= t < at(5) else 18.0)
        if not at(2) < t < at(5):
            add("modem", t, "latency_ms", 9.0)
            add("modem", t, "sinr_db", 16.0)
    add("plc", at(2) + 5, "state", "down")
    add("plc", at(6), "state", "running")
    return sorted(events, key=lambda e: e["time"])  # type: ignore[arg-type, return-value]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = Settings(store={"url": f"sqlite:///{tmp_path / 'v.db'}"})
    platform = Platform(settings, clock=lambda: NOW)
    platform.apply_catalog(CATALOG)
    tokens = {
        "engineer": platform.tokens.create("plant", "eng", "engineer", now=NOW),
        "gateway": platform.tokens.create("plant", "gw", "gateway", now=NOW),
        "coordinator": platform.tokens.create("north", "coord", "coordinator", now=NOW),
    }
    with TestClient(create_app(platform)) as client:
        answer = client.post(
            "/api/v1/ingest",
            content=msgspec.json.encode({"v": 1, "events": _events()}),
            headers={"Authorization": f"Bearer {tokens['gateway']}"},
        )
        assert answer.status_code == 200, answer.text
        assert platform.wait_until_processed()
        yield client, tokens


def _get(client: TestClient, token: str, path: str) -> tuple[int, str]:
    client.cookies.set("vigil_token", token)
    page = client.get(path)
    return page.status_code, page.text


def test_network_page_lists_cells_links_and_the_correlation(
    site: tuple[TestClient, dict[str, str]],
) -> None:
    """The cell, M3's link with its class and availability, the service level per class
    and the stop the network caused, in words."""
    client, tokens = site
    status, page = _get(client, tokens["engineer"], "/network")
    assert status == 200, page
    assert "cell 2" in page and 'data-entity="plant.l1.m3"' in page
    assert "motion: 0 of 1 met 99.9999%" in page  # M3 missed it: a 3-minute outage
    assert (
        "cell 2 SINR fell at 14:01; machine M3 lost its link at 14:02 and stopped until 14:06."
        in page
    )
    assert 'data-metric="latency_ms">9' in page


def test_the_service_level_alert_is_raised_and_explained(
    site: tuple[TestClient, dict[str, str]],
) -> None:
    """The motion link missed 99.9999 %: a network_service_level alert in the engineer's
    queue, explained with the worst link and how long it was down."""
    client, tokens = site
    status, page = _get(client, tokens["engineer"], "/alerts")
    assert status == 200
    assert "cell 2: 1 of 1 motion links missed 99.9999% availability in the last hour" in page
    assert "worst: M3 link down 3 min 0 s." in page


def test_a_council_cannot_see_the_network_page(site: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = site
    status, page = _get(client, tokens["coordinator"], "/network")
    assert status == 200 and "cell 2" not in page and "No 5G cells registered." in page
