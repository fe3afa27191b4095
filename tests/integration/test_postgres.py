"""The platform on a real PostgreSQL: durable across a restart, and tenants kept apart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import msgspec
import pytest

from tests.conftest import batch_json, reading, small_catalog
from vigil.config import Settings
from vigil.events import DeviceStatus, Reading
from vigil.ingest.service import IngestResult
from vigil.platform import Platform
from vigil.store.operator_state import OperatorStateRepository

pytestmark = pytest.mark.integration

DEVICE = "north.home-1.temperature"


def _settings(url: str) -> Settings:
    return Settings(store={"url": url}, engine={"checkpoint_interval_seconds": 0.2})


def _ingest(platform: Platform, body: bytes, tenant: str = "north") -> IngestResult:
    return asyncio.run(platform.ingestor.ingest(body, tenant=tenant, transport="http"))


def _status(seq: int, battery: float, *, device: str = DEVICE, when: float) -> DeviceStatus:
    tenant = device.split(".")[0]
    entity = ".".join(device.split(".")[:2])
    return DeviceStatus(
        tenant=tenant, device=device, entity=entity, seq=seq, time=when, battery=battery
    )


def _until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_restart_keeps_sequences_state_and_conditions(postgres_url: str) -> None:
    """After a restart on the same database: a re-sent batch is all duplicates, operator
    state is restored from its checkpoint (a low battery is not reported twice), and no
    condition is opened or signalled again."""
    now = time.time()
    body = batch_json(
        reading(seq=1, value=21.0, time_=now - 30),
        _status(2, 5, when=now - 20),
        reading(seq=3, value=21.5, time_=now - 10),
    )
    first = Platform(_settings(postgres_url))
    try:
        first.apply_catalog(small_catalog())
        first.start()
        result = _ingest(first, body)
        assert (result.accepted, result.rejected) == (3, [])
        assert first.wait_until_processed()
        _until(lambda: len(first.conditions.open("north")) == 1, "the battery_low condition")
        [condition] = first.conditions.open("north")
        assert condition.kind == "battery_low"
        history_before = first.conditions.history("north", condition.id)
        last_offset = first.log.next_offset - 1
    finally:
        first.stop()

    second = Platform(_settings(postgres_url))
    try:
        second.start()
        states = OperatorStateRepository(second.engine)
        for name in ("device_health", "last_value"):
            offset, runtime_state, keys = states.load(name)
            assert runtime_state is not None and keys, name
            assert offset >= last_offset, name  # everything processed before the stop
            assert second.runtime.runner(name).offset >= offset, name  # ticks go on
        assert second.runtime.runner("device_health").state_of("north", DEVICE) is not None

        again = _ingest(second, body)
        assert (again.accepted, again.duplicates) == (0, 3)
        assert second.log.count("north") == 3

        more = _ingest(second, batch_json(_status(4, 4, when=now - 5)))
        assert more.accepted == 1
        assert second.wait_until_processed()
        time.sleep(0.3)  # one checkpoint interval: a wrongly repeated condition would land
        assert [c.id for c in second.conditions.open("north")] == [condition.id]
        assert second.conditions.history("north", condition.id) == history_before
    finally:
        second.stop()


def test_tenants_are_isolated_on_postgres(postgres_url: str) -> None:
    """Two tenants' events, readings, conditions and dead letters never mix."""
    now = time.time()
    platform = Platform(_settings(postgres_url))
    try:
        platform.apply_catalog(small_catalog())
        platform.start()
        south_device = "south.home-1.temperature"
        north = _ingest(
            platform,
            batch_json(reading(seq=1, value=18.0, time_=now - 9), _status(2, 5, when=now - 8)),
        )
        south = _ingest(
            platform,
            batch_json(
                reading(south_device, seq=1, value=30.0, time_=now - 9),
                reading("south.home-1.ghost", seq=1),
            ),
            tenant="south",
        )
        assert (north.accepted, south.accepted) == (2, 1)
        crossed = _ingest(platform, batch_json(reading(south_device, seq=2)), tenant="north")
        assert [r.reason for r in crossed.rejected] == ["wrong_tenant"]
        assert platform.wait_until_processed()
        _until(lambda: len(platform.conditions.open("north")) == 1, "north's condition")

        assert (platform.log.count("north"), platform.log.count("south")) == (2, 1)
        assert [v.value for v in platform.projections.latest("south", "south.home-1")] == [30.0]
        assert platform.projections.latest("north", "south.home-1") == []
        assert platform.projections.latest("south", "north.home-1") == []
        assert platform.conditions.open("south") == []
        assert platform.dead_letters.counts("south") == {"unknown_device": 1}
        assert platform.dead_letters.counts("north") == {"wrong_tenant": 1}
        assert {e.id for e in platform.registry.entities("south")} == {
            "south.home-1",
            "south.home-2",
        }
    finally:
        platform.stop()


