"""The durable event log: append accepted events, read them back in offset order."""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
from sqlalchemy import Connection, Engine, func, select

from vigil.engine.records import Accepted, LogPage, LogRecord, Undecodable, platform_record
from vigil.events import (
    EVENT_TYPES,
    Alarm,
    LogEvent,
    Reading,
    decode_log_event_json,
    event_timestamp,
)
from vigil.store.schema import dead_letters, device_sequences, devices, event_log, log_marks
from vigil.store.upsert import chunk_sizes, max_rows_per_statement, postgresql_type, upsert_rows

__all__ = [
    "LOG_TRANSPORT",
    "SEQUENCES_MARK",
    "UNDECODABLE",
    "Accepted",
    "AppendJob",
    "DeadLetter",
    "DeadLetterUndecodable",
    "EventLog",
    "LogPage",
    "LogRecord",
    "Undecodable",
    "platform_record",
]

SEQUENCES_MARK = "sequences"
UNDECODABLE = "undecodable_log_record"
"""The dead-letter reason of a log record the runtime could not decode."""
LOG_TRANSPORT = "log"
"""The dead-letter transport of such a record; its source is ``event_log:{offset}``."""


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
_SQLITE_MAX_ROWS = max_rows_per_statement(len(event_log.columns))
"""2,048 rows a statement: the largest power of two within SQLite's 32,766 parameters."""


@functools.lru_cache(maxsize=16)
def _sqlite_multi_row_insert(rows: int) -> str:
    row = "(" + ", ".join(["?"] * len(event_log.columns)) + ")"
    return f"INSERT INTO event_log ({_COLUMNS}) VALUES " + ", ".join([row] * rows)


def _insert(connection: Connection, values: list[tuple[Any, ...]]) -> None:
    """Rows in the order of ``event_log.columns``."""
    if connection.dialect.name == "sqlite":
        # Thousands of rows a statement: SQLite lets go of the GIL once per statement
        # and then waits to get it back behind the other threads, so the fewer the
        # better. ``executemany`` does that around every row (under load a tenth of
        # the throughput), and unpacking one JSON array with json_each re-parses
        # every row once per column.
        start = 0
        for size in chunk_sizes(len(values), _SQLITE_MAX_ROWS):
            chunk = values[start : start + size]
            start += size
            statement = _sqlite_multi_row_insert(size)
            connection.exec_driver_sql(statement, tuple(itertools.chain.from_iterable(chunk)))
        return
    _postgresql_copy(connection, values)


_POSTGRESQL_COPY = f"COPY event_log ({_COLUMNS}) FROM STDIN (FORMAT BINARY)"
_POSTGRESQL_TYPES = tuple(postgresql_type(column) for column in event_log.columns)
"""Binary COPY sends each value in its column's own binary form, so psycopg is told
the columns' types instead of guessing them from the Python values."""


def _postgresql_copy(connection: Connection, values: list[tuple[Any, ...]]) -> None:
    """The rows in one binary ``COPY`` through psycopg 3, inside the connection's own
    transaction.

    ``executemany`` of an INSERT cost about 7 µs of client CPU a row (psycopg's
    pipeline still builds and sends a statement per row); ``COPY`` streams the rows,
    so the client's cost is the rows' encoding alone (``benchmarks/pg_insert.py``).
    PostgreSQL's text cannot hold NUL, by COPY or by INSERT alike.
    """
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(_POSTGRESQL_COPY) as copy:
        copy.set_types(_POSTGRESQL_TYPES)
        write_row = copy.write_row
        for row in values:
            write_row(row)


_TAGS = {cls: cls.__struct_config__.tag for cls in LogEvent.__args__}  # type: ignore[attr-defined]
_DEVICE_TYPES = frozenset(EVENT_TYPES)


def _metric_and_value(event: LogEvent) -> tuple[str | None, float | None]:
    if isinstance(event, Reading):
        value = event.value
        if isinstance(value, str):
            return event.metric, None
        return event.metric, float(value)
    if isinstance(event, Alarm):
        return event.alarm, None
    return None, None


class AppendJob:
    """Writes accepted events and dead letters in one transaction (a ``WriteJob``).

    The events are staged; the writer's ``before_commit`` hook (``EventLog.flush``)
    inserts them."""

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
            records = self.log.stage(connection, self._first_offset, self.accepted)
        if self.rejected:
            connection.execute(
                dead_letters.insert(), [msgspec.structs.asdict(d) for d in self.rejected]
            )
        return records

    def committed(self, result: list[LogRecord]) -> None:
        if result:
            self.log.committed(result)
            if self.on_commit is not None:
                self.on_commit(result)

    def rolled_back(self) -> None:
        if self.accepted:
            self.log.release(self._first_offset)


