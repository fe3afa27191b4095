"""The wire schema: every event a device, gateway or the platform itself emits.

Shared by transports, the event log, operators and the simulator, so that a
recorded data set, a simulated region and a live device travel one path.

Schema version 1. A batch is ``{"v": 1, "events": [...]}``; each event is a JSON
object (or MessagePack map) whose ``type`` field picks one of the structs below.
Every event carries ``tenant``, ``device``, ``entity`` (the home, machine or cell
it describes), ``time`` (event time, RFC 3339 with an offset, or epoch seconds)
and ``seq`` (per-device sequence number, strictly increasing).

>>> import msgspec
>>> batch = decode_batch_json(
...     b'{"v": 1, "events": [{"type": "reading", "tenant": "north", '
...     b'"device": "d1", "entity": "home-1", "seq": 1, '
...     b'"time": "2026-11-26T08:10:00Z", "metric": "motion", "value": 1}]}'
... )
>>> batch.events[0].metric, batch.events[0].value
('motion', 1.0)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Final, Literal

import msgspec

SCHEMA_VERSION: Final = 1

Identifier = Annotated[
    str, msgspec.Meta(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:\-]+$")
]
"""How registered tenants, entities and devices are named."""
Reference = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
"""An id on the wire. Not pattern-checked here: ingest looks every one up in the
registry, which rejects anything that is not a registered id."""
Metric = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Sequence = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
EventTime = Annotated[datetime, msgspec.Meta(tz=True)] | float
"""RFC 3339 timestamp with an offset, or seconds since the Unix epoch."""


class _Event(
    msgspec.Struct, kw_only=True, frozen=True, tag_field="type", omit_defaults=True, gc=False
):
    # gc=False: scalar fields only, so never in a cycle; the collector need not visit
    # the hundreds of thousands of events in flight.
    tenant: Reference
    device: Reference
    entity: Reference
    seq: Sequence
    time: EventTime

    @property
    def timestamp(self) -> float:
        """Event time as seconds since the Unix epoch."""
        return event_timestamp(self.time)


class Reading(_Event, tag="reading"):
    """One sensor value: numeric (``21.5``), binary (``1``/``0``) or a state (``"running"``)."""

    metric: Metric
    value: float | str | bool
    unit: Annotated[str, msgspec.Meta(max_length=16)] | None = None


class DeviceStatus(_Event, tag="status"):
    """How the device itself is: battery, radio signal, online or going offline."""

    battery: Annotated[float, msgspec.Meta(ge=0, le=100)] | None = None
    signal_dbm: Annotated[float, msgspec.Meta(ge=-200, le=50)] | None = None
    online: bool | None = None


class Alarm(_Event, tag="alarm"):
    """Something a person or a device raised on purpose: a pendant press, a fall, smoke."""

    alarm: Metric
    severity: Literal["info", "warning", "critical"] = "critical"
    detail: Annotated[str, msgspec.Meta(max_length=500)] | None = None


Event = Reading | DeviceStatus | Alarm
EVENT_TYPES: Final[tuple[type[_Event], ...]] = (Reading, DeviceStatus, Alarm)


class Batch(msgspec.Struct, kw_only=True, frozen=True):
    v: Literal[1] = 1
    events: list[Event]


class RawBatch(msgspec.Struct, kw_only=True, frozen=True):
    """A batch whose events are not yet decoded: lets one bad event be rejected alone."""

    v: int = 1
    events: list[msgspec.Raw]


def event_timestamp(value: datetime | float) -> float:
    if type(value) is float:
        return value
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def with_epoch_time(event: Event) -> Event:
    """The same event with its time as epoch seconds, as the log keeps it."""
    if type(event.time) is float:
        return event
    return msgspec.structs.replace(event, time=event_timestamp(event.time))


def utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


_json_batch = msgspec.json.Decoder(Batch)
_json_raw_batch = msgspec.json.Decoder(RawBatch)
_json_event = msgspec.json.Decoder(Event)
_msgpack_batch = msgspec.msgpack.Decoder(Batch)
_msgpack_raw_batch = msgspec.msgpack.Decoder(RawBatch)
_msgpack_event = msgspec.msgpack.Decoder(Event)
_json_encoder = msgspec.json.Encoder()
_msgpack_encoder = msgspec.msgpack.Encoder()


def decode_batch_json(data: bytes) -> Batch:
    return _json_batch.decode(data)


def decode_raw_batch_json(data: bytes) -> RawBatch:
    return _json_raw_batch.decode(data)


def decode_event_json(data: bytes | msgspec.Raw) -> Event:
    return _json_event.decode(data)


def decode_batch_msgpack(data: bytes) -> Batch:
    return _msgpack_batch.decode(data)


def decode_raw_batch_msgpack(data: bytes) -> RawBatch:
    return _msgpack_raw_batch.decode(data)


def decode_event_msgpack(data: bytes | msgspec.Raw) -> Event:
    return _msgpack_event.decode(data)


def encode_json(value: object) -> bytes:
    return _json_encoder.encode(value)


def encode_msgpack(value: object) -> bytes:
    return _msgpack_encoder.encode(value)
