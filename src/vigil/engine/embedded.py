"""The embedded runtime: every operator, in one thread, fed by the log.

Committed events arrive from the writer's post-commit hook. On start the
runtime restores each operator from its checkpoint and replays the log from
there, so after a crash it re-produces exactly the outputs the crashed run
would have produced; durable ones are named by log offset and so land once.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from vigil.engine.keyed import Emitted, KeyedRunner
from vigil.engine.operator import KeyedOperator
from vigil.store.event_log import EventLog, LogRecord
from vigil.store.operator_state import (
    Checkpoint,
    CheckpointJob,
    FindingRow,
    OperatorStateRepository,
)
from vigil.store.writer import GroupCommitWriter

log = logging.getLogger(__name__)

OutputSink = Callable[[str, list[Emitted]], None]
"""Receives (operator name, outputs) after each batch: live pages, latency probes."""


def finding_row(operator: str, emitted: Emitted) -> FindingRow:
    output = emitted.output
    return FindingRow(
        id=f"{operator}:{emitted.offset}:{emitted.index}",
        tenant=output.tenant,
        entity=output.entity,
        operator=operator,
        kind=output.kind,
        time=output.time,
        offset=emitted.offset,
        message=output.message,
        data=output.data,
    )


class _Stop:
    pass


class EmbeddedRuntime:
    def __init__(
        self,
        operators: Sequence[KeyedOperator[Any]],
        *,
        log_store: EventLog,
        states: OperatorStateRepository,
        writer: GroupCommitWriter,
        checkpoint_seconds: float = 2.0,
        checkpoint_events: int = 100_000,
        catch_up_page: int = 20_000,
    ) -> None:
        names = [op.name for op in operators]
        if len(set(names)) != len(names):
            raise ValueError(f"operator names must be unique: {names}")
        self.runners = [KeyedRunner(op) for op in operators]
        self.log_store = log_store
        self.states = states
        self.writer = writer
        self.checkpoint_seconds = checkpoint_seconds
        self.checkpoint_events = checkpoint_events
        self.catch_up_page = catch_up_page
        self.sinks: list[OutputSink] = []
        self._queue: queue.SimpleQueue[list[LogRecord] | _Stop] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="vigil-runtime", daemon=True)
        self._progress = threading.Condition()
        self._state_lock = threading.Lock()
        """Held while a batch is processed, so readers see whole batches."""
        self._processed = 0
        self._since_checkpoint = 0
        self._last_checkpoint = time.monotonic()
        self.failed: BaseException | None = None

    # --- wiring --------------------------------------------------------------

    def add_sink(self, sink: OutputSink) -> None:
        self.sinks.append(sink)

    def feed(self, records: list[LogRecord]) -> None:
        """Called by the writer after a commit; never blocks."""
        self._queue.put(records)

    def start(self) -> None:
        for runner in self.runners:
            offset, runtime_state, keys = self.states.load(runner.name)
            if runtime_state is not None:
                runner.restore(offset, runtime_state, keys)
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

    def read_state(self, name: str, read: Callable[[KeyedRunner], Any]) -> Any:
        """``read(runner)`` between batches: for queries of live operator state.

        ``read`` must copy what it returns; the state goes on changing after."""
        with self._state_lock:
            return read(self.runner(name))

    def runner(self, name: str) -> KeyedRunner:
        for runner in self.runners:
            if runner.name == name:
                return runner
        raise KeyError(name)

    # --- the thread ----------------------------------------------------------

    def _run(self) -> None:
        try:
            self._catch_up()
            while True:
                item = self._queue.get()
                if isinstance(item, _Stop):
                    break
                batch = item
                while True:  # fold whatever else is queued into one pass
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if isinstance(more, _Stop):
                        self._handle(batch)
                        self._checkpoint(wait=True)
                        return
                    batch = batch + more
                self._handle(batch)
            self._checkpoint(wait=True)
        except BaseException as err:  # surfaced through wait_for / health, never silent
            log.exception("operator runtime failed")
            self.failed = err
            with self._progress:
                self._progress.notify_all()

    def _catch_up(self) -> None:
        after = min((runner.offset for runner in self.runners), default=0)
        self._set_processed(after)
        while True:
            records = self.log_store.read(after, self.catch_up_page)
            if not records:
                break
            self._handle(records)
            after = records[-1].offset
        self._checkpoint(wait=False)

    def _set_processed(self, offset: int) -> None:
        with self._progress:
            self._processed = max(self._processed, offset)
            self._progress.notify_all()

    def _handle(self, records: list[LogRecord]) -> None:
        new_findings: list[FindingRow] = []
        for runner in self.runners:
            with self._state_lock:
                emitted = runner.process(records)
            if not emitted:
                continue
            new_findings.extend(
                finding_row(runner.name, item) for item in emitted if item.output.durable
            )
            for sink in self.sinks:
                sink(runner.name, emitted)
        if new_findings:
            self.writer.submit(CheckpointJob((), new_findings))
        self._since_checkpoint += len(records)
        if (
            self._since_checkpoint >= self.checkpoint_events
            or time.monotonic() - self._last_checkpoint >= self.checkpoint_seconds
        ):
            self._checkpoint(wait=False)
        self._set_processed(records[-1].offset)

    def _checkpoint(self, *, wait: bool) -> None:
        checkpoints = [
            Checkpoint(runner.name, runner.offset, runner.runtime_state(), runner.take_dirty())
            for runner in self.runners
        ]
        future = self.writer.submit(CheckpointJob(checkpoints, ()))
        self._since_checkpoint = 0
        self._last_checkpoint = time.monotonic()
        if wait:
            future.result()
