"""Input that used to stop ingest (issue 7, items 1-4): every payload ends either
accepted or refused with a reason and a dead letter, never with an unexpected error.

- Deep nesting and malformed bytes after an invalid event are ``malformed``, not a
  ``RecursionError`` or an uncaught ``DecodeError``.
- Non-finite numbers are refused at ingest, JSON and MessagePack alike, so the log
  never holds a ``null`` where a number should be.
- What a store cannot hold (a NUL character) is refused per event; good events in
  the same batch land, and the dead letter itself can always be written.
"""

from __future__ import annotations

import math
import time

import msgspec
import pytest

from tests.conftest import reading
from vigil.errors import MalformedPayload
from vigil.events import Reading, encode_msgpack
from vigil.platform import Platform

DEEP = 5000


def _event(seq: int, **fields: object) -> dict[str, object]:
    return {**msgspec.to_builtins(reading(seq=seq, time_=time.time() - 60 + seq)), **fields}


POISON = {
    "deep-events": b'{"v":1,"events":' + b"[" * DEEP + b"]" * DEEP + b"}",
    "deep-unknown-field": b'{"v":1,"x":' + b"[" * DEEP + b"]" * DEEP + b',"events":[]}',
    "deep-bare": b'{"type":"reading","x":' + b"[" * DEEP + b"]" * DEEP + b"}",
    "invalid-then-garbage": b'{"v":1,"events":[{"type":"nope"} x]}',
    "bare-then-garbage": msgspec.json.encode(_event(1)) + b" trailing",
}


@pytest.mark.parametrize("body", list(POISON.values()), ids=list(POISON))
async def test_poison_json_is_malformed_and_kept(platform: Platform, body: bytes) -> None:
    """Each poison body is refused as ``malformed`` with a dead letter and a count."""
    with pytest.raises(MalformedPayload):
        await platform.ingestor.ingest(body, tenant="north", transport="test")
    assert platform.dead_letters.counts("north") == {"malformed": 1}
    assert platform.ingestor.counters.rejected[("test", "malformed")] == 1


async def test_deep_msgpack_is_malformed(platform: Platform) -> None:
    """MessagePack nested thousands deep is ``malformed`` too."""
    body = b"\x82\xa1v\x01\xa6events\x91" + b"\x91" * DEEP + b"\x90"
    with pytest.raises(MalformedPayload):
        await platform.ingestor.ingest(body, tenant="north", transport="test", format="msgpack")
    assert platform.dead_letters.counts("north") == {"malformed": 1}


@pytest.mark.parametrize(
    ("field", "value"),
    [("value", math.nan), ("value", math.inf), ("value", -math.inf), ("time", math.nan)],
    ids=["value-nan", "value-inf", "value-minus-inf", "time-nan"],
)
async def test_non_finite_msgpack_number_is_rejected(
    platform: Platform, field: str, value: float
) -> None:
    """A MessagePack NaN or infinity is ``invalid_event`` naming the field; the good
    event beside it lands, and the log holds no ``null``."""
    body = encode_msgpack({"v": 1, "events": [_event(1), _event(2, **{field: value})]})
    result = await platform.ingestor.ingest(
        body, tenant="north", transport="test", format="msgpack"
    )
    assert result.accepted == 1
    [rejection] = result.rejected
    assert (rejection.index, rejection.reason) == (1, "invalid_event")
    assert f"`{field}`" in rejection.detail
    assert platform.dead_letters.counts("north") == {"invalid_event": 1}
    assert [r.event.seq for r in platform.log.read(0) if isinstance(r.event, Reading)] == [1]
    assert platform.wait_until_processed(10)
    assert platform.runtime.failed is None


async def test_json_number_out_of_range_is_rejected(platform: Platform) -> None:
    """JSON cannot spell NaN; ``1e999`` (infinity) is refused as ``invalid_event``."""
    good = msgspec.json.encode(_event(1))
    infinite = msgspec.json.encode(_event(2)).replace(b"21.5", b"1e999")
    body = b'{"v":1,"events":[' + good + b"," + infinite + b"]}"
    result = await platform.ingestor.ingest(body, tenant="north", transport="test")
    assert result.accepted == 1
    assert [(r.index, r.reason) for r in result.rejected] == [(1, "invalid_event")]


@pytest.mark.parametrize(
    "fields",
    [{"metric": "temp\x00erature"}, {"value": "on\x00"}, {"unit": "C\x00"}],
    ids=["metric", "text-value", "unit"],
)
async def test_nul_character_is_rejected_per_event(
    platform: Platform, fields: dict[str, object]
) -> None:
    """A NUL character (PostgreSQL text cannot hold one) rejects that event alone."""
    body = msgspec.json.encode({"v": 1, "events": [_event(1), _event(2, **fields)]})
    result = await platform.ingestor.ingest(body, tenant="north", transport="test")
    assert result.accepted == 1
    [rejection] = result.rejected
    assert (rejection.index, rejection.reason) == (1, "invalid_event")
    assert "NUL" in rejection.detail


async def test_dead_letter_of_unknown_device_with_nul_is_storable(platform: Platform) -> None:
    """An unknown device id with a NUL character is dead-lettered, escaped."""
    body = msgspec.json.encode(_event(1, device="north.home-1.gh\x00st"))
    result = await platform.ingestor.ingest(body, tenant="north", transport="test")
    assert [r.reason for r in result.rejected] == ["unknown_device"]
    [letter] = platform.dead_letters.recent("north")
    assert letter.device == "north.home-1.gh\\x00st"
    assert "\x00" not in letter.detail
