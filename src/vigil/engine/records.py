"""What the log holds and what a runtime's pass makes durable: plain values, no SQL.

They live in the engine because they are the vocabulary of its seams
(``vigil.engine.seams``): a log source returns ``LogRecord``s, an appender takes
``Accepted`` events, a checkpoint store keeps ``Checkpoint``s and ``FindingRow``s.
The store implements those seams for SQLite and PostgreSQL; ``vigil.testing.memory``
implements them in memory.
"""

from __future__ import annotations

from typing import Any

import msgspec

from vigil.events import LogEvent, PlatformEvent


class LogRecord(msgspec.Struct, frozen=True, gc=False):
    """An event as the log holds it: its place in the log and when the platform received it."""

    offset: int
    received: float
    event: LogEvent


class Accepted(msgspec.Struct, frozen=True, gc=False):
    """An event that passed validation, with the registry numbers the log indexes on.

    The platform's own events (ticks, configuration, actions, derived events) have
    no device: their numbers are 0."""

    event: LogEvent
    received: float
    entity_number: int = 0
    device_number: int = 0


def platform_record(event: PlatformEvent, received: float) -> Accepted:
    return Accepted(event, received)


class Undecodable(msgspec.Struct, frozen=True):
    """A row of the log whose body is not an event this version can read."""

    offset: int
    received: float
    tenant: str
    body: bytes
    error: str


class LogPage(msgspec.Struct, frozen=True):
    """What a log source's ``read_page`` found after an offset, in offset order."""

    records: list[LogRecord]
    undecodable: list[Undecodable]
    last_offset: int | None
    """The largest offset read, decodable or not; None when there was nothing."""


class Checkpoint(msgspec.Struct, frozen=True):
    operator: str
    offset: int
    runtime_state: bytes
    keys: list[tuple[str, str, bytes]]
    """(tenant, key, encoded state) of every key changed since the previous checkpoint."""


class FindingRow(msgspec.Struct, frozen=True):
    id: str
    tenant: str
    entity: str
    operator: str
    kind: str
    time: float
    offset: int
    message: str
    data: dict[str, Any]