class DeadLetterUndecodable:
    """A ``WriteJob``: a dead letter for each undecodable log record, once per offset
    (a restart before the next checkpoint meets the same records again)."""

    def __init__(self, records: Sequence[Undecodable], *, max_raw_bytes: int = 16_384) -> None:
        self.records = records
        self.max_raw_bytes = max_raw_bytes

    def write(self, connection: Connection) -> int:
        sources = {f"event_log:{record.offset}": record for record in self.records}
        kept = set(
            connection.execute(
                select(dead_letters.c.source).where(
                    dead_letters.c.transport == LOG_TRANSPORT,
                    dead_letters.c.source.in_(list(sources)),
                )
            ).scalars()
        )
        rows = [
            {
                "tenant": _storable(record.tenant),
                "received": record.received,
                "transport": LOG_TRANSPORT,
                "source": source,
                "reason": UNDECODABLE,
                "detail": _storable(
                    f"log record {record.offset} cannot be decoded: {record.error}; "
                    "the operators skipped it"
                ),
                "device": None,
                "raw": record.body[: self.max_raw_bytes],
            }
            for source, record in sources.items()
            if source not in kept
        ]
        if rows:
            connection.execute(dead_letters.insert(), rows)
        return len(rows)

    def committed(self, result: int) -> None:
        pass

    def rolled_back(self) -> None:
        pass


def _storable(text: str) -> str:
    return text.replace("\x00", "\\x00")