def test_restart_with_nothing_new_is_processed(postgres_url: str) -> None:
    """A platform restarted on a log its operators have already checkpointed reports that
    log as processed, at once."""
    first = Platform(_settings(postgres_url))
    try:
        first.apply_catalog(small_catalog())
        first.start()
        assert _ingest(first, batch_json(reading(seq=1))).accepted == 1
        assert first.wait_until_processed()
    finally:
        first.stop()
    second = Platform(_settings(postgres_url))
    try:
        second.start()
        assert second.wait_until_processed(timeout=3.0)
        assert second.runtime.processed_offset == second.log.next_offset - 1
    finally:
        second.stop()


def test_odd_sized_batches_are_logged_whole_and_in_order(postgres_url: str) -> None:
    """Batches of odd sizes through the platform's writer (the log's COPY) all land,
    each event once, in offset order, with text the COPY must not alter."""
    now = time.time()
    platform = Platform(_settings(postgres_url))
    try:
        platform.apply_catalog(small_catalog())
        platform.start()
        sent = []
        seq = 0
        for size in (1, 333, 2049, 7):
            batch = []
            for _ in range(size):
                seq += 1
                value: float | str = "door\topen\\N\n✓" if seq % 5 == 0 else seq / 7
                batch.append(reading(seq=seq, value=value, time_=now - 100 + seq / 1000))
            assert _ingest(platform, batch_json(*batch)).accepted == size
            sent += batch
        assert platform.wait_until_processed()
        assert platform.log.count("north") == len(sent)
        records = platform.log.read(0, limit=len(sent) + 100)
        # The registry's configuration events and clock ticks are in the log too.
        readings = [r.event for r in records if isinstance(r.event, Reading)]
        assert readings == sent
        assert [r.offset for r in records] == sorted(r.offset for r in records)
    finally:
        platform.stop()


NUL_FIELDS = {
    "metric": ({"metric": "temp\x00erature"}, "invalid_event"),
    "text-value": ({"value": "on\x00"}, "invalid_event"),
    "unknown-device": ({"device": "north.home-1.gh\x00st"}, "unknown_device"),
}


@pytest.mark.parametrize("case", list(NUL_FIELDS.values()), ids=list(NUL_FIELDS))
def test_nul_character_is_rejected_per_event_on_postgres(
    postgres_url: str, case: tuple[dict[str, str], str]
) -> None:
    """PostgreSQL text cannot hold NUL: an event with one in its metric, its text value
    or its (unknown) device id is rejected alone at validation, the good events on
    either side land, and its dead letter is stored (the NUL escaped in the text
    columns, kept as it came in the raw bytes)."""
    fields, reason = case
    now = time.time()
    bad = msgspec.structs.replace(reading(seq=2, time_=now - 20), **fields)
    body = batch_json(reading(seq=1, time_=now - 30), bad, reading(seq=3, time_=now - 10))
    platform = Platform(_settings(postgres_url))
    try:
        platform.apply_catalog(small_catalog())
        platform.start()
        result = _ingest(platform, body)
        assert result.accepted == 2
        assert [(r.index, r.reason) for r in result.rejected] == [(1, reason)]
        readings = [r.event for r in platform.log.read(0) if isinstance(r.event, Reading)]
        assert [event.seq for event in readings] == [1, 3]
        [letter] = platform.dead_letters.recent("north")
        assert letter.reason == reason
        assert "\x00" not in letter.detail and "\x00" not in (letter.device or "")
        assert letter.device == ("north.home-1.gh\\x00st" if "device" in fields else DEVICE)
        assert "\\u0000" in letter.raw  # the JSON of the event as it was received
        assert platform.wait_until_processed()
        assert platform.runtime.failed is None
    finally:
        platform.stop()
