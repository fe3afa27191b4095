"""WAL checkpoints: a RESTART once the WAL is long, and never a long wait behind a reader."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from vigil.store.database import WalCheckpointer, open_engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_engine(f"sqlite:///{tmp_path / 'wal.db'}", sqlite_synchronous="OFF")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT)"))
    yield engine
    engine.dispose()


def write(engine: Engine, commits: int) -> None:
    for _ in range(commits):
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO filler (body) VALUES (:body)"), [{"body": "x" * 2000}] * 20
            )


def wal_pages(checkpointer: WalCheckpointer) -> int:
    return checkpointer.checkpoint("PASSIVE")[1]


def test_restart_only_past_the_threshold_and_then_the_wal_starts_again(engine: Engine) -> None:
    checkpointer = WalCheckpointer(engine, restart_frames=200)
    write(engine, 5)
    assert 0 < wal_pages(checkpointer) < 200
    checkpointer.tick()
    assert checkpointer.restarts == 0

    write(engine, 30)
    long = wal_pages(checkpointer)
    assert long >= 200
    checkpointer.tick()
    assert checkpointer.restarts == 1

    write(engine, 1)  # the first commit after a RESTART writes from the WAL's start
    assert wal_pages(checkpointer) < long / 10


def test_restart_gives_up_quickly_behind_a_reader(engine: Engine) -> None:
    """A reader on an old snapshot would hold the RESTART, and the writer behind it,
    for the 30 s busy timeout; the checkpointer waits a fraction of a second."""
    checkpointer = WalCheckpointer(engine, restart_frames=10, restart_wait_ms=100)
    write(engine, 10)
    with engine.connect() as reader:
        reader.exec_driver_sql("BEGIN")
        reader.exec_driver_sql("SELECT count(*) FROM filler").one()
        write(engine, 10)
        started = time.monotonic()
        checkpointer.tick()
        assert time.monotonic() - started < 5
        assert checkpointer.restarts == 0
        reader.exec_driver_sql("COMMIT")
    write(engine, 1)  # the connection's usual busy timeout is back: writes still wait
    checkpointer.tick()
    assert checkpointer.restarts == 1
