"""The engine's seams: what a runtime needs from the world, as ``typing.Protocol``s.

A runtime reads the log from an offset (``LogSource``), is fed what others append
(``LogAppender``, whose commit hook calls ``Runtime.feed``), restores and saves its
operators' state (``CheckpointStore``), and is driven by the platform through
``Runtime``. Each seam has a SQL implementation in ``vigil.store``
(``EventLog``, ``SqlLogAppender``, ``SqlCheckpointStore``) and an in-memory one in
``vigil.testing.memory``; the embedded runtime runs unchanged on either, which
``tests/engine/test_seams.py`` checks by running both and comparing what they hold.

The protocols are ``runtime_checkable`` so a test can assert that an
implementation has every member (``isinstance`` checks names, not signatures).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from vigil.engine.keyed import Emitted
from vigil.engine.projection_rows import Projection
from vigil.engine.records import (
    Accepted,
    Checkpoint,
    FindingRow,
    LogPage,
    LogRecord,
    Undecodable,
)

CommitHook = Callable[[list[LogRecord]], None]
"""Called with the records an append made durable, once they are (in commit order)."""

AfterCommit = Callable[[], None] | None
"""Run once a checkpoint batch is durable (announce live what it made visible)."""

OutputSink = Callable[[str, list[Emitted]], None]
"""Receives (operator name, live outputs) after each batch: live pages, latency probes."""

AuditRow = tuple[str, float, str, str, str]
"""(tenant, time, actor, action, target): who caused an appended event."""

KeyStates = list[tuple[str, str, bytes]]
"""(tenant, key, encoded state) of an operator's keys."""


@runtime_checkable
class LogSource(Protocol):
    """The log, read in offset order: how a runtime catches up after a (re)start."""

    def read(self, after_offset: int, limit: int = 10_000) -> list[LogRecord]:
        """Up to ``limit`` records with offset greater than ``after_offset``, in order
        (rows that cannot be decoded left out)."""
        ...

    def read_page(self, after_offset: int, limit: int = 10_000) -> LogPage:
        """Up to ``limit`` rows after ``after_offset``: the records, and the rows that
        cannot be decoded, which a runtime sets aside instead of failing on for ever."""
        ...


@runtime_checkable
class LogAppender(Protocol):
    """Appends events to the log; the returned future resolves once they are durable."""

    @property
    def next_offset(self) -> int:
        """The offset the next appended event will get."""
        ...

    def append(
        self,
        events: Sequence[Accepted],
        *,
        audit: Sequence[AuditRow] = (),
        on_commit: CommitHook | None = None,
    ) -> Future[list[LogRecord]]:
        """``events`` (with ``audit``, in the same atomic write), then ``on_commit``."""
        ...


@dataclass(frozen=True, kw_only=True)
class CheckpointBatch:
    """What one pass of a runtime makes durable, all or nothing.

    Every part is idempotent -- rows replace rows with the same key, derived events
    are appended only past their operator's mark -- so a failed batch can be written
    again with the same result."""

    checkpoints: Sequence[Checkpoint] = ()
    findings: Sequence[FindingRow] = ()
    projections: Sequence[Projection] = ()
    derived: Sequence[Accepted] = ()
    """Events operators derived, appended to the log in the same write."""
    marks: Mapping[str, int] = field(default_factory=dict)
    """Per operator: the input offset up to which its derived events are now logged."""
    undecodable: Sequence[Undecodable] = ()
    """Log rows no operator can read, kept as dead letters (once per offset)."""


@runtime_checkable
class CheckpointStore(Protocol):
    """Operator state and offsets, plus the outputs that must land with them."""

    def load(self, operator: str) -> tuple[int, bytes | None, KeyStates]:
        """The operator's last checkpoint: offset, runtime state (None: never saved)
        and every key's state."""
        ...

    def derived_marks(self) -> dict[str, int]:
        """Per operator, the input offset up to which its derived events are logged."""
        ...

    def commit(
        self,
        batch: CheckpointBatch,
        *,
        on_commit: CommitHook | None = None,
        after_commit: AfterCommit = None,
    ) -> Future[list[LogRecord]]:
        """Write ``batch`` atomically; the future holds the derived events' records,
        which ``on_commit`` also receives once durable; then ``after_commit`` runs."""
        ...


@runtime_checkable
class Runtime(Protocol):
    """Runs the operators over the log: what the platform starts, feeds and watches."""

    failed: BaseException | None
    """Why the runtime stopped, if it did (health reports it)."""

    @property
    def processed_offset(self) -> int:
        """Every operator has processed the log up to here."""
        ...

    def add_sink(self, sink: OutputSink) -> None: ...

    def feed(self, records: list[LogRecord]) -> None:
        """Newly committed records; never blocks."""
        ...

    def start(self) -> None: ...

    def stop(self) -> None:
        """Process what was fed, checkpoint, and stop."""
        ...

    def flush(self, offset: int, timeout: float = 30.0) -> bool:
        """Block until the log up to ``offset`` is processed and every output durable."""
        ...
