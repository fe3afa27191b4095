"""The engine's seams in memory: a log and a checkpoint store for tests.

The embedded runtime runs on these unchanged (as httpx's ``MockTransport`` stands in
for the network): no database, no writer thread, every write durable at once. The
contract test in ``tests/engine/test_seams.py`` runs the same log through these and
through SQLite and asserts they end up holding the same things.

>>> from vigil.engine import EmbeddedRuntime
>>> from vigil.monitoring import LastValueTracker
>>> from vigil.testing.samples import sample_events
>>> log = MemoryLog()
>>> store = MemoryCheckpointStore(log)
>>> runtime = EmbeddedRuntime([LastValueTracker()], log_store=log, states=store)
>>> runtime.start()
>>> records = log.append(
...     [Accepted(e, e.timestamp) for e in sample_events(tenants=1, hours=1)],
...     on_commit=runtime.feed,
... ).result()
>>> runtime.flush(records[-1].offset)
True
>>> runtime.stop()
>>> store.load("last_value")[0] == records[-1].offset
True
>>> any(key[0] == "latest" for key in store.projections)
True
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from vigil.engine.projection_rows import Projection, projection_key
from vigil.engine.records import Accepted, FindingRow, LogPage, LogRecord, Undecodable
from vigil.engine.seams import AfterCommit, AuditRow, CheckpointBatch, CommitHook, KeyStates
from vigil.errors import StoreError

__all__ = ["MemoryCheckpointStore", "MemoryLog"]


def _done(result: list[LogRecord]) -> Future[list[LogRecord]]:
    future: Future[list[LogRecord]] = Future()
    future.set_result(result)
    return future


def _failed(error: BaseException) -> Future[list[LogRecord]]:
    future: Future[list[LogRecord]] = Future()
    future.set_exception(error)
    return future


class MemoryLog:
    """A ``LogSource`` and ``LogAppender`` over a list: offsets from 1, in append order.

    ``on_commit`` runs in the appending thread, inside the log's lock, so hooks see
    appends in offset order (as the SQL writer's post-commit hooks do)."""

    def __init__(self) -> None:
        self.records: list[LogRecord] = []
        self.audit: list[AuditRow] = []
        self._offsets: list[int] = []
        self._lock = threading.Lock()

    @property
    def next_offset(self) -> int:
        return (self._offsets[-1] if self._offsets else 0) + 1

    def append(
        self,
        events: Sequence[Accepted],
        *,
        audit: Sequence[AuditRow] = (),
        on_commit: CommitHook | None = None,
    ) -> Future[list[LogRecord]]:
        with self._lock:
            first = self.next_offset
            added = [
                LogRecord(first + n, item.received, item.event) for n, item in enumerate(events)
            ]
            self.records += added
            self._offsets += [record.offset for record in added]
            self.audit += audit
            if added and on_commit is not None:
                on_commit(added)
        return _done(added)

    def read(self, after_offset: int, limit: int = 10_000) -> list[LogRecord]:
        with self._lock:
            start = bisect.bisect_right(self._offsets, after_offset)
            return self.records[start : start + limit]

    def read_page(self, after_offset: int, limit: int = 10_000) -> LogPage:
        """Everything in memory decodes: a page is the records and their last offset."""
        records = self.read(after_offset, limit)
        return LogPage(records, [], records[-1].offset if records else None)


class MemoryCheckpointStore:
    """A ``CheckpointStore`` in dictionaries, appending derived events to ``log``.

    Rows replace rows with the same key and findings keep their first version, as in
    the SQL tables. ``fail_next`` makes that many coming commits fail (nothing of
    them written), to test how a runtime retries and stops."""

    def __init__(self, log: MemoryLog) -> None:
        self.log = log
        self.offsets: dict[str, tuple[int, bytes]] = {}
        """Per operator: the checkpoint's offset and runtime state."""
        self.states: dict[str, dict[tuple[str, str], bytes]] = {}
        self.marks: dict[str, int] = {}
        self.findings: dict[str, FindingRow] = {}
        self.projections: dict[tuple[Any, ...], Projection] = {}
        self.dead_letters: dict[int, Undecodable] = {}
        """Log rows set aside as undecodable, by offset (kept once, as in SQL)."""
        self.commits = 0
        self.fail_next = 0
        self._lock = threading.Lock()

    def load(self, operator: str) -> tuple[int, bytes | None, KeyStates]:
        with self._lock:
            if operator not in self.offsets:
                return 0, None, []
            offset, runtime_state = self.offsets[operator]
            keys = [(t, k, s) for (t, k), s in self.states.get(operator, {}).items()]
        return offset, runtime_state, keys

    def derived_marks(self) -> dict[str, int]:
        with self._lock:
            return dict(self.marks)

    def commit(
        self,
        batch: CheckpointBatch,
        *,
        on_commit: CommitHook | None = None,
        after_commit: AfterCommit = None,
    ) -> Future[list[LogRecord]]:
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return _failed(StoreError("memory store: injected write failure"))
            self.commits += 1
            self.marks.update(batch.marks)
            for row in batch.undecodable:
                self.dead_letters.setdefault(row.offset, row)
            for finding in batch.findings:
                self.findings.setdefault(finding.id, finding)
            for row in batch.projections:
                self.projections[projection_key(row)] = row
            for checkpoint in batch.checkpoints:
                keys = self.states.setdefault(checkpoint.operator, {})
                keys.update({(t, k): s for t, k, s in checkpoint.keys})
                self.offsets[checkpoint.operator] = (checkpoint.offset, checkpoint.runtime_state)
        future = self.log.append(batch.derived, on_commit=on_commit) if batch.derived else _done([])
        if after_commit is not None:
            after_commit()
        return future
