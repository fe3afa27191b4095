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
from typing import Annotated, Any, Final, Literal

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
"""What a device may send: the wire schema."""
EVENT_TYPES: Final[tuple[type[_Event], ...]] = (Reading, DeviceStatus, Alarm)


# -- what the platform itself writes into the log ---------------------------------------
#
# Everything that changes an outcome is in the log, so that a replay reproduces every
# output: the passing of time, configuration, people's actions on alerts, and the
# events operators derive for each other. None of these come from devices; ingest
# never accepts them on the wire.


class _PlatformEvent(
    msgspec.Struct, kw_only=True, frozen=True, tag_field="type", omit_defaults=True, gc=False
):
    tenant: str
    time: float

    @property
    def timestamp(self) -> float:
        return self.time


class Tick(_PlatformEvent, tag="tick"):
    """The tenant's clock has reached ``time``: timers fire even when every device is quiet.

    Written from the wall clock in live operation; replay and the simulator write
    event time instead."""


class DeviceConfigured(_PlatformEvent, tag="device_config"):
    """A device was registered, changed or (``removed``) taken out of service."""

    device: str
    entity: str
    kind: str
    heartbeat: float | None = None
    metrics: tuple[str, ...] = ()
    location: str | None = None
    removed: bool = False


class EntityConfigured(_PlatformEvent, tag="entity_config"):
    """An entity was registered or changed: name, parent, attributes ("away until")."""

    entity: str
    kind: str
    name: str = ""
    parent: str | None = None
    attributes: dict[str, str | float | int | bool | None] = {}
    removed: bool = False


ConditionChange = Literal["open", "update", "close"]
Severity = Literal["info", "warning", "critical"]


class ConditionSignal(_PlatformEvent, tag="condition"):
    """An operator opens, updates or closes the condition named by ``key``.

    ``origin`` names the operator output that raised it (``operator:offset:index``),
    so that a replay re-derives the same signal and the log keeps it once."""

    entity: str
    key: str
    change: ConditionChange
    kind: str
    severity: Severity = "warning"
    message: str = ""
    evidence: dict[str, Any] = {}
    route: str = "coordinator"
    """The role whose queue the condition belongs in."""
    source: str = ""
    origin: str = ""


ConditionVerb = Literal["acknowledge", "assign", "escalate", "resolve", "comment"]


class ConditionAction(_PlatformEvent, tag="condition_action"):
    """What a person did about a condition; audited, and replayed like everything else."""

    condition: str
    """The condition's id (its key and instance, as the conditions table shows it)."""
    action: ConditionVerb
    actor: str
    assignee: str | None = None
    outcome: str | None = None
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class Derived(_PlatformEvent, tag="derived"):
    """An event one operator emits for others to consume (machine state -> line OEE)."""

    entity: str
    kind: str
    data: dict[str, Any] = {}
    source: str = ""
    origin: str = ""


PlatformEvent = (
    Tick | DeviceConfigured | EntityConfigured | ConditionSignal | ConditionAction | Derived
)
LogEvent = Reading | DeviceStatus | Alarm | PlatformEvent
"""Everything the log holds: device events and the platform's own."""
PLATFORM_EVENT_TYPES: Final = (
    Tick,
    DeviceConfigured,
    EntityConfigured,
    ConditionSignal,
    ConditionAction,
    Derived,
)
DERIVED_TYPES: Final = (ConditionSignal, Derived)
"""Events that operators emit; the runtime appends them to the log."""


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
_json_log_event = msgspec.json.Decoder(LogEvent)


def decode_batch_json(data: bytes) -> Batch:
    return _json_batch.decode(data)


def decode_raw_batch_json(data: bytes) -> RawBatch:
    return _json_raw_batch.decode(data)


def decode_event_json(data: bytes | msgspec.Raw) -> Event:
    return _json_event.decode(data)


def decode_log_event_json(data: bytes | str | msgspec.Raw) -> LogEvent:
    """An event as the log stores it: device events and the platform's own."""
    return _json_log_event.decode(data)


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
