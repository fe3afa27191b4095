"""A burst of HTTP ingest (issue 7, item 6): in-flight work is bounded, the rest is
answered 503 with ``Retry-After`` at once, and every 200 is in the log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import batch_json, reading
from vigil.platform import Platform
from vigil.web.app import create_app

LIMIT = 4


@pytest.fixture
async def client(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    platform.ingestor.settings = platform.settings.ingest.model_copy(
        update={"max_in_flight_requests": LIMIT, "max_admission_wait_seconds": 0.5}
    )
    token = platform.tokens.create("north", "gw", "gateway", now=platform.clock())
    app = create_app(platform, manage_platform=False)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://vigil", headers=headers
    ) as client:
        yield client


async def test_burst_beyond_the_limit_gets_503_with_retry_after(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    """With the operators behind, a burst of 10x the in-flight limit: at most ``LIMIT``
    requests are held, the others get 503 and ``Retry-After`` without waiting, and when
    the operators catch up the held ones are accepted and logged."""
    lag = [10**9]
    platform.ingestor.operator_lag = lambda: lag[0]
    platform.ingestor.settings = platform.ingestor.settings.model_copy(
        update={"max_admission_wait_seconds": 30}
    )
    devices = [f"north.home-{h}.{s}" for h in (1, 2) for s in ("temperature", "kitchen-motion")]
    bodies = [batch_json(reading(devices[i % 4], seq=1 + i // 4)) for i in range(10 * LIMIT)]

    async def post(body: bytes) -> tuple[httpx.Response, float]:
        start = time.monotonic()
        response = await client.post("/api/v1/ingest", content=body)
        return response, time.monotonic() - start

    tasks = [asyncio.create_task(post(body)) for body in bodies]
    await asyncio.sleep(0.3)
    refused = [t.result() for t in tasks if t.done()]
    assert len(refused) == 9 * LIMIT
    assert {r.status_code for r, _ in refused} == {503}
    assert all(r.headers["retry-after"] == "1" for r, _ in refused)
    assert max(seconds for _, seconds in refused) < 0.3
    assert platform.ingestor.in_flight == LIMIT
    lag[0] = 0
    held = await asyncio.wait_for(asyncio.gather(*tasks), 10)
    accepted = [r for r, _ in held if r.status_code == 200]
    assert len(accepted) == LIMIT
    assert platform.log.count("north") == sum(r.json()["accepted"] for r in accepted)
    assert platform.ingestor.peak_in_flight == LIMIT
    assert platform.ingestor.in_flight == 0


async def test_long_wait_for_the_operators_is_503_not_unbounded(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    """A request admitted while the operators stay behind is answered 503 after
    ``max_admission_wait_seconds`` instead of waiting without end; nothing is stored."""
    platform.ingestor.operator_lag = lambda: 10**9
    start = time.monotonic()
    response = await client.post("/api/v1/ingest", content=batch_json(reading(seq=1)))
    assert response.status_code == 503
    assert "retry-after" in response.headers
    assert time.monotonic() - start < 3
    assert platform.log.count("north") == 0
