"""The plant's pages show live OEE: readings in over HTTP, through the operators, out on
``/plant``, ``/machines`` and a machine's page, for the engineer's tenant only."""

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
NOW = MONDAY + 9 * 3600.0


def at(hours: float, minutes: float = 0.0) -> float:
    return MONDAY + hours * 3600.0 + minutes * 60.0


CATALOG = Catalog(
    tenants=(
        Tenant(id="plant", name="Body Shop Plant", kind="plant"),
        Tenant(id="north", name="North Council", kind="council"),
    ),
    entities=(
        Entity(tenant="plant", id="plant.l1", kind="line", name="Line 1"),
        *(
            Entity(
                tenant="plant",
                id=f"plant.l1.m{n}",
                kind="machine",
                name=f"Press {n}",
                parent="plant.l1",
                attributes={"ideal_cycle_s": 60.0},
            )
            for n in (1, 2)
        ),
        Entity(tenant="north", id="north.h1", kind="home", name="Flat 1"),
    ),
    devices=tuple(
        Device(
            tenant="plant",
            id=f"plant.l1.m{n}.plc",
            entity=f"plant.l1.m{n}",
            kind="plc",
            metrics=("state", "downtime_reason", "cycle_count", "good_count", "reject_count"),
            heartbeat=600.0,
        )
        for n in (1, 2)
    ),
)


def _reading(machine: int, seq: int, time: float, metric: str, value: object) -> dict[str, object]:
    return {
        "type": "reading",
        "tenant": "plant",
        "device": f"plant.l1.m{machine}.plc",
        "entity": f"plant.l1.m{machine}",
        "seq": seq,
        "time": time,
        "metric": metric,
        "value": value,
    }


def _shift_so_far() -> list[dict[str, object]]:
    """m1 runs 08:00-08:30 and makes 27 (26 good); m2 runs 10 min and then breaks down."""
    events = []
    for machine in (1, 2):
        events.append(_reading(machine, 1, at(8), "state", "running"))
        for seq, metric in enumerate(("cycle_count", "good_count", "reject_count"), start=2):
            events.append(_reading(machine, seq, at(8), metric, 0))
    events += [
        _reading(2, 5, at(8, 10), "state", "down"),
        _reading(2, 6, at(8, 10), "downtime_reason", "breakdown"),
    ]
    for machine, counts, seq in ((1, (27, 26, 1), 5), (2, (9, 9, 0), 7)):
        for n, metric in enumerate(("cycle_count", "good_count", "reject_count")):
            events.append(_reading(machine, seq + n, at(8, 30), metric, counts[n]))
    return events


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
            content=msgspec.json.encode({"v": 1, "events": _shift_so_far()}),
            headers={"Authorization": f"Bearer {tokens['gateway']}"},
        )
        assert answer.status_code == 200, answer.text
        assert platform.wait_until_processed()
        yield client, tokens


def _get(client: TestClient, token: str, path: str) -> str:
    client.cookies.set("vigil_token", token)
    page = client.get(path)
    assert page.status_code == 200, page.text
    return page.text


def test_plant_page_shows_lines_and_machines_with_oee(
    site: tuple[TestClient, dict[str, str]],
) -> None:
    """Press 1: availability 100%, performance 27 min / 30 min = 90%, quality 26/27, OEE
    26 min / 30 min; Press 2 down for a breakdown; the line sums both (PBT 60 min,
    production 40 min, 36 parts in 36 min ideal, 35 good)."""
    client, tokens = site
    text = _get(client, tokens["engineer"], "/plant")
    m1 = text.split('data-entity="plant.l1.m1"')[1].split("</tr>")[0]
    assert 'data-metric="oee">86.7<span class="unit">%</span>' in m1
    assert 'data-metric="performance">90<span class="unit">%</span>' in m1
    assert 'data-metric="quality">96.3<span class="unit">%</span>' in m1
    assert 'data-metric="state">running<' in m1
    m2 = text.split('data-entity="plant.l1.m2"')[1].split("</tr>")[0]
    assert 'data-metric="state">down: breakdown<' in m2
    assert 'data-metric="availability">33.3<span class="unit">%</span>' in m2
    line = text.split('data-entity="plant.l1"')[1].split("</tr>")[0]
    assert 'data-metric="availability">66.7<span class="unit">%</span>' in line
    assert 'data-metric="oee">58.3<span class="unit">%</span>' in line  # 35 min / 60 min
    assert 'data-metric="state">1 of 2 running, 1 down<' in line


def test_machine_list_and_page_show_oee(site: tuple[TestClient, dict[str, str]]) -> None:
    """``/machines`` has state and OEE columns; the machine's page lists the OEE rows and
    the ``machine_down`` alert raised after 20 min of breakdown."""
    client, tokens = site
    listing = _get(client, tokens["engineer"], "/machines")
    assert '<th scope="col" class="num">OEE</th>' in listing
    row = listing.split('data-entity="plant.l1.m1"')[1].split("</tr>")[0]
    assert 'data-column="oee">86.7<span class="unit">%</span>' in row
    assert 'data-column="state">running<' in row
    page = _get(client, tokens["engineer"], "/entities/plant.l1.m2")
    assert 'data-device="oee" data-metric="availability">33.3<' in page
    assert "Press 2 has been down since 08:10 (20 min), reason: breakdown." in page


def test_plant_page_is_the_callers_tenant_only(site: tuple[TestClient, dict[str, str]]) -> None:
    """A council's coordinator sees no plant's lines or machines."""
    client, tokens = site
    text = _get(client, tokens["coordinator"], "/plant")
    assert "Press 1" not in text and "No lines or machines registered." in text
