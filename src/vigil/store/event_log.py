"""The durable event log: append accepted events, read them back in offset order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec
from sqlalchemy import Connection, Engine, func, select

from vigil.events import Alarm, DeviceStatus, Event, Reading, decode_event_json
from vigil.store.schema import dead_letters, device_sequences, event_log, latest_values
from vigil.store.upsert import positional_marker, upsert


class LogRecord(msgspec.Struct, frozen=True):
    """An event as the log holds it: its place in the log and when the platform received it."""

    offset: int
    received: float
    event: Event


class Accepted(msgspec.Struct, frozen=True):
    """An event that passed validation, with the registry numbers the log indexes on."""

    event: Event
    received: float
    entity_number: int
    device_number: int


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str | None
    received: float
    transport: str
    reason: str
    detail: str
    source: str | None = None
    device: str | None = None
    raw: bytes | None = None


_json = msgspec.json.Encoder()
_COLUMNS = ", ".join(f'"{column.name}"' for column in event_log.columns)
_SQLITE_BULK_INSERT = (
    f"INSERT INTO event_log ({_COLUMNS}) SELECT "
    + ", ".join(f"value->>{i}" for i in range(len(event_log.columns)))
    + " FROM json_each(?)"
)
"""One statement per batch, unpacked by SQLite in C: the sqlite3 module releases the
GIL around every row of an ``executemany``, and under load each re-acquisition
waits behind the other threads, which cut the insert rate four-fold."""


def _metric_and_value(event: Event) -> tuple[str | None, float | None]:
    if isinstance(event, Reading):
        value = event.value
        if isinstance(value, str):
            return event.metric, None
        return event.metric, float(value)
    if isinstance(event, Alarm):
        return event.alarm, None
    return None, None


def _bulk_insert(connection: Connection, rows: list[tuple[Any, ...]]) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(_SQLITE_BULK_INSERT, (_json.encode(rows).decode(),))
        return
    marker = positional_marker(connection)
    statement = f"INSERT INTO event_log ({_COLUMNS}) VALUES ({', '.join([marker] * len(rows[0]))})"
    connection.exec_driver_sql(
        statement, [(*row[:-1], _json.encode(row[-1]).decode()) for row in rows]
    )


class AppendJob:
    """Writes accepted events and dead letters in one transaction (a ``WriteJob``)."""

    def __init__(
        self,
        log: EventLog,
        accepted: Sequence[Accepted],
        rejected: Sequence[DeadLetter] = (),
        on_commit: Callable[[list[LogRecord]], None] | None = None,
    ) -> None:
        self.log = log
        self.accepted = accepted
        self.rejected = rejected
        self.on_commit = on_commit
        self._first_offset = 0

    def write(self, connection: Connection) -> list[LogRecord]:
        records: list[LogRecord] = []
        if self.accepted:
            self._first_offset = self.log.reserve(len(self.accepted))
            records = self.log.write_events(connection, self._first_offset, self.accepted)
        if self.rejected:
            connection.execute(
                dead_letters.insert(), [msgspec.structs.asdict(d) for d in self.rejected]
            )
        return records

    def committed(self, result: list[LogRecord]) -> None:
        if result and self.on_commit is not None:
            self.on_commit(result)

    def rolled_back(self) -> None:
        if self.accepted:
            self.log.release(self._first_offset)


class EventLog:
    """Owns offsets; only the writer thread calls ``reserve``/``write_events``/``release``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with engine.connect() as connection:
            last = connection.execute(select(func.max(event_log.c.offset))).scalar()
        self._next_offset = (last or 0) + 1

    @property
    def next_offset(self) -> int:
        return self._next_offset

    def reserve(self, count: int) -> int:
        first = self._next_offset
        self._next_offset += count
        return first

    def release(self, first: int) -> None:
        self._next_offset = min(self._next_offset, first)

    def write_events(
        self, connection: Connection, first_offset: int, accepted: Sequence[Accepted]
    ) -> list[LogRecord]:
        rows: list[tuple[Any, ...]] = []
        tag = {cls: cls.__struct_config__.tag for cls in (Reading, DeviceStatus, Alarm)}
        records: list[LogRecord] = []
        latest: dict[tuple[str, str, str], dict[str, Any]] = {}
        sequences: dict[tuple[str, str], int] = {}
        offset = first_offset
        for item in accepted:
            event = item.event
            time = event.timestamp
            metric, value = _metric_and_value(event)
            rows.append(
                (
                    offset,
                    event.tenant,
                    item.entity_number,
                    item.device_number,
                    event.seq,
                    tag[type(event)],
                    time,
                    item.received,
                    metric,
                    value,
                    event,
                )
            )
            records.append(LogRecord(offset, item.received, event))
            sequences[(event.tenant, event.device)] = event.seq
            if metric is not None and isinstance(event, Reading):
                latest[(event.tenant, event.device, metric)] = {
                    "tenant": event.tenant,
                    "device": event.device,
                    "metric": metric,
                    "entity": event.entity,
                    "value": value,
                    "text": event.value if isinstance(event.value, str) else None,
                    "time": time,
                    "offset": offset,
                }
            offset += 1
        _bulk_insert(connection, rows)
        upsert(
            connection,
            device_sequences,
            [{"tenant": t, "device": d, "last_seq": s} for (t, d), s in sequences.items()],
            keys=("tenant", "device"),
            update=("last_seq",),
        )
        upsert(
            connection,
            latest_values,
            list(latest.values()),
            keys=("tenant", "device", "metric"),
            update=("entity", "value", "text", "time", "offset"),
        )
        return records

    def last_sequence(self, tenant: str, device: str) -> int | None:
        with self.engine.connect() as connection:
            return connection.execute(
                select(device_sequences.c.last_seq).where(
                    device_sequences.c.tenant == tenant, device_sequences.c.device == device
                )
            ).scalar()

    def read(self, after_offset: int, limit: int = 10_000) -> list[LogRecord]:
        """Records with offset greater than ``after_offset``, in order."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(event_log.c.offset, event_log.c.received, event_log.c.body)
                .where(event_log.c.offset > after_offset)
                .order_by(event_log.c.offset)
                .limit(limit)
            ).all()
        return [LogRecord(o, r, decode_event_json(b)) for o, r, b in rows]

    def count(self, tenant: str) -> int:
        with self.engine.connect() as connection:
            return connection.execute(
                select(func.count()).select_from(event_log).where(event_log.c.tenant == tenant)
            ).scalar_one()

    def accepted_already(
        self, tenant: str, keys: Sequence[tuple[int, int, int, float]]
    ) -> set[tuple[int, int]]:
        """Of ``(entity_number, device_number, seq, time)``, the ``(device_number, seq)``
        already in the log. A re-sent event repeats its time, which the index covers."""
        found: set[tuple[int, int]] = set()
        with self.engine.connect() as connection:
            for entity_number, device_number, seq, time in keys:
                hit = connection.execute(
                    select(event_log.c.offset).where(
                        event_log.c.tenant == tenant,
                        event_log.c.entity_number == entity_number,
                        event_log.c.time == time,
                        event_log.c.device_number == device_number,
                        event_log.c.seq == seq,
                    )
                ).first()
                if hit is not None:
                    found.add((device_number, seq))
        return found

    def sequences(self) -> list[tuple[str, str, int]]:
        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(select(device_sequences))]  # type: ignore[misc]
