"""Bad input never crashes anything and is never silently dropped.

Each kind of bad input is refused with a stable reason, counted, and kept as a
dead letter that people can read, while the good events beside it land.
"""

from __future__ import annotations

import asyncio
import time

import msgspec
import pytest

from tests.conftest import batch_json, reading
from vigil.errors import IngestError, MalformedPayload, PayloadTooLarge
from vigil.events import Batch, DeviceStatus, encode_msgpack
from vigil.platform import Platform


async def ingest(platform: Platform, body: bytes, tenant: str = "north", **kw: object):
    return await platform.ingestor.ingest(body, tenant=tenant, transport="test", **kw)  # type: ignore[arg-type]


def dead_reasons(platform: Platform, tenant: str = "north") -> dict[str, int]:
    return platform.dead_letters.counts(tenant)


async def test_good_batch_is_accepted_and_logged(platform: Platform) -> None:
    """A valid batch is accepted in full and every event reaches the log."""
    result = await ingest(platform, batch_json(reading(seq=1), reading(seq=2)))
    assert (result.accepted, result.rejected) == (2, [])
    assert platform.log.count("north") == 2


async def test_single_event_without_batch_envelope(platform: Platform) -> None:
    """A small device may post one bare event instead of a batch."""
    result = await ingest(platform, msgspec.json.encode(reading(seq=1)))
    assert result.accepted == 1


async def test_msgpack_batch(platform: Platform) -> None:
    """MessagePack batches decode like JSON ones."""
    body = encode_msgpack(Batch(events=[reading(seq=1), reading(seq=2)]))
    result = await ingest(platform, body, format="msgpack")
    assert result.accepted == 2


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"\xff\xfe\x00", b"[1, 2, 3]", b'{"events": "nope"}'],
    ids=["broken-json", "empty", "binary", "a-list", "events-not-a-list"],
)
async def test_malformed_payload_is_refused_whole_and_kept(platform: Platform, body: bytes) -> None:
    """An unusable payload raises MalformedPayload and leaves a dead letter with its bytes."""
    with pytest.raises(MalformedPayload):
        await ingest(platform, body)
    letters = platform.dead_letters.recent("north")
    assert letters[0].reason == "malformed"
    assert letters[0].raw == body.decode("utf-8", "backslashreplace")


@pytest.mark.parametrize(
    ("event", "fragment"),
    [
        ({"value": "21.5", "metric": 7}, "Expected `str`"),
        ({"seq": -1}, ">= 0"),
        ({"seq": "one"}, "Expected `int`"),
        ({"time": "yesterday"}, "Invalid"),
        ({"time": "2026-11-26T08:00:00"}, "timezone"),
        ({"type": "telepathy"}, "Invalid value 'telepathy'"),
    ],
    ids=["wrong-type", "negative-seq", "seq-not-int", "bad-time", "naive-time", "unknown-type"],
)
async def test_invalid_event_rejected_alone(platform: Platform, event: dict, fragment: str) -> None:
    """A schema violation rejects that one event, with msgspec's path; its neighbours land."""
    good = msgspec.to_builtins(reading(seq=1))
    bad = {**msgspec.to_builtins(reading(seq=2)), **event}
    body = msgspec.json.encode({"v": 1, "events": [good, bad]})
    result = await ingest(platform, body)
    assert result.accepted == 1
    [rejection] = result.rejected
    assert (rejection.index, rejection.reason) == (1, "invalid_event")
    assert fragment in rejection.detail and "$.events[1]" in rejection.detail
    assert dead_reasons(platform) == {"invalid_event": 1}


async def test_missing_field(platform: Platform) -> None:
    """A missing required field names the field."""
    bad = msgspec.to_builtins(reading(seq=1))
    del bad["seq"]
    result = await ingest(platform, msgspec.json.encode({"events": [bad]}))
    assert result.accepted == 0
    assert "missing required field `seq`" in result.rejected[0].detail


async def test_unknown_device(platform: Platform) -> None:
    """An unregistered device is refused by name."""
    result = await ingest(platform, batch_json(reading("north.home-1.ghost", 1)))
    assert result.rejected[0].reason == "unknown_device"
    assert "north.home-1.ghost" in result.rejected[0].detail


async def test_wrong_tenant(platform: Platform) -> None:
    """Credentials of one tenant cannot write events of another."""
    result = await ingest(platform, batch_json(reading("south.home-1.temperature", 1)), "north")
    assert result.rejected[0].reason == "wrong_tenant"
    assert platform.log.count("south") == 0
    assert dead_reasons(platform, "north") == {"wrong_tenant": 1}


async def test_entity_mismatch(platform: Platform) -> None:
    """A device may only speak for the entity it is installed in."""
    event = reading("north.home-1.temperature", 1, entity="north.home-2")
    result = await ingest(platform, batch_json(event))
    assert result.rejected[0].reason == "entity_mismatch"


async def test_duplicates_are_not_double_counted(platform: Platform) -> None:
    """Re-sending a batch accepts nothing new and says which were duplicates."""
    body = batch_json(
        reading(seq=1, time_=time.time() - 30), reading(seq=2, time_=time.time() - 20)
    )
    first = await ingest(platform, body)
    again = await ingest(platform, body)
    assert first.accepted == 2
    assert (again.accepted, again.duplicates) == (0, 2)
    assert {r.reason for r in again.rejected} == {"duplicate"}
    assert platform.log.count("north") == 2


async def test_duplicate_within_one_batch(platform: Platform) -> None:
    """The same sequence twice in one batch lands once."""
    event = reading(seq=5)
    result = await ingest(platform, batch_json(event, event))
    assert (result.accepted, result.duplicates) == (1, 1)


