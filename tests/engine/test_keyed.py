"""KeyedRunner: replay skipping, event-time timers per tenant, lateness, checkpoints.

Also proves the contract suite has teeth: operators that break the contract in
the usual ways are caught by ``vigil.testing.check_operator``.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import msgspec
import pytest

from tests.engine.wall_clock_helper import stamp
from vigil.engine.keyed import Emitted, KeyedRunner
from vigil.engine.operator import KeyedOperator, LatePolicy, Output
from vigil.events import Event, Reading
from vigil.store.event_log import LogRecord
from vigil.testing import canonical, check_operator, sample_events

T0 = 1_780_000_000.0


class SilenceState(msgspec.Struct):
    tenant: str = ""
    entity: str = ""
    last: float = 0.0
    count: int = 0
    silent: bool = False


class Silence(KeyedOperator[SilenceState]):
    """Counts each entity's events and says so once it has been silent for ``timeout`` s."""

    name = "silence"
    State = SilenceState

    def __init__(self, timeout: float = 100.0) -> None:
        self.timeout = timeout

    def process(self, state: SilenceState, event: Event) -> tuple[SilenceState, list[Output]]:
        state.tenant, state.entity = event.tenant, event.entity
        state.count += 1
        state.last = max(state.last, event.timestamp)
        state.silent = False
        data = {"count": state.count}
        return state, [
            Output(
                kind="seen",
                tenant=event.tenant,
                entity=event.entity,
                time=event.timestamp,
                data=data,
            )
        ]

    def next_wakeup(self, state: SilenceState) -> float | None:
        return None if state.silent else state.last + self.timeout

    def on_time(self, state: SilenceState, now: float) -> tuple[SilenceState, list[Output]]:
        state.silent = True
        message = f"{state.entity} has been silent for {now - state.last:.0f} s."
        output = Output(
            kind="silent",
            tenant=state.tenant,
            entity=state.entity,
            time=now,
            message=message,
            durable=True,
        )
        return state, [output]


class DroppingSilence(Silence):
    name = "dropping_silence"
    late_policy = LatePolicy.DROP
    allowed_lateness = 10.0


def reading(entity: str, at: float, tenant: str = "t1", value: float = 1.0) -> Event:
    return canonical(
        Reading(
            tenant=tenant,
            device=f"{entity}-d",
            entity=entity,
            seq=0,
            time=T0 + at,
            metric="m",
            value=value,
        )
    )


def log_of(*events: Event, first: int = 1) -> list[LogRecord]:
    return [LogRecord(first + i, event.timestamp, event) for i, event in enumerate(events)]


def kinds(emitted: list[Emitted]) -> list[tuple[str, str]]:
    return [(e.output.kind, e.output.entity) for e in emitted]


def restored(runner: KeyedRunner, operator: KeyedOperator[Any]) -> KeyedRunner:
    fresh = KeyedRunner(operator)
    fresh.restore(runner.offset, runner.runtime_state(), runner.take_dirty())
    return fresh


# --- the runner -----------------------------------------------------------------


def test_offsets_at_or_below_the_restored_offset_are_skipped() -> None:
    """After a restore at offset n, replaying the log re-processes nothing up to n."""
    log = log_of(*(reading("a", float(i)) for i in range(10)))
    whole = KeyedRunner(Silence()).process(log)
    runner = KeyedRunner(Silence())
    runner.process(log[:5])
    again = restored(runner, Silence())
    replayed = again.process(log)
    assert [e.offset for e in replayed] == list(range(6, 11))
    assert replayed == [e for e in whole if e.offset > 5]
    assert again.process(log) == [], "a record already processed is skipped in the same runner too"


def test_timer_fires_once_the_tenant_clock_reaches_the_wakeup_and_not_before() -> None:
    """A wakeup at w fires when the tenant's clock first reaches w, at that clock time, once."""
    runner = KeyedRunner(Silence(timeout=100.0))
    assert kinds(runner.process(log_of(reading("a", 0.0), reading("b", 99.0)))) == [
        ("seen", "a"),
        ("seen", "b"),
    ]
    fired = runner.process(log_of(reading("b", 100.0), first=3))
    assert kinds(fired) == [("seen", "b"), ("silent", "a")]
    assert fired[1].output.time == T0 + 100.0
    assert (fired[1].offset, fired[1].index) == (3, 1), (
        "named after the record that moved the clock"
    )
    assert "silent" not in [
        k for k, _ in kinds(runner.process(log_of(reading("b", 150.0), first=4)))
    ]


