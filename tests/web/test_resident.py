"""The resident page and its API, end to end: crafted readings through HTTP ingest and
the operators into the store, read back by the page (no operator memory)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
from fastapi.testclient import TestClient

from vigil.catalog import Catalog, Device, Entity, Tenant
from vigil.config import Settings
from vigil.platform import Platform
from vigil.web.app import create_app

NOW = datetime(2026, 1, 14, 12, 0, tzinfo=UTC).timestamp()
"""A fixed clock: London is on UTC in January, so local hours are UTC hours."""
TENANT, HOME = "north", "north.h1"
DEVICES = {
    "north.h1.motion-kitchen": ("motion", "kitchen", "motion"),
    "north.h1.motion-lounge": ("motion", "lounge", "motion"),
    "north.h1.motion-bathroom": ("motion", "bathroom", "motion"),
    "north.h1.door-front": ("contact", "hall", "contact"),
    "north.h1.bed": ("bed_pressure", "bedroom", "occupied"),
    "north.h1.plug-kettle": ("smart_plug", "kitchen", "power"),
    "north.h1.temperature-lounge": ("temperature", "lounge", "temperature"),
}
CATALOG = Catalog(
    tenants=(
        Tenant(id=TENANT, name="North Council", kind="council"),
        Tenant(id="south", name="South Council", kind="council"),
    ),
    entities=(
        Entity(tenant=TENANT, id=HOME, kind="home", name="Flat 1", attributes={"resident": "R-1"}),
        Entity(tenant="south", id="south.h1", kind="home", name="South flat"),
    ),
    devices=tuple(
        Device(tenant=TENANT, id=d, entity=HOME, kind=k, location=loc, metrics=(m,))
        for d, (k, loc, m) in DEVICES.items()
    ),
)


def at(day: int, hour: float) -> float:
    """Epoch seconds of ``hour`` o'clock on 2026-01-``day``."""
    return datetime(2026, 1, day, tzinfo=UTC).timestamp() + hour * 3600


READINGS: list[tuple[float, str, float]] = [
    (at(12, 23.0), "north.h1.bed", 1.0),  # in bed before the 13th began
    (at(13, 7.5), "north.h1.bed", 0.0),
    (at(13, 8 + 5 / 60), "north.h1.motion-kitchen", 1.0),
    (at(13, 8 + 20 / 60), "north.h1.motion-kitchen", 1.0),
    (at(13, 8 + 40 / 60), "north.h1.motion-kitchen", 1.0),
    (at(13, 8 + 41 / 60), "north.h1.plug-kettle", 2000.0),
    (at(13, 8 + 44 / 60), "north.h1.plug-kettle", 0.0),
    (at(13, 9 + 10 / 60), "north.h1.motion-kitchen", 1.0),
    (at(13, 9.5), "north.h1.motion-lounge", 1.0),
    (at(13, 10.0), "north.h1.door-front", 1.0),
    (at(13, 10.0 + 20 / 3600), "north.h1.door-front", 0.0),
    (at(13, 11.5), "north.h1.door-front", 1.0),
    (at(13, 11.5 + 20 / 3600), "north.h1.door-front", 0.0),
    (at(13, 11.52), "north.h1.motion-lounge", 1.0),
    (at(13, 13.0), "north.h1.temperature-lounge", 18.5),
    (at(13, 21.0), "north.h1.motion-lounge", 1.0),
    (at(13, 22.5), "north.h1.bed", 1.0),
    (at(14, 2.5), "north.h1.motion-bathroom", 1.0),
    (at(14, 7.0), "north.h1.bed", 0.0),
    (at(14, 7.0 + 1 / 60), "north.h1.motion-bathroom", 1.0),
]


@dataclass
class Resident:
    client: TestClient
    platform: Platform
    token: str

    def get(self, path: str) -> object:
        response = self.client.get(path, headers={"Authorization": f"Bearer {self.token}"})
        assert response.status_code == 200, response.text
        return response.json()

    def page(self, path: str) -> str:
        self.client.cookies.clear()
        response = self.client.get(path, headers={"Cookie": f"vigil_token={self.token}"})
        assert response.status_code == 200, response.text
        return response.text


