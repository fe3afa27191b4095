"""What operators of Vigil watch (issue 7, items 5 and 6): sequence gaps per device and
the work shed under load on ``/metrics``, the log and processed offsets on ``/healthz``."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import batch_json, reading, small_catalog
from vigil.config import Settings
from vigil.platform import Platform
from vigil.web.app import create_app

DEVICE = "north.home-1.temperature"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[TestClient, Platform, str]]:
    settings = Settings(
        store={"url": f"sqlite:///{tmp_path / 'm.db'}", "sqlite_synchronous": "NORMAL"},
        web={"metrics_public": True},
        engine={"tick_seconds": 0},  # no clock ticks: the log ends where the test left it
    )
    platform = Platform(settings)
    platform.apply_catalog(small_catalog())
    token = platform.tokens.create("north", "gw", "gateway", now=platform.clock())
    with TestClient(create_app(platform)) as client:
        yield client, platform, token


def _metric(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text, or None when it is absent."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)"
    found = re.search(rf"^{pattern}$", text, re.MULTILINE)
    return None if found is None else float(found.group(1))


def _post(client: TestClient, token: str, body: bytes) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return client.post("/api/v1/ingest", content=body, headers=headers)


def test_healthz_reports_the_log_and_processed_offsets(
    site: tuple[TestClient, Platform, str],
) -> None:
    """``/healthz``: the global log offset, how far the operators have processed it and
    the lag between them; once caught up, processed equals the log offset."""
    client, platform, token = site
    events = [reading(seq=seq) for seq in (1, 2, 3)]
    assert _post(client, token, batch_json(*events)).json()["accepted"] == 3
    assert platform.wait_until_processed()
    body = client.get("/healthz").json()
    assert body["log_offset"] == platform.log.next_offset - 1 >= 3
    assert body["processed_offset"] == body["log_offset"]
    assert body["lag"] == 0
    assert (body["status"], body["undecodable_log_records"], body["detail"]) == ("ok", 0, None)
    metrics = client.get("/metrics").text
    assert _metric(metrics, "vigil_log_offset") == body["log_offset"]
    assert _metric(metrics, "vigil_processed_offset") == body["log_offset"]
    assert _metric(metrics, "vigil_runtime_failed") == 0.0
    assert _metric(metrics, "vigil_log_records_undecodable_total") == 0.0


def test_sequence_gaps_are_on_metrics_per_device(site: tuple[TestClient, Platform, str]) -> None:
    """A device whose ``seq`` jumps (1, 2, 5, 9) has two gaps and five missing numbers
    on ``/metrics``; a device without gaps has no series."""
    client, _, token = site
    other = "north.home-1.kitchen-motion"
    events = [reading(seq=seq) for seq in (1, 2, 5, 9)]
    events += [reading(other, seq=seq, metric="motion", value=1.0) for seq in (1, 2)]
    assert _post(client, token, batch_json(*events)).json()["accepted"] == 6
    text = client.get("/metrics").text
    assert "# TYPE vigil_sequence_gaps_total counter" in text
    assert _metric(text, "vigil_sequence_gaps_total", tenant="north", device=DEVICE) == 2.0
    assert _metric(text, "vigil_sequence_missing_total", tenant="north", device=DEVICE) == 5.0
    assert _metric(text, "vigil_sequence_gaps_total", tenant="north", device=other) is None


@pytest.fixture
async def burst(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    platform.ingestor.settings = platform.settings.ingest.model_copy(
        update={"max_in_flight_requests": 1, "max_admission_wait_seconds": 0.3}
    )
    platform.settings.web.metrics_public = True
    token = platform.tokens.create("north", "gw", "gateway", now=platform.clock())
    app = create_app(platform, manage_platform=False)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://vigil", headers=headers
    ) as client:
        yield client


async def test_shed_requests_are_counted_by_cause(
    platform: Platform, burst: httpx.AsyncClient
) -> None:
    """With the operators held behind and one request allowed in flight: the held one
    is shed after its admission wait (``operator_lag``), the one beside it at once
    (``in_flight``); both are on ``/metrics``, with the in-flight peak."""
    platform.ingestor.operator_lag = lambda: 10**9
    held = asyncio.create_task(burst.post("/api/v1/ingest", content=batch_json(reading(seq=1))))
    await asyncio.sleep(0.1)
    beside = await burst.post("/api/v1/ingest", content=batch_json(reading(seq=2)))
    assert beside.status_code == 503
    assert (await held).status_code == 503
    text = (await burst.get("/metrics")).text
    assert _metric(text, "vigil_ingest_overloaded_total", cause="in_flight") == 1.0
    assert _metric(text, "vigil_ingest_overloaded_total", cause="operator_lag") == 1.0
    assert _metric(text, "vigil_ingest_overloaded_total", cause="admission_wait") == 0.0
    assert _metric(text, "vigil_ingest_in_flight_peak") == 1.0
    assert _metric(text, "vigil_ingest_in_flight") == 0.0
    assert _metric(text, "vigil_live_streams_refused_total") == 0.0
    assert _metric(text, "vigil_live_updates_dropped_total") == 0.0
