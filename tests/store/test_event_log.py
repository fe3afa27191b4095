"""The event log's bulk insert: many rows a statement, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from tests.conftest import reading
from vigil.events import Alarm, DeviceStatus, Event
from vigil.store import migrate
from vigil.store.database import open_engine
from vigil.store.event_log import _SQLITE_MAX_ROWS as CHUNK
from vigil.store.event_log import Accepted, AppendJob, EventLog
from vigil.store.schema import event_log

NOW = 1_790_000_000.0


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'log.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = open_engine(url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def events(count: int, first_seq: int = 1) -> list[Event]:
    """Readings of ten devices, with a status and an alarm among them."""
    result: list[Event] = []
    for i in range(count):
        device, seq = f"north.home-1.sensor-{i % 10}", first_seq + i // 10
        if i == 7:
            result.append(
                DeviceStatus(tenant="north", device=device, entity="north.home-1", seq=seq,
                             time=NOW + i, battery=12.5)
            )  # fmt: skip
        elif i == 11:
            result.append(
                Alarm(tenant="north", device=device, entity="north.home-1", seq=seq,
                      time=NOW + i, alarm="pendant")
            )  # fmt: skip
        else:
            value: float | str = "open" if i % 3 == 0 else 20.0 + i / 100
            result.append(reading(device, seq, value=value, time_=NOW + i))
    return result


def append(engine: Engine, log: EventLog, batches: list[list[Event]]) -> None:
    """Every batch as its own job, all in one transaction, as the writer commits a group."""
    jobs = [
        AppendJob(log, [Accepted(event, NOW + 100, 1, 1 + i % 10) for i, event in enumerate(b)])
        for b in batches
    ]
    with engine.begin() as connection:
        results = [job.write(connection) for job in jobs]
        log.flush(connection)
    for job, result in zip(jobs, results, strict=True):
        job.committed(result)


@pytest.mark.parametrize(
    "sizes", [[1], [CHUNK - 1, 1, CHUNK], [2 * CHUNK + 777], [300, CHUNK, 1, CHUNK - 1]]
)
def test_appended_events_read_back_in_order(engine: Engine, sizes: list[int]) -> None:
    log = EventLog(engine)
    written = events(sum(sizes))
    batches, start = [], 0
    for size in sizes:
        batches.append(written[start : start + size])
        start += size

    append(engine, log, batches)

    records = log.read(0)
    assert [r.offset for r in records] == list(range(1, len(written) + 1))
    assert [r.event for r in records] == written
    assert log.next_offset == len(written) + 1


def test_columns_hold_what_queries_filter_on(engine: Engine) -> None:
    log = EventLog(engine)
    written = events(CHUNK + 620)
    append(engine, log, [written])

    with engine.connect() as connection:
        rows = connection.execute(
            select(
                event_log.c.type, event_log.c.time, event_log.c.metric, event_log.c.value
            ).order_by(event_log.c.offset)
        ).all()
    assert len(rows) == len(written)
    assert rows[7] == ("status", NOW + 7, None, None)
    assert rows[11] == ("alarm", NOW + 11, "pendant", None)
    assert rows[3] == ("reading", NOW + 3, "temperature", None)  # a state: no number
    assert rows[601] == ("reading", NOW + 601, "temperature", pytest.approx(26.01))
    assert log.count("north") == len(written)


AWKWARD_TEXT = ["tab\there", "new\nline", "back\\slash", "\\N", "", "quote\"'", "ünï ✓ 🌡", "a,b;c"]
"""Text that a COPY must carry unchanged: its own escapes and separators (no NUL:
PostgreSQL's text cannot hold it, through COPY or INSERT)."""


def awkward_events(count: int) -> list[Event]:
    result: list[Event] = []
    for i in range(count):
        text = AWKWARD_TEXT[i % len(AWKWARD_TEXT)]
        device = f"north.home-1.sensor-{i % 10}"
        metric = f"m{text}"[:64]
        if i % 4 == 1:
            result.append(reading(device, i, value=text or "x", metric=metric, time_=NOW + i))
        elif i % 4 == 2:
            result.append(
                Alarm(tenant="north", device=device, entity="north.home-1", seq=2**63 - 1 - i,
                      time=NOW - i / 3, alarm=f"alarm {text}")
            )  # fmt: skip
        else:
            result.append(reading(device, i, value=-1e300 / (i + 1), metric=metric, time_=NOW + i))
    return result


@pytest.mark.parametrize("sizes", [[1], [3, 5, 7], [999], [1, 2047, 3], [4097]])
def test_odd_counts_and_awkward_text_round_trip(engine: Engine, sizes: list[int]) -> None:
    """Every column of every row reads back exactly, whatever the counts and the text."""
    log = EventLog(engine)
    written = awkward_events(sum(sizes))
    batches, start = [], 0
    for size in sizes:
        batches.append(written[start : start + size])
        start += size

    append(engine, log, batches)

    assert [r.event for r in log.read(0)] == written
    with engine.connect() as connection:
        rows = connection.execute(select(event_log).order_by(event_log.c.offset)).all()
    assert [row.offset for row in rows] == list(range(1, len(written) + 1))
    for row, event in zip(rows, written, strict=True):
        assert (row.tenant, row.seq, row.time) == (event.tenant, event.seq, event.timestamp)
        if isinstance(event, Alarm):
            assert (row.type, row.metric, row.value) == ("alarm", event.alarm, None)
        else:
            number = None if isinstance(event.value, str) else event.value
            assert (row.type, row.metric, row.value) == ("reading", event.metric, number)
        assert row.received == NOW + 100


def test_a_rolled_back_group_leaves_no_rows(engine: Engine) -> None:
    """The insert runs inside the writer's transaction: a rollback takes it away."""
    log = EventLog(engine)
    job = AppendJob(log, [Accepted(e, NOW, 1, 1) for e in events(37)])
    with pytest.raises(RuntimeError), engine.begin() as connection:
        job.write(connection)
        log.flush(connection)
        raise RuntimeError("the group fails after the insert")
    job.rolled_back()
    assert log.count("north") == 0
    append(engine, log, [events(5)])
    assert [r.offset for r in log.read(0)] == [1, 2, 3, 4, 5]


def _saved_sequences(engine: Engine) -> dict[str, int]:
    from vigil.store.schema import device_sequences

    with engine.connect() as connection:
        rows = connection.execute(select(device_sequences)).all()
    return {row.device: row.last_seq for row in rows}


def test_sequences_of_many_devices_wait_for_enough_events(engine: Engine) -> None:
    """Past ``sequences_free`` changed devices, a save waits until there are
    ``events_per_sequence`` events per changed device: the cost of saving stays a
    fraction of a row an event however many devices there are. (What is not saved
    yet is read from the log after the mark on start: tests/ingest.)"""
    log = EventLog(engine, sequences_every=0.0, sequences_free=5, events_per_sequence=3.0)
    append(engine, log, [events(10)])  # nothing had changed before: saved at once
    for seq in (2, 3):  # ten devices changed, 10 then 20 events: under 3 a device
        append(engine, log, [events(10, first_seq=seq)])
        assert _saved_sequences(engine) == {}
    # 30 events since the last save. A save is staged with a batch and holds what
    # was committed before it.
    append(engine, log, [events(10, first_seq=4)])
    assert _saved_sequences(engine) == {f"north.home-1.sensor-{i}": 3 for i in range(10)}


def test_few_devices_save_their_sequences_on_time(engine: Engine) -> None:
    log = EventLog(engine, sequences_every=0.0, sequences_free=50)
    append(engine, log, [events(10)])
    append(engine, log, [events(10, first_seq=2)])
    assert _saved_sequences(engine) == {f"north.home-1.sensor-{i}": 1 for i in range(10)}
