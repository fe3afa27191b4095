"""A checkpoint of many keys goes one runner a transaction, so the log's appends are
not held behind every runner's keys at once; each runner restores from its own."""

from __future__ import annotations

from collections.abc import Sequence

from vigil.engine import EmbeddedRuntime
from vigil.engine.records import Accepted, LogRecord
from vigil.engine.seams import CheckpointBatch
from vigil.events import Reading
from vigil.monitoring import DeviceHealth, Downsampler, LastValueTracker
from vigil.testing.memory import MemoryCheckpointStore, MemoryLog

T0 = 1_790_000_000.0


class RecordingStore(MemoryCheckpointStore):
    """Keeps which operators each committed batch checkpointed, and a copy of what
    was stored right after the first checkpoint of a round that was spread out:
    what a crash in the middle of the round would leave."""

    def __init__(self, log: MemoryLog) -> None:
        super().__init__(log)
        self.rounds: list[list[str]] = []
        self.mid_round: MemoryCheckpointStore | None = None

    def commit(self, batch: CheckpointBatch, **kwargs):  # type: ignore[no-untyped-def,override]
        if batch.checkpoints:
            self.rounds.append([c.operator for c in batch.checkpoints])
        future = super().commit(batch, **kwargs)
        if len(batch.checkpoints) == 1 and self.mid_round is None:
            copy = self.mid_round = MemoryCheckpointStore(self.log)
            copy.offsets = dict(self.offsets)
            copy.states = {name: dict(keys) for name, keys in self.states.items()}
            copy.marks, copy.findings = dict(self.marks), dict(self.findings)
            copy.projections = dict(self.projections)
        return future


def _readings(devices: int, start: int, time: float) -> list[Accepted]:
    return [
        Accepted(
            Reading(tenant="north", device=f"d{i}", entity=f"e{i % 50}", seq=start,
                    time=time + i * 1e-3, metric="temperature", value=20.0 + i % 7),
            time,
        )
        for i in range(devices)
    ]  # fmt: skip


def _runtime(log: MemoryLog, store: MemoryCheckpointStore, free: int) -> EmbeddedRuntime:
    return EmbeddedRuntime(
        [LastValueTracker(), Downsampler(), DeviceHealth()],
        log_store=log,
        states=store,
        checkpoint_seconds=0.0,
        dirty_keys_free=free,
        events_per_dirty_key=1.0,
    )


def _feed(runtime: EmbeddedRuntime, log: MemoryLog, batches: Sequence[list[Accepted]]) -> int:
    """Each batch processed before the next (not flushed: a flush checkpoints all)."""
    last = 0
    for batch in batches:
        records: list[LogRecord] = log.append(batch, on_commit=runtime.feed).result()
        last = records[-1].offset
        assert runtime.wait_for(last)
    return last


def test_a_large_round_goes_one_runner_a_batch_largest_first() -> None:
    log = MemoryLog()
    store = RecordingStore(log)
    runtime = _runtime(log, store, free=10)
    runtime.start()
    try:
        # 200 devices on 50 entities: device health has the most changed keys.
        _feed(runtime, log, [_readings(200, seq, T0 + seq) for seq in (1, 2, 3, 4)])
    finally:
        runtime.stop()
    spread = [r for r in store.rounds if len(r) == 1]
    assert spread, store.rounds
    assert spread[0] == ["device_health"]
    assert {"last_value", "history"} <= {name for r in spread for name in r}


def test_few_changed_keys_checkpoint_together() -> None:
    log = MemoryLog()
    store = RecordingStore(log)
    runtime = _runtime(log, store, free=10_000)
    runtime.start()
    try:
        _feed(runtime, log, [_readings(200, seq, T0 + seq) for seq in (1, 2)])
    finally:
        runtime.stop()
    assert all(len(r) == 3 for r in store.rounds), store.rounds


def test_each_runner_restores_from_its_own_checkpoint_mid_round() -> None:
    """Restarted from what a crash between two checkpoints of a round leaves (one
    runner checkpointed, the others not), every runner replays from its own offset
    and the outputs equal an unbroken run's."""
    batches = [_readings(200, seq, T0 + seq) for seq in range(1, 6)]
    log = MemoryLog()
    store = RecordingStore(log)
    first = _runtime(log, store, free=10)
    first.start()
    try:
        _feed(first, log, batches[:3])
    finally:
        first.stop()
    crashed = store.mid_round
    assert crashed is not None
    offsets = {name: offset for name, (offset, _) in crashed.offsets.items()}
    assert offsets["device_health"] > max(offsets["last_value"], offsets["history"])

    second = _runtime(log, crashed, free=10)
    second.start()
    try:
        _feed(second, log, batches[3:])
    finally:
        second.stop()

    unbroken_log = MemoryLog()
    unbroken = MemoryCheckpointStore(unbroken_log)
    runtime = _runtime(unbroken_log, unbroken, free=10)
    runtime.start()
    try:
        _feed(runtime, unbroken_log, batches)
    finally:
        runtime.stop()
    assert crashed.states == unbroken.states
    assert crashed.projections == unbroken.projections