def test_a_late_event_does_not_move_the_clock_or_fire_timers() -> None:
    """Only an event newer than the tenant clock advances it; an older one fires nothing."""
    runner = KeyedRunner(Silence(timeout=100.0))
    runner.process(log_of(reading("a", 0.0), reading("b", 90.0)))
    assert kinds(runner.process(log_of(reading("c", 50.0), first=3))) == [("seen", "c")]
    assert runner.clocks["t1"] == T0 + 90.0


def test_a_tenants_timer_is_not_fired_by_another_tenants_clock() -> None:
    """Each tenant has its own event-time clock: tenant B moving on fires none of A's timers."""
    runner = KeyedRunner(Silence(timeout=100.0))
    runner.process(log_of(reading("a", 0.0, tenant="A")))
    assert kinds(runner.process(log_of(reading("b", 500.0, tenant="B"), first=2))) == [
        ("seen", "b")
    ]
    fired = runner.process(log_of(reading("c", 101.0, tenant="A"), first=3))
    assert kinds(fired) == [("seen", "c"), ("silent", "a")]
    assert fired[1].output.tenant == "A"


def test_late_drop_skips_and_counts_events_beyond_the_allowed_lateness() -> None:
    """DROP: older than watermark - allowed_lateness is counted and skipped; the boundary is not."""
    runner = KeyedRunner(DroppingSilence())
    runner.process(log_of(reading("a", 100.0)))
    runner.take_dirty()
    assert runner.process(log_of(reading("a", 89.0), first=2)) == []
    assert runner.late_dropped == 1
    assert runner.take_dirty() == [], "a dropped event changes no state"
    assert kinds(runner.process(log_of(reading("a", 90.0), reading("a", 95.0), first=3))) == [
        ("seen", "a"),
        ("seen", "a"),
    ]
    assert runner.late_dropped == 1
    assert runner.state_of("t1", "a").count == 3


def test_late_process_hands_late_events_to_the_operator() -> None:
    """PROCESS: however late, the event reaches the operator and the watermark stays put."""
    runner = KeyedRunner(Silence())
    runner.process(log_of(reading("a", 1000.0)))
    assert kinds(runner.process(log_of(reading("a", 0.0), first=2))) == [("seen", "a")]
    assert runner.late_dropped == 0
    assert runner.keys[("t1", "a")].watermark == T0 + 1000.0


def test_restore_rebuilds_timers() -> None:
    """Timers pending at a checkpoint fire after a restore exactly as without the restart."""
    log = log_of(reading("a", 0.0), reading("b", 50.0), reading("b", 150.0), reading("a", 300.0))
    whole = KeyedRunner(Silence()).process(log)
    runner = KeyedRunner(Silence())
    first = runner.process(log[:2])
    again = restored(runner, Silence())
    assert again.timers["t1"], "the restored runner has timers"
    assert first + again.process(log) == whole
    assert ("silent", "a") in kinds(whole)


def test_take_dirty_returns_only_keys_changed_since_the_last_call() -> None:
    """take_dirty lists keys whose state changed (by an event or a timer) since the last call."""
    runner = KeyedRunner(Silence(timeout=100.0))
    runner.process(log_of(reading("a", 0.0), reading("b", 10.0)))
    assert [(t, k) for t, k, _ in runner.take_dirty()] == [("t1", "a"), ("t1", "b")]
    assert runner.take_dirty() == []
    runner.process(log_of(reading("b", 20.0), first=3))
    assert [(t, k) for t, k, _ in runner.take_dirty()] == [("t1", "b")]
    runner.process(log_of(reading("c", 105.0, tenant="t2"), first=4))
    assert [(t, k) for t, k, _ in runner.take_dirty()] == [("t2", "c")]
    runner.process(log_of(reading("b", 105.0), first=5))  # fires a's timer
    assert [(t, k) for t, k, _ in runner.take_dirty()] == [("t1", "a"), ("t1", "b")]


# --- the contract suite catches broken operators -----------------------------------


def test_the_contract_suite_passes_a_correct_operator() -> None:
    """The suite's checks hold for a small, correct operator of both late policies."""
    check_operator(Silence())
    check_operator(DroppingSilence)


class ReadsWallClock(Silence):
    name = "reads_wall_clock"

    def process(self, state: SilenceState, event: Event) -> tuple[SilenceState, list[Output]]:
        state, outputs = super().process(state, event)
        stamped = msgspec.structs.replace(outputs[0], data={"at": time.time()})
        return state, [stamped]