class EventLog:
    """Owns offsets and the per-device sequence marks.

    Only the writer thread calls ``reserve``, ``stage``, ``flush``, ``release`` and
    ``committed``. Sequences are persisted every ``sequences_every`` seconds, not
    per batch: two upserts per batch cost more than the events' own insert. With
    many devices each sending rarely, that would still rewrite a row per event; past
    ``sequences_free`` changed devices a save waits for ``events_per_sequence``
    events per changed device, or ``sequences_max_seconds`` (the same rule as the
    runtime's checkpoints). What is not saved yet is recovered from the log's tail.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        sequences_every: float = 2.0,
        sequences_max_seconds: float = 60.0,
        sequences_free: int = 5_000,
        events_per_sequence: float = 4.0,
    ) -> None:
        self.engine = engine
        self.sequences_every = sequences_every
        self.sequences_max_seconds = sequences_max_seconds
        self.sequences_free = sequences_free
        self.events_per_sequence = events_per_sequence
        with engine.connect() as connection:
            last = connection.execute(select(func.max(event_log.c.offset))).scalar()
        self._next_offset = (last or 0) + 1
        self._committed_offset = self._next_offset - 1
        self._staged: list[tuple[Any, ...]] = []
        self._unsaved_sequences: dict[tuple[str, str], int] = {}
        self._saving: dict[tuple[str, str], int] = {}
        self._last_saved = time.monotonic()
        self._events_since_saved = 0

    @property
    def next_offset(self) -> int:
        return self._next_offset

    def reserve(self, count: int) -> int:
        first = self._next_offset
        self._next_offset += count
        return first

    def release(self, first: int) -> None:
        self._next_offset = min(self._next_offset, first)
        self._saving = {}
        self._staged = []

    def committed(self, records: list[LogRecord]) -> None:
        self._committed_offset = records[-1].offset
        for key, seq in self._saving.items():
            if self._unsaved_sequences.get(key) == seq:
                del self._unsaved_sequences[key]
        self._saving = {}
        device_types = _DEVICE_TYPES
        self._unsaved_sequences.update(
            {
                (r.event.tenant, r.event.device): r.event.seq  # type: ignore[union-attr]
                for r in records
                if type(r.event) in device_types
            }
        )

    def stage(
        self, connection: Connection, first_offset: int, accepted: Sequence[Accepted]
    ) -> list[LogRecord]:
        """Queue rows for ``flush``, which the writer calls once per transaction: the
        whole commit group goes in together, in a few large statements."""
        rows = self._staged
        records: list[LogRecord] = []
        offset = first_offset
        encode = _json.encode
        device_types = _DEVICE_TYPES
        for item in accepted:
            event = item.event
            kind = type(event)
            if kind is Reading:  # the common case, inlined: this runs for every event
                metric = event.metric  # type: ignore[union-attr]
                reading = event.value  # type: ignore[union-attr]
                value = None if type(reading) is str else float(reading)
            else:
                metric, value = _metric_and_value(event)
            when = event.time
            rows.append(
                (
                    offset,
                    event.tenant,
                    item.entity_number,
                    item.device_number,
                    event.seq if kind in device_types else 0,  # type: ignore[union-attr]
                    _TAGS[kind],
                    when if type(when) is float else event_timestamp(when),
                    item.received,
                    metric,
                    value,
                    encode(event).decode(),
                )
            )
            records.append(LogRecord(offset, item.received, event))
            offset += 1
        self._events_since_saved += len(records)
        if self._sequences_due():
            self._save_sequences(connection)
        return records

    def _sequences_due(self) -> bool:
        elapsed = time.monotonic() - self._last_saved
        if elapsed < self.sequences_every:
            return False
        changed = len(self._unsaved_sequences)
        return (
            elapsed >= self.sequences_max_seconds
            or changed <= self.sequences_free
            or self._events_since_saved >= changed * self.events_per_sequence
        )

    def flush(self, connection: Connection) -> None:
        """Insert what was staged in this transaction."""
        if self._staged:
            rows, self._staged = self._staged, []
            _insert(connection, rows)

    def _save_sequences(self, connection: Connection) -> None:
        """Persist the sequences of everything committed so far, and mark how far that is."""
        self._saving = dict(self._unsaved_sequences)
        upsert_rows(
            connection,
            device_sequences,
            ("tenant", "device", "last_seq"),
            [(t, d, s) for (t, d), s in self._saving.items()],
            keys=("tenant", "device"),
            update=("last_seq",),
        )
        upsert_rows(
            connection,
            log_marks,
            ("name", "offset"),
            [(SEQUENCES_MARK, self._committed_offset)],
            keys=("name",),
            update=("offset",),
        )
        self._last_saved = time.monotonic()
        self._events_since_saved = 0

    def save_sequences_now(self) -> None:
        """On a clean stop: the next start need not scan the log tail."""
        with self.engine.begin() as connection:
            self._save_sequences(connection)
        self._unsaved_sequences.clear()
        self._saving = {}

    def sequences(self) -> list[tuple[str, str, int]]:
        """Highest accepted sequence per device: the saved marks plus the log after them."""
        with self.engine.connect() as connection:
            saved = {(t, d): s for t, d, s in connection.execute(select(device_sequences)).all()}
            mark = connection.execute(
                select(log_marks.c.offset).where(log_marks.c.name == SEQUENCES_MARK)
            ).scalar()
            tail = connection.execute(
                select(devices.c.tenant, devices.c.id, func.max(event_log.c.seq))
                .join(devices, devices.c.number == event_log.c.device_number)
                .where(event_log.c.offset > (mark or 0))
                .group_by(devices.c.tenant, devices.c.id)
            ).all()
        for tenant, device, seq in tail:
            saved[(tenant, device)] = max(seq, saved.get((tenant, device), seq))
        return [(t, d, s) for (t, d), s in saved.items()]

    def read(self, after_offset: int, limit: int = 10_000) -> list[LogRecord]:
        """Records with offset greater than ``after_offset``, in order (undecodable
        rows left out: ``read_page`` reports them)."""
        return self.read_page(after_offset, limit).records

    def read_page(self, after_offset: int, limit: int = 10_000) -> LogPage:
        """Up to ``limit`` rows after ``after_offset``: the records, and the rows whose
        body cannot be decoded (written by a bug, an older version, or a hand), so that
        a reader can set those aside and go on instead of failing on them for ever."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(
                    event_log.c.offset, event_log.c.received, event_log.c.tenant, event_log.c.body
                )
                .where(event_log.c.offset > after_offset)
                .order_by(event_log.c.offset)
                .limit(limit)
            ).all()
        records: list[LogRecord] = []
        undecodable: list[Undecodable] = []
        decode = decode_log_event_json
        for offset, received, tenant, body in rows:
            try:
                records.append(LogRecord(offset, received, decode(body)))
            except (msgspec.DecodeError, RecursionError, TypeError) as err:
                raw = body.encode("utf-8", "surrogateescape") if isinstance(body, str) else body
                error = "nested too deeply" if isinstance(err, RecursionError) else str(err)
                undecodable.append(Undecodable(offset, received, tenant, bytes(raw or b""), error))
        return LogPage(records, undecodable, rows[-1][0] if rows else None)

    def count(self, tenant: str) -> int:
        """Events from the tenant's devices in the log (the platform's own not counted)."""
        device_tags = [_TAGS[kind] for kind in EVENT_TYPES]
        with self.engine.connect() as connection:
            return connection.execute(
                select(func.count())
                .select_from(event_log)
                .where(event_log.c.tenant == tenant, event_log.c.type.in_(device_tags))
            ).scalar_one()

    def accepted_already(
        self, tenant: str, keys: Sequence[tuple[int, int, float]]
    ) -> set[tuple[int, int]]:
        """Of ``(device_number, seq, time)``, the ``(device_number, seq)`` already in
        the log. A re-sent event repeats its time, which the time index finds; this is
        only asked for sequences older than a device's newest."""
        found: set[tuple[int, int]] = set()
        with self.engine.connect() as connection:
            for device_number, seq, event_time in keys:
                hit = connection.execute(
                    select(event_log.c.offset).where(
                        event_log.c.tenant == tenant,
                        event_log.c.device_number == device_number,
                        event_log.c.seq == seq,
                        event_log.c.time == event_time,
                    )
                ).first()
                if hit is not None:
                    found.add((device_number, seq))
        return found