async def test_out_of_order_sequence(platform: Platform) -> None:
    """A sequence older than the newest accepted, never seen before, is refused as out of order."""
    await ingest(platform, batch_json(reading(seq=10)))
    result = await ingest(platform, batch_json(reading(seq=7)))
    assert result.rejected[0].reason == "out_of_order"
    assert "newest accepted (10)" in result.rejected[0].detail


async def test_older_resend_is_a_duplicate(platform: Platform) -> None:
    """Re-sending an older accepted event (not the newest) is recognised as a duplicate."""
    t = time.time() - 100
    first = reading(seq=1, time_=t)
    await ingest(platform, batch_json(first, reading(seq=2, time_=t + 1)))
    result = await ingest(platform, batch_json(first))
    assert result.rejected[0].reason == "duplicate"


@pytest.mark.parametrize(
    ("offset", "reason"),
    [(3600.0, "time_in_future"), (-400 * 86400.0, "time_too_old")],
    ids=["future", "ancient"],
)
async def test_clock_far_off(platform: Platform, offset: float, reason: str) -> None:
    """Event times far from the platform clock mean a wrong device clock: refused."""
    result = await ingest(platform, batch_json(reading(seq=1, time_=time.time() + offset)))
    assert result.rejected[0].reason == reason


async def test_oversized_body(platform: Platform) -> None:
    """A body over the limit is refused before decoding and recorded."""
    limit = platform.settings.ingest.max_body_bytes
    with pytest.raises(PayloadTooLarge):
        await ingest(platform, b"x" * (limit + 1))
    assert dead_reasons(platform) == {"payload_too_large": 1}


async def test_too_many_events_in_a_batch(platform: Platform) -> None:
    """A batch over the event limit is refused whole with a clear reason."""
    platform.ingestor.settings = platform.settings.ingest.model_copy(update={"max_batch_events": 2})
    with pytest.raises(IngestError) as caught:
        await ingest(platform, batch_json(*(reading(seq=i) for i in range(1, 4))))
    assert caught.value.reason == "batch_too_large"


async def test_unsupported_version(platform: Platform) -> None:
    """A future schema version is refused, not guessed at."""
    body = msgspec.json.encode({"v": 2, "events": [msgspec.to_builtins(reading(seq=1))]})
    with pytest.raises(IngestError) as caught:
        await ingest(platform, body)
    assert caught.value.reason in {"unsupported_version"}


async def test_counters_follow_rejections(platform: Platform) -> None:
    """Every rejection is counted by transport and reason."""
    await ingest(platform, batch_json(reading("north.home-1.ghost", 1), reading(seq=1)))
    counters = platform.ingestor.counters
    assert counters.accepted["test"] == 1
    assert counters.rejected[("test", "unknown_device")] == 1


async def test_status_and_alarm_events(platform: Platform) -> None:
    """Device status and alarm events are accepted like readings."""
    status = DeviceStatus(
        tenant="north",
        device="north.home-1.kitchen-motion",
        entity="north.home-1",
        seq=1,
        time=time.time() - 5,
        battery=80,
    )
    result = await ingest(platform, batch_json(status))
    assert result.accepted == 1


async def test_ingest_waits_while_operators_lag(platform: Platform) -> None:
    """With the operators too far behind, ingest holds new input until they catch up."""
    lag = [10]
    platform.ingestor.operator_lag = lambda: lag[0]
    platform.ingestor.settings = platform.settings.ingest.model_copy(update={"max_operator_lag": 5})
    task = asyncio.create_task(ingest(platform, batch_json(reading(seq=1))))
    await asyncio.sleep(0.05)
    assert not task.done() and platform.log.count("north") == 0
    lag[0] = 0
    result = await asyncio.wait_for(task, 2)
    assert result.accepted == 1


async def test_back_pressure_ends_when_the_runtime_reports_progress(platform: Platform) -> None:
    """Input held back by back-pressure is let in as soon as the runtime's thread
    reports that its processed offset advanced: woken, not found by polling (the
    fallback re-check is set far beyond the time allowed here)."""
    lag = [10]
    platform.ingestor.operator_lag = lambda: lag[0]
    platform.ingestor.settings = platform.settings.ingest.model_copy(update={"max_operator_lag": 5})
    platform.ingestor.recheck_seconds = 60.0
    task = asyncio.create_task(ingest(platform, batch_json(reading(seq=1))))
    await asyncio.sleep(0.05)
    assert not task.done() and platform.log.count("north") == 0

    def runtime_catches_up() -> None:  # what the runtime's thread does
        lag[0] = 0
        platform.runtime._set_processed(platform.runtime.processed_offset + 1)

    started = time.monotonic()
    await asyncio.to_thread(runtime_catches_up)
    result = await asyncio.wait_for(task, 2)
    assert result.accepted == 1
    assert time.monotonic() - started < 1.0


async def test_waiting_input_keeps_its_place(platform: Platform) -> None:
    """A message held back by back-pressure is not overtaken by a later one of the same
    device (which would then be refused as out of order)."""
    second_started = asyncio.Event()

    def lag() -> int:
        # The first message sees the operators behind until the second has arrived.
        return 0 if second_started.is_set() else 10

    platform.ingestor.operator_lag = lag
    platform.ingestor.settings = platform.settings.ingest.model_copy(update={"max_operator_lag": 5})
    now = time.time()

    async def second() -> object:
        second_started.set()
        return await ingest(platform, batch_json(reading(seq=2, time_=now - 1)))

    first_task = asyncio.create_task(ingest(platform, batch_json(reading(seq=1, time_=now - 2))))
    await asyncio.sleep(0.02)  # the first is waiting for the operators
    results = await asyncio.wait_for(asyncio.gather(first_task, second()), 2)
    assert [(r.accepted, r.rejected) for r in results] == [(1, []), (1, [])]