class ReadsWallClockInAHelper(Silence):
    """Reads the clock through a helper module that did ``from time import time``."""

    name = "reads_wall_clock_in_a_helper"

    def process(self, state: SilenceState, event: Event) -> tuple[SilenceState, list[Output]]:
        state, outputs = super().process(state, event)
        # The outputs do not change with the clock: only the guard can see this.
        return state, [msgspec.structs.replace(outputs[0], data={"dated": stamp() > 0})]


class KeyByHash(Silence):
    """Keys by ``hash()`` of a string, which differs between processes."""

    name = "key_by_hash"

    def key(self, event: Event) -> str | None:
        return str(hash(event.entity) % 1000)


class GlobalCounter(Silence):
    name = "global_counter"
    counted: ClassVar[list[int]] = [0]

    def process(self, state: SilenceState, event: Event) -> tuple[SilenceState, list[Output]]:
        self.counted[0] += 1
        state, outputs = super().process(state, event)
        return state, [msgspec.structs.replace(outputs[0], data={"n": self.counted[0]})]


class InstanceState(Silence):
    name = "instance_state"

    def __init__(self, timeout: float = 100.0) -> None:
        super().__init__(timeout)
        self.seen: dict[str, int] = {}

    def process(self, state: SilenceState, event: Event) -> tuple[SilenceState, list[Output]]:
        self.seen[event.entity] = self.seen.get(event.entity, 0) + 1
        state, outputs = super().process(state, event)
        return state, [msgspec.structs.replace(outputs[0], data={"n": self.seen[event.entity]})]


_SHARED = SilenceState()


class SharedInitialState(Silence):
    name = "shared_initial_state"

    def initial_state(self, key: str) -> SilenceState:
        return _SHARED


class ForgetfulCheckpoint(Silence):
    name = "forgetful_checkpoint"

    def encode_state(self, state: SilenceState) -> bytes:
        return msgspec.msgpack.encode(msgspec.structs.replace(state, count=0))


class WrongTenant(Silence):
    name = "wrong_tenant"

    def on_time(self, state: SilenceState, now: float) -> tuple[SilenceState, list[Output]]:
        state, outputs = super().on_time(state, now)
        return state, [msgspec.structs.replace(outputs[0], tenant="everyone")]


class SilentAlert(Silence):
    name = "silent_alert"

    def on_time(self, state: SilenceState, now: float) -> tuple[SilenceState, list[Output]]:
        state, outputs = super().on_time(state, now)
        return state, [msgspec.structs.replace(outputs[0], message="")]


class StuckTimer(Silence):
    name = "stuck_timer"

    def next_wakeup(self, state: SilenceState) -> float | None:
        return state.last + self.timeout


class CrashesWhenLate(Silence):
    name = "crashes_when_late"

    def process(self, state: SilenceState, event: Event) -> tuple[SilenceState, list[Output]]:
        if event.timestamp < state.last - 1800.0:
            raise ValueError("time went backwards")
        return super().process(state, event)


class StoresParamsElsewhere(Silence):
    name = "stores_params_elsewhere"

    def __init__(self, patience: float = 100.0) -> None:
        super().__init__(timeout=patience)


@pytest.mark.parametrize(
    ("broken", "caught_by"),
    [
        (ReadsWallClock, "check_no_wall_clock"),
        (ReadsWallClockInAHelper, "check_no_wall_clock"),
        (KeyByHash, "check_key_stable_across_processes"),
        (GlobalCounter, "check_deterministic"),
        (GlobalCounter, "check_state_round_trip"),
        (InstanceState, "check_keeps_no_state_on_itself"),
        (InstanceState, "check_state_round_trip"),
        (SharedInitialState, "check_declares_identity"),
        (SharedInitialState, "check_keys_isolated"),
        (ForgetfulCheckpoint, "check_state_round_trip"),
        (WrongTenant, "check_tenants_isolated"),
        (SilentAlert, "check_outputs_well_formed"),
        (StuckTimer, "check_timers_move_forward"),
        (CrashesWhenLate, "check_late_events_processed"),
        (StoresParamsElsewhere, "check_params_stored_under_their_names"),
    ],
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
def test_the_contract_suite_catches_a_broken_operator(
    broken: type[Silence], caught_by: str
) -> None:
    """Each way of breaking the contract fails the check written for it."""
    events = sample_events(seed=5, tenants=2, entities=2, hours=8)
    with pytest.raises(AssertionError) as failure:
        check_operator(broken(), events)
    failed = [line.split(":")[0] for line in str(failure.value).splitlines()[1:]]
    assert caught_by in failed, str(failure.value)
