"""Group commit: one thread owns the write connection and commits many jobs at once.

Every durable write in the process goes through here, in submission order. A
caller gets a future that resolves only after its job's transaction committed,
which is what "acknowledged only after it is durable" rests on. Jobs that arrive
while a commit is in flight ride on the next one, so throughput grows with load
while an idle system still commits each job at once.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from vigil.errors import StoreError
from vigil.store.database import translate

log = logging.getLogger(__name__)


class WriteJob(Protocol):
    """A unit of durable work. ``write`` runs inside the shared transaction."""

    def write(self, connection: Connection) -> Any: ...

    def committed(self, result: Any) -> None:
        """Runs on the writer thread after the commit, in submission order."""

    def rolled_back(self) -> None:
        """Undo in-memory bookkeeping done by ``write``."""


class _Stop:
    pass


class GroupCommitWriter:
    def __init__(self, engine: Engine, *, max_jobs: int = 512, name: str = "vigil-writer") -> None:
        self.engine = engine
        self.before_commit: list[Callable[[Connection], None]] = []
        """Run at the end of every transaction, after all its jobs' ``write``: where
        work the jobs staged is done once for the whole group."""
        self.max_jobs = max_jobs
        self._queue: queue.SimpleQueue[tuple[WriteJob, Future[Any]] | _Stop] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False
        self.commits = 0
        self.jobs = 0

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._thread.start()

    def submit(self, job: WriteJob) -> Future[Any]:
        future: Future[Any] = Future()
        if not self._started:
            future.set_exception(StoreError("the writer is not running"))
            return future
        self._queue.put((job, future))
        return future

    def stop(self) -> None:
        """Commit what was submitted, then end the thread."""
        if self._started and self._thread.is_alive():
            self._queue.put(_Stop())
            self._thread.join()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if isinstance(first, _Stop):
                break
            group = [first]
            while len(group) < self.max_jobs:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if isinstance(item, _Stop):
                    stopping = True
                    break
                group.append(item)
            self._commit_group(group)

    def _commit_group(self, group: list[tuple[WriteJob, Future[Any]]]) -> None:
        try:
            results = self._transaction(group)
        except Exception:
            if len(group) == 1:
                self._fail(group[0])
                return
            # One job may be at fault: give each its own transaction so the rest land.
            for item in group:
                self._commit_alone(item)
            return
        self._finish(group, results)

    def _commit_alone(self, item: tuple[WriteJob, Future[Any]]) -> None:
        try:
            results = self._transaction([item])
        except Exception:
            self._fail(item)
            return
        self._finish([item], results)

    def _fail(self, item: tuple[WriteJob, Future[Any]]) -> None:
        """Runs inside the ``except`` of the failed transaction."""
        error = sys.exc_info()[1]
        log.exception("write failed")
        if isinstance(error, SQLAlchemyError):
            error = translate(error, "writing")
        item[1].set_exception(error if error is not None else StoreError("write failed"))

    def _transaction(self, group: list[tuple[WriteJob, Future[Any]]]) -> list[Any]:
        results: list[Any] = []
        started: list[WriteJob] = []
        try:
            with self.engine.begin() as connection:
                for job, _ in group:
                    started.append(job)  # before write(): a job that raises is undone too
                    results.append(job.write(connection))
                for hook in self.before_commit:
                    hook(connection)
        except BaseException:
            for job in reversed(started):
                job.rolled_back()
            raise
        return results

    def _finish(self, group: list[tuple[WriteJob, Future[Any]]], results: list[Any]) -> None:
        self.commits += 1
        self.jobs += len(group)
        for (job, future), result in zip(group, results, strict=True):
            try:
                job.committed(result)
            except Exception:  # a listener's bug must not un-acknowledge a committed write
                log.exception("post-commit hook failed")
            future.set_result(result)