@pytest.fixture(scope="module")
def resident(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Resident]:
    path: Path = tmp_path_factory.mktemp("resident") / "v.db"
    settings = Settings(store={"url": f"sqlite:///{path}"}, web={"demo_login": True})
    platform = Platform(settings, clock=lambda: NOW)
    platform.apply_catalog(CATALOG, time=at(12, 12.0))
    gateway = platform.tokens.create(TENANT, "gw", "gateway", now=NOW)
    coordinator = platform.tokens.create(TENANT, "coord", "coordinator", now=NOW)
    with TestClient(create_app(platform)) as client:
        events = []
        for seq, (moment, device, value) in enumerate(sorted(READINGS), start=1):
            metric = DEVICES[device][2]
            events.append(
                {
                    "type": "reading",
                    "tenant": TENANT,
                    "device": device,
                    "entity": HOME,
                    "seq": seq,
                    "time": moment,
                    "metric": metric,
                    "value": value,
                }
            )
        body = msgspec.json.encode({"v": 1, "events": events})
        response = client.post(
            "/api/v1/ingest", content=body, headers={"Authorization": f"Bearer {gateway}"}
        )
        assert response.status_code == 200, response.text
        platform.tick(NOW)  # closes the buckets and the care day of the 13th
        deadline = time.monotonic() + 20
        while not platform.findings.recent(TENANT, entity=HOME, kind="care_day"):
            assert time.monotonic() < deadline, "the care day never closed"
            platform.wait_until_processed()
            time.sleep(0.05)
        platform.wait_until_processed()
        yield Resident(client, platform, coordinator)


def test_heatmap_counts_what_was_ingested(resident: Resident) -> None:
    """Per room, care day and local hour the API counts exactly the motion detections,
    door changes and kettle switch-ons ingested; 02:30 on the 14th is the 13th's night."""
    data = resident.get(f"/api/v1/care/residents/{HOME}/heatmap?days=14")
    assert isinstance(data, dict)
    hours = data["hours"]
    assert hours[0] == 4 and hours[-1] == 3 and len(hours) == 24
    assert data["days"][-1] == "2026-01-14" and len(data["days"]) == 14
    found = {
        (room, day, hours[i]): n
        for room, by_day in data["rooms"].items()
        for day, row in by_day.items()
        for i, n in enumerate(row)
        if n
    }
    assert found == {
        ("kitchen", "2026-01-13", 8): 4,  # three detections and the kettle switched on
        ("kitchen", "2026-01-13", 9): 1,
        ("lounge", "2026-01-13", 9): 1,
        ("hall", "2026-01-13", 10): 2,  # the front door opened and closed
        ("hall", "2026-01-13", 11): 2,
        ("lounge", "2026-01-13", 11): 1,
        ("lounge", "2026-01-13", 21): 1,
        ("bedroom", "2026-01-12", 23): 1,
        ("bedroom", "2026-01-13", 7): 1,
        ("bedroom", "2026-01-13", 22): 1,
        ("bathroom", "2026-01-13", 2): 1,
        ("bedroom", "2026-01-14", 7): 1,
        ("bathroom", "2026-01-14", 7): 1,
    }
    assert list(data["rooms"]) == ["bedroom", "bathroom", "kitchen", "lounge", "hall"]


