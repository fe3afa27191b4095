"""Deciding, event by event, whether to accept: pure, so every rule is testable alone."""

from __future__ import annotations

import math
from enum import StrEnum

import msgspec

from vigil.events import Alarm, Event, Reading
from vigil.ingest.directory import DeviceDirectory, SequenceTracker
from vigil.store.event_log import UNDECODABLE
from vigil.store.registry import DeviceRef


class Reason(StrEnum):
    """Why input was rejected. Stable codes: devices and dashboards match on them."""

    MALFORMED = "malformed"
    INVALID_EVENT = "invalid_event"
    UNSUPPORTED_VERSION = "unsupported_version"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    BATCH_TOO_LARGE = "batch_too_large"
    WRONG_TENANT = "wrong_tenant"
    UNKNOWN_DEVICE = "unknown_device"
    ENTITY_MISMATCH = "entity_mismatch"
    WRONG_TOPIC = "wrong_topic"
    DUPLICATE = "duplicate"
    OUT_OF_ORDER = "out_of_order"
    TIME_IN_FUTURE = "time_in_future"
    TIME_TOO_OLD = "time_too_old"
    STORE_REJECTED = "store_rejected"
    """The database refused a message that passed validation (MQTT: kept, then acknowledged)."""
    INTERNAL_ERROR = "internal_error"
    """A bug in Vigil; the message is kept as a dead letter so that it is not lost silently."""
    NO_BIRTH = "no_birth"
    """Sparkplug: data (or a DBIRTH, DDEATH) from an edge node or device with no live birth."""
    UNKNOWN_ALIAS = "unknown_alias"
    """Sparkplug: a metric alias or name that no BIRTH of the session defined."""
    STALE_DEATH = "stale_death"
    """Sparkplug: an NDEATH whose bdSeq is not the current NBIRTH's (an earlier session's
    Will, delivered late); ignored, and kept so that it can be seen."""
    UNKNOWN_NODE = "unknown_node"
    """OPC UA: a configured node the server does not have, or will not let Vigil monitor."""
    UNREACHABLE = "unreachable"
    """Prometheus scraping: a target that could not be fetched (connection, timeout, HTTP
    status); kept once per run of failures."""
    UNDECODABLE_LOG_RECORD = UNDECODABLE
    """Not from a sender: a record in the log that the operators cannot decode, set
    aside (transport ``log``, source ``event_log:{offset}``) so that they go on."""


class Rejection(msgspec.Struct, frozen=True, kw_only=True):
    index: int | None
    """Position of the event in its batch; None when the whole payload was refused."""
    reason: Reason
    detail: str
    device: str | None = None


class TimeWindow(msgspec.Struct, frozen=True):
    max_future: float
    max_past: float


_NUL = "\x00"


def unstorable(event: Event) -> str | None:
    """Why the log could not hold ``event`` faithfully, or None.

    msgspec accepts a MessagePack NaN or infinity as a float, and the log's JSON
    would keep it as ``null``, which no operator can read back. PostgreSQL text
    cannot hold a NUL character. Both are refused here, per event, so neither
    reaches the store (where it would fail the whole batch) nor the operators.
    Identifiers are checked against the registry, which holds neither.

    >>> from vigil.events import Reading
    >>> unstorable(Reading(tenant="t", device="d", entity="e", seq=1, time=float("nan"),
    ...                    metric="m", value=1.0))
    '`time` is nan: only finite numbers are accepted'
    """
    when = event.time
    if type(when) is float and not math.isfinite(when):
        return f"`time` is {when}: only finite numbers are accepted"
    if isinstance(event, Reading):
        value = event.value
        if type(value) is float:
            if not math.isfinite(value):
                return f"`value` is {value}: only finite numbers are accepted"
        elif type(value) is str and _NUL in value:
            return "`value` contains a NUL character"
        if _NUL in event.metric:
            return "`metric` contains a NUL character"
        if event.unit is not None and _NUL in event.unit:
            return "`unit` contains a NUL character"
    elif isinstance(event, Alarm):
        if _NUL in event.alarm:
            return "`alarm` contains a NUL character"
        if event.detail is not None and _NUL in event.detail:
            return "`detail` contains a NUL character"
    return None


def storable_text(text: str) -> str:
    r"""``text`` with NUL characters escaped, for dead letters and replies.

    >>> storable_text("gh\x00st")
    'gh\\x00st'
    """
    return text.replace(_NUL, "\\x00") if _NUL in text else text


def check_event(
    event: Event,
    *,
    tenant: str,
    now: float,
    window: TimeWindow,
    directory: DeviceDirectory,
    expected_device: str | None = None,
) -> tuple[DeviceRef | None, Reason | None, str]:
    """The device's registry entry if ``event`` may be accepted, else a reason and a detail.

    Sequence numbers are checked separately (``check_sequence``) because that
    check claims the number.
    """
    problem = unstorable(event)
    if problem is not None:
        return None, Reason.INVALID_EVENT, problem
    if event.tenant != tenant:
        return (
            None,
            Reason.WRONG_TENANT,
            (f"event is for tenant {event.tenant!r} but the credentials are for {tenant!r}"),
        )
    if expected_device is not None and event.device != expected_device:
        return (
            None,
            Reason.WRONG_TOPIC,
            (
                f"event names device {event.device!r} but was published on the topic "
                f"of {expected_device!r}"
            ),
        )
    ref = directory.get(tenant, event.device)
    if ref is None:
        return None, Reason.UNKNOWN_DEVICE, f"device {event.device!r} is not registered"
    if ref.entity != event.entity:
        return (
            None,
            Reason.ENTITY_MISMATCH,
            (f"device {event.device!r} belongs to {ref.entity!r}, not {event.entity!r}"),
        )
    timestamp = event.timestamp
    if timestamp > now + window.max_future:
        return (
            None,
            Reason.TIME_IN_FUTURE,
            (
                f"event time is {timestamp - now:.0f} s ahead of the platform clock "
                f"(limit {window.max_future:.0f} s); check the device clock"
            ),
        )
    if timestamp < now - window.max_past:
        return (
            None,
            Reason.TIME_TOO_OLD,
            (
                f"event time is {(now - timestamp) / 86400:.1f} days old "
                f"(limit {window.max_past / 86400:.1f} days)"
            ),
        )
    return ref, None, ""


def check_sequence(
    event: Event, sequences: SequenceTracker
) -> tuple[int | None, Reason | None, str]:
    """Claims ``event.seq`` if it is new; returns the previous claim for roll-back."""
    last = sequences.last(event.tenant, event.device)
    if last is not None and event.seq <= last:
        if event.seq == last:
            return last, Reason.DUPLICATE, f"sequence {event.seq} was already accepted"
        # Older than the newest: either a re-send or a late one; the caller looks it up.
        return (
            last,
            Reason.OUT_OF_ORDER,
            (f"sequence {event.seq} is older than the newest accepted ({last})"),
        )
    sequences.claim(event.tenant, event.device, event.seq)
    return last, None, ""
