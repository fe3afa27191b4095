"""An alert is announced live only once the store has it: the alert queue reloads on
the announcement, and must find what it was told about (a race that once left the
browser test's queue showing an alert as open after it had escalated)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

from tests.conftest import batch_json
from tests.engine.scenario import BATTERY_DEVICE
from vigil.engine.keyed import Emitted
from vigil.events import DeviceStatus
from vigil.platform import Platform


def test_condition_changes_are_in_the_store_when_announced(platform: Platform) -> None:
    seen: list[tuple[str, str, str | None]] = []
    announced = threading.Event()

    def sink(operator: str, emitted: Sequence[Emitted]) -> None:
        for item in emitted:
            if item.output.kind != "condition":
                continue
            data = item.output.data
            row = platform.conditions.get(item.output.tenant, data["id"])
            seen.append((data["id"], data["status"], None if row is None else row.status))
            announced.set()

    platform.runtime.add_sink(sink)
    low = DeviceStatus(
        tenant="north",
        device=BATTERY_DEVICE,
        entity="north.home-1",
        seq=1,
        time=platform.clock() - 5,
        battery=4.0,
    )
    body = batch_json(low)
    result = asyncio.run(platform.ingestor.ingest(body, tenant="north", transport="http"))
    assert result.accepted == 1
    assert announced.wait(10)
    [(condition, status, stored)] = seen
    assert condition.startswith("battery_low:")
    assert stored == status == "open"