def test_timeline_of_a_day(resident: Resident) -> None:
    """The 13th at 1-minute steps: the bed held from the night before to 07:30 and from
    22:30 to the day's end, the kettle
    on for three minutes, the front door twice, out of home from the care day's record
    between the door at 10:00 and the return at 11:30."""
    data = resident.get(f"/api/v1/care/residents/{HOME}/timeline?day=2026-01-13")
    assert isinstance(data, dict)
    assert data["resolution"] == 60
    assert data["start"] == at(13, 4.0) and data["end"] == at(14, 4.0)
    lanes = {lane["key"]: lane for lane in data["lanes"]}
    assert [lane["sort"] for lane in data["lanes"]] == [
        "room",
        "room",
        "room",
        "bed",
        "door",
        "appliance",
        "out",
    ]
    assert lanes["bed"]["spans"] == [[at(13, 4.0), at(13, 7.5)], [at(13, 22.5), at(14, 4.0)]]
    kettle = lanes["kettle"]["spans"]
    assert kettle == [[at(13, 8 + 41 / 60), at(13, 8 + 44 / 60)]]  # off in the 08:44 minute
    assert lanes["front_door"]["events"] == 4
    assert lanes["room:kitchen"]["events"] == 4
    out = lanes["out"]
    assert "record" in out["note"]
    assert out["spans"] == [[at(13, 10.0), at(13, 11.5)]]


def test_indicators_come_from_the_care_day_records(resident: Resident) -> None:
    """Each indicator's day value is the stored care_day record's (getting up at the
    first kitchen use, 08:05), with no band while fewer than five usual days exist."""
    stored = resident.platform.findings.recent(TENANT, entity=HOME, kind="care_day")
    record = next(r.data for r in stored if r.data["day"] == "2026-01-13")
    data = resident.get(f"/api/v1/care/residents/{HOME}/indicators?weeks=2")
    assert isinstance(data, dict)
    indicators = data["indicators"]
    assert list(indicators) == [
        "up",
        "bed",
        "night_bathroom",
        "kitchen_bins",
        "out_minutes",
        "min_temperature",
        "active_bins",
        "moves",
    ]
    up = indicators["up"]
    assert up["days"]["2026-01-13"] == record["up"]
    assert abs(up["days"]["2026-01-13"] - (8 + 5 / 60)) < 0.02
    assert up["band"] is None and up["latest"] == record["up"]
    assert indicators["kitchen_bins"]["days"]["2026-01-13"] == record["kitchen_bins"] * 15
    assert indicators["min_temperature"]["days"]["2026-01-13"] == 18.5
    # One day recorded: the charts span a week (not the two asked for), the others empty.
    assert len(up["days"]) == 7 and up["days"]["2026-01-12"] is None


def test_page_draws_the_charts(resident: Resident) -> None:
    """The page has a heatmap panel per room, a cell per hour with activity carrying
    its count, a text table of the same, the timeline lanes with spans, a chart per
    indicator and the day links; another council's home is not found; the read is
    audited."""
    html = resident.page(f"/residents/{HOME}?day=2026-01-13&days=14")
    assert 'data-days="7"' in html  # the days recorded: a week, not the 14 asked for
    assert html.count("data-grid") == 5  # a quiet background per room
    assert html.count("data-cell ") == 13  # a cell per hour with activity, as in the API
    assert 'data-day="2026-01-13" data-hour="8" data-count="4"' in html
    assert "Kitchen, Tue 13 Jan, 08:00 to 09:00: 4 events" in html
    assert 'data-row-day="2026-01-13" data-row-room="kitchen"' in html
    assert html.count('data-lane="') == 7
    assert len(re.findall(r"data-span>", html)) >= 8
    assert html.count("data-indicator=") == 8
    assert 'href="?day=2026-01-12"' in html and 'href="?day=2026-01-14"' in html
    assert "R-1" in html
    response = resident.client.get(
        "/residents/south.h1", headers={"Cookie": f"vigil_token={resident.token}"}
    )
    assert response.status_code == 404
    resident.platform.wait_until_processed()
    deadline = time.monotonic() + 5
    while True:
        rows = resident.platform.audit.recent(TENANT, limit=50)  # type: ignore[attr-defined]
        if any(r.action == "read_resident" and r.target == HOME for r in rows):
            break
        assert time.monotonic() < deadline, "the read was not audited"
        time.sleep(0.05)
