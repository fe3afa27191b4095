"""The embedded runtime: every operator, in one thread, fed by the log.

Committed events arrive through ``feed``, from the log appender's commit hook. On start the
runtime restores each operator from its checkpoint and replays the log from
there, so after a crash it re-produces exactly the outputs the crashed run
would have produced; durable ones are named by log offset and so land once.

What a pass over a batch produces -- derived events, findings, projection rows
and (when due) checkpoints -- goes to the checkpoint store as one batch, and the next
batch is submitted only once the previous one has committed. A batch that fails is written
again (every part of it is idempotent); if it still fails the runtime stops,
loudly, before anything later is written. So no checkpoint ever overtakes
outputs that were lost, and a key's state counts as saved only once committed.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from functools import partial
from typing import Any

import msgspec

from vigil.engine.keyed import Emitted, KeyedRunner
from vigil.engine.operator import KeyedOperator, Output
from vigil.engine.projection_rows import ConditionRow, LatestValue, Projection, projection_key
from vigil.engine.records import (
    Accepted,
    Checkpoint,
    FindingRow,
    LogRecord,
    Undecodable,
    platform_record,
)
from vigil.engine.seams import (
    AfterCommit,
    CheckpointBatch,
    CheckpointStore,
    LogSource,
    OutputSink,
)
from vigil.errors import StoreError
from vigil.events import DERIVED_TYPES

log = logging.getLogger(__name__)


def finding_row(operator: str, emitted: Emitted) -> FindingRow:
    output = emitted.output
    assert isinstance(output, Output)
    return FindingRow(
        id=f"{operator}:{emitted.name}",
        tenant=output.tenant,
        entity=output.entity,
        operator=operator,
        kind=output.kind,
        time=output.time,
        offset=emitted.offset,
        message=output.message,
        data=output.data,
    )


def _with_derived(records: list[LogRecord], caused: dict[int, list[LogRecord]]) -> list[LogRecord]:
    """``records`` with the events derived from each placed right after it."""
    merged: list[LogRecord] = []
    for record in records:
        merged.append(record)
        if (derived := caused.get(record.offset)) is not None:
            merged += derived
    return merged


class OutputsLost(StoreError):
    """The runtime could not make a pass's outputs durable, even after retrying."""


class _Stop:
    pass


class _Flush:
    """Asks the runtime thread to write everything it has, then to set ``done``."""

    def __init__(self) -> None:
        self.done = threading.Event()


