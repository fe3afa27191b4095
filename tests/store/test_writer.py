"""GroupCommitWriter: a future resolves only after its job committed; one bad job
fails alone; bookkeeping is undone on failure; stop() loses nothing submitted."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, wait
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text

from vigil.errors import StoreError
from vigil.store.database import open_engine
from vigil.store.writer import GroupCommitWriter

TIMEOUT = 10.0


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield engine
    engine.dispose()


@pytest.fixture
def writer(engine: Engine) -> Iterator[GroupCommitWriter]:
    writer = GroupCommitWriter(engine, max_jobs=64)
    writer.start()
    yield writer
    writer.stop()


class InsertJob:
    """Inserts one named row; ``fail`` makes write() raise after (or instead of) that."""

    def __init__(self, name: str, *, fail: BaseException | None = None) -> None:
        self.name = name
        self.fail = fail
        self.writes = 0
        self.rollbacks = 0
        self.commits = 0
        self.gate: threading.Event | None = None
        self.entered = threading.Event()

    def write(self, connection: Connection) -> str:
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(TIMEOUT)
        self.writes += 1
        connection.execute(text("INSERT INTO items (name) VALUES (:n)"), {"n": self.name})
        if self.fail is not None:
            raise self.fail
        return self.name

    def committed(self, result: Any) -> None:
        self.commits += 1

    def rolled_back(self) -> None:
        self.rollbacks += 1


def names(engine: Engine) -> set[str]:
    """What another connection sees: only committed rows."""
    with engine.connect() as connection:
        return set(connection.execute(text("SELECT name FROM items")).scalars())


def test_future_resolves_after_commit(engine: Engine, writer: GroupCommitWriter) -> None:
    """When a future resolves, its row is already visible from another connection."""
    seen: dict[str, bool] = {}
    all_seen = threading.Event()

    def check(future: Future[Any]) -> None:  # runs the moment the future resolves
        seen[future.result()] = future.result() in names(engine)
        if len(seen) == 20:
            all_seen.set()

    for i in range(20):
        writer.submit(InsertJob(f"row-{i}")).add_done_callback(check)
    assert all_seen.wait(TIMEOUT)
    assert seen == {f"row-{i}": True for i in range(20)}


def test_job_is_not_resolved_before_its_commit(engine: Engine, writer: GroupCommitWriter) -> None:
    """While a job's write is held up, its future stays pending and nothing is visible."""
    job = InsertJob("held")
    job.gate = threading.Event()
    future = writer.submit(job)
    assert not future.done()
    assert "held" not in names(engine)
    job.gate.set()
    assert future.result(TIMEOUT) == "held"
    assert "held" in names(engine)
    assert job.commits == 1


def _grouped(writer: GroupCommitWriter, jobs: list[InsertJob]) -> list[Future[Any]]:
    """Submit ``jobs`` while the writer is busy with a held job, so they commit as a group."""
    blocker = InsertJob("blocker")
    blocker.gate = threading.Event()
    first = writer.submit(blocker)
    assert blocker.entered.wait(TIMEOUT)  # the writer is inside the blocker's transaction
    futures = [writer.submit(job) for job in jobs]
    blocker.gate.set()
    first.result(TIMEOUT)
    return futures


def test_failing_job_fails_alone(engine: Engine, writer: GroupCommitWriter) -> None:
    """A job whose write raises a database error fails only its own future; the others of
    its group commit."""
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO items (name) VALUES ('taken')"))
    jobs = [InsertJob("a"), InsertJob("b"), InsertJob("taken"), InsertJob("c"), InsertJob("d")]
    commits_before = writer.commits
    futures = _grouped(writer, jobs)
    _, pending = wait(futures, timeout=TIMEOUT)
    assert not pending
    assert [f.exception() is None for f in futures] == [True, True, False, True, True]
    assert isinstance(futures[2].exception(), StoreError)
    assert names(engine) == {"taken", "blocker", "a", "b", "c", "d"}
    assert [job.commits for job in jobs] == [1, 1, 0, 1, 1]
    # The first try was one transaction for the whole group (then one each).
    assert jobs[0].writes == 2
    assert writer.commits - commits_before >= 1


def test_jobs_written_before_a_failure_are_rolled_back(
    engine: Engine, writer: GroupCommitWriter
) -> None:
    """When a group's transaction fails, each job that had written is told to undo its
    in-memory bookkeeping before it is retried on its own."""
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO items (name) VALUES ('taken')"))
    jobs = [InsertJob("a"), InsertJob("b"), InsertJob("taken")]
    futures = _grouped(writer, jobs)
    wait(futures, timeout=TIMEOUT)
    assert jobs[0].rollbacks == 1
    assert jobs[1].rollbacks == 1
    assert (jobs[0].commits, jobs[1].commits) == (1, 1)


def test_failing_job_is_rolled_back(engine: Engine, writer: GroupCommitWriter) -> None:
    """The job whose write() raised is told to undo its bookkeeping too (an AppendJob
    reserves log offsets before its insert)."""
    job = InsertJob("x")  # its insert hits the unique constraint
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO items (name) VALUES ('x')"))
    future = writer.submit(job)
    assert isinstance(future.exception(TIMEOUT), StoreError)
    assert job.rollbacks >= job.writes


def test_non_database_error_fails_only_its_job(engine: Engine, writer: GroupCommitWriter) -> None:
    """A job raising a plain exception (a bug in the job) fails its own future only."""
    jobs = [InsertJob("a"), InsertJob("b", fail=ValueError("bad job")), InsertJob("c")]
    futures = _grouped(writer, jobs)
    _, pending = wait(futures, timeout=3.0)
    assert not pending, "the writer stopped resolving futures"
    assert futures[0].exception() is None
    assert isinstance(futures[1].exception(), ValueError)
    assert futures[2].exception() is None
    assert writer.submit(InsertJob("later")).result(3.0) == "later"


def test_stop_commits_what_was_submitted(engine: Engine) -> None:
    """stop() returns only after every job submitted before it has committed."""
    writer = GroupCommitWriter(engine, max_jobs=8)
    writer.start()
    blocker = InsertJob("blocker")
    blocker.gate = threading.Event()
    futures = [writer.submit(blocker)]
    assert blocker.entered.wait(TIMEOUT)
    futures += [writer.submit(InsertJob(f"row-{i}")) for i in range(50)]
    stopper = threading.Thread(target=writer.stop)
    stopper.start()
    blocker.gate.set()
    stopper.join(TIMEOUT)
    assert not stopper.is_alive()
    assert all(f.done() and f.exception() is None for f in futures)
    assert names(engine) == {"blocker"} | {f"row-{i}" for i in range(50)}


def test_submit_before_start_fails_fast(engine: Engine) -> None:
    """A writer that is not running refuses work at once instead of hanging."""
    writer = GroupCommitWriter(engine)
    future = writer.submit(InsertJob("x"))
    assert isinstance(future.exception(0), StoreError)