class EmbeddedRuntime:
    def __init__(
        self,
        operators: Sequence[KeyedOperator[Any]],
        *,
        log_store: LogSource,
        states: CheckpointStore,
        checkpoint_seconds: float = 2.0,
        checkpoint_events: int = 1_000_000,
        checkpoint_max_seconds: float = 60.0,
        events_per_dirty_key: float = 4.0,
        dirty_keys_free: int = 20_000,
        catch_up_page: int = 20_000,
        write_retries: int = 5,
        retry_seconds: float = 0.2,
    ) -> None:
        names = [op.name for op in operators]
        if len(set(names)) != len(names):
            raise ValueError(f"operator names must be unique: {names}")
        self.runners = [KeyedRunner(op) for op in operators]
        self.log_store = log_store
        self.states = states
        self.checkpoint_seconds = checkpoint_seconds
        self.checkpoint_events = checkpoint_events
        self.checkpoint_max_seconds = checkpoint_max_seconds
        self.events_per_dirty_key = events_per_dirty_key
        self.dirty_keys_free = dirty_keys_free
        self.catch_up_page = catch_up_page
        self.write_retries = write_retries
        self.retry_seconds = retry_seconds
        self.sinks: list[OutputSink] = []
        self.progress_listeners: list[Callable[[int], None]] = []
        """Called from the runtime's thread with the new processed offset as it advances."""
        self._queue: queue.SimpleQueue[list[LogRecord] | _Stop | _Flush] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="vigil-runtime", daemon=True)
        self._progress = threading.Condition()
        self._processed = 0
        self._since_checkpoint = 0
        self._last_checkpoint = time.monotonic()
        self._round: list[KeyedRunner] = []
        """Runners still to checkpoint in the current round, one a pass."""
        self._marks: dict[str, int] = {}
        """Per operator: input offset up to which its derived events are in the log."""
        self._projections: dict[tuple[Any, ...], Projection] = {}
        """Rows waiting for the next checkpoint, the newest per key."""
        self._inflight: tuple[CheckpointBatch, AfterCommit, Future[Any]] | None = None
        self.checkpoints = 0
        self.write_failures = 0
        self.undecodable = 0
        """Log records skipped because they could not be decoded (each dead-lettered)."""
        self.failed: BaseException | None = None

    # --- wiring --------------------------------------------------------------

    def add_sink(self, sink: OutputSink) -> None:
        self.sinks.append(sink)

    def feed(self, records: list[LogRecord]) -> None:
        """Called by the log's commit hook after a commit; never blocks."""
        self._queue.put(records)

    def start(self) -> None:
        for runner in self.runners:
            offset, runtime_state, keys = self.states.load(runner.name)
            if runtime_state is not None:
                runner.restore(offset, runtime_state, keys)
        self._marks = self.states.derived_marks()
        self._thread.start()

    def stop(self) -> None:
        """Process what was fed, checkpoint, and end the thread."""
        if self._thread.is_alive():
            self._queue.put(_Stop())
            self._thread.join()

    @property
    def processed_offset(self) -> int:
        return self._processed

    def wait_for(self, offset: int, timeout: float = 30.0) -> bool:
        """Block until every operator has processed the log up to ``offset``."""
        with self._progress:
            return self._progress.wait_for(
                lambda: self._processed >= offset or self.failed is not None, timeout
            )

    def flush(self, offset: int, timeout: float = 30.0) -> bool:
        """Block until the log up to ``offset`` is processed -- with every event the
        operators derived from it -- and all outputs and projections are committed."""
        deadline = time.monotonic() + timeout
        if not self.wait_for(offset, timeout) or self.failed is not None:
            return False
        request = _Flush()
        self._queue.put(request)
        return request.done.wait(max(0.0, deadline - time.monotonic())) and self.failed is None

    def runner(self, name: str) -> KeyedRunner:
        """For tests: pages read the store, never a runner."""
        for runner in self.runners:
            if runner.name == name:
                return runner
        raise KeyError(name)

    # --- the thread ----------------------------------------------------------

    def _run(self) -> None:
        try:
            self._catch_up()
            while True:
                item = self._next_item()
                if isinstance(item, _Stop):
                    break
                if isinstance(item, _Flush):
                    self._flush(item)
                    continue
                batch = item
                control: _Stop | _Flush | None = None
                while True:  # fold whatever else is queued into one pass
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if not isinstance(more, list):
                        control = more
                        break
                    batch = batch + more
                self._handle(batch)
                if isinstance(control, _Flush):
                    self._flush(control)
                elif isinstance(control, _Stop):
                    break
            waiting = self._drain_derived()
            self._checkpoint()
            self._await_inflight()
            for request in waiting:
                request.done.set()
        except BaseException as err:  # surfaced through wait_for / health, never silent
            log.exception("operator runtime failed")
            self.failed = err
            with self._progress:
                self._progress.notify_all()

    def _next_item(self) -> list[LogRecord] | _Stop | _Flush:
        """The next batch or request. While idle, a write in flight is seen through
        (a failed one retried) and changed state is checkpointed on time: neither
        waits for more input, which may never come."""
        while True:
            if self._inflight is not None:
                timeout = self.retry_seconds
            elif self._round:
                timeout = 0.0  # finish the round of checkpoints
            elif self._since_checkpoint:
                timeout = self._checkpoint_due_at() - time.monotonic()
            else:
                return self._queue.get()
            try:
                return self._queue.get(timeout=max(0.0, timeout))
            except queue.Empty:
                if self._inflight is not None:
                    self._await_inflight()
                elif checkpoints := self._due_checkpoints():
                    rows = list(self._projections.values())
                    self._projections.clear()
                    self._submit(CheckpointBatch(checkpoints=checkpoints, projections=rows))

    def _checkpoint_due_at(self) -> float:
        """When ``_due_checkpoints`` will next give checkpoints if no input comes: the
        same rule, so a moment without input never forces an early checkpoint of many
        keys (that made the cost per event grow with the number of keys)."""
        dirty = sum(len(runner.dirty) for runner in self.runners)
        wait = (
            self.checkpoint_seconds
            if dirty <= self.dirty_keys_free
            else self.checkpoint_max_seconds
        )
        return self._last_checkpoint + wait

    def _catch_up(self) -> None:
        after = min((runner.offset for runner in self.runners), default=0)
        self._set_processed(after)
        while True:
            page = self.log_store.read_page(after, self.catch_up_page)
            if page.last_offset is None:
                break
            if page.undecodable:
                self._set_aside(page.undecodable)
            if page.records:
                self._handle(page.records)
            after = page.last_offset
            self._skip_to(after)
        self._checkpoint()

    def _set_aside(self, records: list[Undecodable]) -> None:
        """Log records no operator can read: each is dead-lettered with its offset and
        why, counted and logged, and the operators go on past it. Stopping instead
        would stop every tenant's alerts, on every restart, for one bad row."""
        for record in records:
            log.error(
                "log record %d (tenant %r) cannot be decoded and is skipped by every "
                "operator (kept as a dead letter): %s",
                record.offset,
                record.tenant,
                record.error,
            )
        self.undecodable += len(records)
        self._submit(CheckpointBatch(undecodable=records))

    def _skip_to(self, offset: int) -> None:
        """Every operator is past ``offset``: the rows up to it were processed or set aside."""
        for runner in self.runners:
            runner.skip_to(offset)
        self._set_processed(offset)

    def _flush(self, request: _Flush) -> None:
        waiting = [request, *self._drain_derived()]
        self._checkpoint()
        self._await_inflight()
        for item in waiting:
            item.done.set()

    def _drain_derived(self) -> list[_Flush]:
        """Process what is queued until the chains of derived events come to rest;
        the flush requests met on the way are answered by the caller's checkpoint."""
        flushes: list[_Flush] = []
        for _ in range(100):  # a chain is finite; a cycle of operators would not be
            self._await_inflight()
            pending: list[LogRecord] = []
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if isinstance(item, list):
                    pending += item
                elif isinstance(item, _Flush):
                    flushes.append(item)
            if not pending:
                break
            self._handle(pending)
        return flushes

    def _set_processed(self, offset: int) -> None:
        with self._progress:
            advanced = offset > self._processed
            self._processed = max(self._processed, offset)
            self._progress.notify_all()
        if advanced:
            for listener in self.progress_listeners:
                listener(offset)

    def _handle(self, batch: list[LogRecord]) -> None:
        # Events derived by an operator are handed to the operators after it in the same
        # pass, each right after the record that caused it, exactly as if operators ran
        # one record at a time: what they produce does not depend on where in the log the
        # derived event lands (a restart can change that). They are also appended to the
        # log -- once, guarded by the marks -- for the record and for runtimes in other
        # processes; this runtime skips them when they come back from the log.
        records = [r for r in batch if type(r.event) not in DERIVED_TYPES]
        if len(records) == len(batch):
            records = batch
        new_findings: list[FindingRow] = []
        derived: list[Accepted] = []
        published: list[tuple[str, list[Emitted]]] = []
        alerts_changed = False
        marks: dict[str, int] = {}
        caused: dict[int, list[LogRecord]] = {}
        projections = self._projections
        for runner in self.runners:
            emitted = runner.process(_with_derived(records, caused) if caused else records)
            if not emitted:
                continue
            name = runner.name
            mark = self._marks.get(name, 0)
            live: list[Emitted] = []
            for item in emitted:
                output = item.output
                kind = type(output)
                if kind is Output:
                    live.append(item)
                    if output.durable:  # type: ignore[union-attr]
                        new_findings.append(finding_row(name, item))
                elif kind in DERIVED_TYPES:
                    event = msgspec.structs.replace(
                        output,  # type: ignore[arg-type]
                        source=name,
                        origin=f"{name}:{item.name}",
                    )
                    caused.setdefault(item.offset, []).append(
                        LogRecord(item.offset, item.received, event)
                    )
                    if item.offset > mark:  # else the log has it from before a restart
                        derived.append(platform_record(event, item.received))
                        marks[name] = item.offset
                else:
                    if kind is LatestValue:
                        live.append(item)  # the row is the live update too
                    elif kind is ConditionRow:
                        alerts_changed = True
                    projections[projection_key(output)] = output  # type: ignore[arg-type]
            if live:
                published.append((name, live))
        if records is not batch:
            # Derived records read back from the log were handled with their causes:
            # every runner is past them, so a restart need not read them again.
            last = batch[-1].offset
            for runner in self.runners:
                runner.offset = max(runner.offset, last)
        self._marks.update(marks)
        self._since_checkpoint += len(batch)
        checkpoints = self._due_checkpoints()
        # An alert's change is written at once, and announced live only once it is in
        # the store: a page that reloads on the announcement must find it there.
        publish_now = published if not alerts_changed else []
        if new_findings or derived or checkpoints or alerts_changed:
            rows = list(projections.values()) if checkpoints or alerts_changed else []
            if rows:
                projections.clear()
            self._submit(
                CheckpointBatch(
                    checkpoints=checkpoints,
                    findings=new_findings,
                    projections=rows,
                    derived=derived,
                    marks=marks,
                ),
                partial(self._publish, published) if alerts_changed else None,
            )
        self._publish(publish_now)
        self._set_processed(batch[-1].offset)

    def _publish(self, published: list[tuple[str, list[Emitted]]]) -> None:
        for name, live in published:
            for sink in self.sinks:
                sink(name, live)

    def _due_checkpoints(self) -> list[Checkpoint]:
        """Checkpoints when it is time, else nothing.

        Time alone is not enough: with many keys each changing rarely, a checkpoint
        every few seconds would rewrite every key for a handful of events each, so the
        cost per event would grow with the number of keys. Past ``dirty_keys_free``
        changed keys (a checkpoint of that size costs a few per cent of the time), a
        checkpoint waits until there are at least ``events_per_dirty_key`` events per
        changed key (or the longest interval has passed): that keeps the cost flat.

        A large round goes one runner a pass, the largest first, each in a
        transaction of its own: the log's appends commit between them, instead of
        waiting behind one transaction of every runner's keys (a second at 100,000
        devices). Each runner's checkpoint stands alone (its own offset), so a crash
        between two restores each from its own."""
        if self._round:
            return [self._checkpoint_of(self._round.pop(0))]
        elapsed = time.monotonic() - self._last_checkpoint
        if elapsed < self.checkpoint_seconds and self._since_checkpoint < self.checkpoint_events:
            return []
        dirty = sum(len(runner.dirty) for runner in self.runners)
        if (
            elapsed < self.checkpoint_max_seconds
            and self._since_checkpoint < self.checkpoint_events
            and dirty > self.dirty_keys_free
            and self._since_checkpoint < dirty * self.events_per_dirty_key
        ):
            return []
        if dirty <= self.dirty_keys_free:
            return self._take_checkpoints()
        self._start_round()
        largest, *rest = sorted(self.runners, key=lambda runner: -len(runner.dirty))
        self._round = rest
        return [self._checkpoint_of(largest)]

    def _start_round(self) -> None:
        self._since_checkpoint = 0
        self._last_checkpoint = time.monotonic()
        self.checkpoints += 1

    def _take_checkpoints(self) -> list[Checkpoint]:
        """Every runner's checkpoint at once (a round in progress included)."""
        self._start_round()
        self._round = []
        return [self._checkpoint_of(runner) for runner in self.runners]

    @staticmethod
    def _checkpoint_of(runner: KeyedRunner) -> Checkpoint:
        return Checkpoint(runner.name, runner.offset, runner.runtime_state(), runner.take_dirty())

    def _checkpoint(self) -> None:
        rows = list(self._projections.values())
        self._projections.clear()
        self._submit(CheckpointBatch(checkpoints=self._take_checkpoints(), projections=rows))

    # --- durable, in order -----------------------------------------------------

    def _submit(self, batch: CheckpointBatch, after_commit: AfterCommit = None) -> None:
        """Send ``batch`` once the one before it is committed (or raise: see module doc);
        ``after_commit`` runs once it is."""
        self._await_inflight()
        future = self.states.commit(batch, on_commit=self.feed, after_commit=after_commit)
        self._inflight = (batch, after_commit, future)

    def _await_inflight(self) -> None:
        if self._inflight is None:
            return
        batch, after_commit, future = self._inflight
        for attempt in range(self.write_retries + 1):
            try:
                future.result()
                self._inflight = None
                return
            except Exception as err:
                self.write_failures += 1
                if attempt == self.write_retries:
                    raise OutputsLost(
                        f"operator outputs could not be written after {attempt + 1} tries: {err}"
                    ) from err
                delay = self.retry_seconds * 2**attempt
                log.warning("writing operator outputs failed (%s); again in %.1f s", err, delay)
                time.sleep(delay)
                future = self.states.commit(batch, on_commit=self.feed, after_commit=after_commit)
