"""The operator contract: generic checks every keyed operator must pass.

Each check is a small function ``check(operator, events)`` whose docstring states
the property. It never mutates ``operator``: it runs deep copies through a
``KeyedRunner``, exactly as the runtime does, and raises ``AssertionError`` if
the property does not hold. ``yield_checks`` picks the checks that apply to an
operator (for example by its late policy); ``check_operator`` runs them all.

>>> from vigil.monitoring import LastValueTracker
>>> [check.__name__ for check in yield_checks(LastValueTracker())][:3]
['check_declares_identity', 'check_params_stored_under_their_names', 'check_deterministic']
>>> check_operator(LastValueTracker(), sample_events(seed=3, tenants=2, entities=2, hours=6))
"""

from __future__ import annotations

import copy
import inspect
import math
import os
import pickle
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import msgspec

from vigil.engine.keyed import KeyedRunner
from vigil.engine.operator import KeyedOperator, LatePolicy
from vigil.engine.records import LogRecord
from vigil.events import Event
from vigil.testing.guards import forbid_wall_clock
from vigil.testing.runs import (
    Operator,
    assert_same_outputs,
    assert_well_formed,
    describe,
    fresh_copy,
    fresh_run,
    require,
    run,
    run_with_restarts,
    spy,
)
from vigil.testing.samples import odd_events, records, sample_events

Check = Callable[[Operator, Sequence[Event]], None]
"""A named property of an operator, checked against a list of events."""


# --- the checks -----------------------------------------------------------------


def check_declares_identity(operator: Operator, events: Sequence[Event]) -> None:
    """Name, state type, late policy and lateness are declared; initial state is fresh.

    The runtime keys checkpoints by ``name``, decodes with ``State``, and hands each
    key its own ``initial_state``; a shared initial object would leak between keys.
    """
    require(isinstance(operator.name, str) and operator.name, "name must be a non-empty string")
    require(
        isinstance(operator.State, type) and issubclass(operator.State, msgspec.Struct),
        "State must be a msgspec.Struct subclass",
    )
    require(isinstance(operator.late_policy, LatePolicy), "late_policy must be a LatePolicy")
    lateness = operator.allowed_lateness
    require(math.isfinite(lateness) and lateness >= 0, "allowed_lateness must be finite, >= 0")
    first, second = operator.initial_state("a"), operator.initial_state("a")
    require(isinstance(first, operator.State), "initial_state must return a State")
    require(first is not second, "initial_state must build a new State on every call")


def check_params_stored_under_their_names(operator: Operator, events: Sequence[Event]) -> None:
    """Constructor arguments are kept under their own names, so the operator can be cloned.

    Rebuilding it from ``getattr(operator, param)`` must give an operator that
    behaves identically: configuration is exactly the constructor arguments.
    """
    params = inspect.signature(type(operator)).parameters.values()
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for param in params:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        require(
            hasattr(operator, param.name), f"parameter {param.name!r} is not stored as an attribute"
        )
        value = copy.deepcopy(getattr(operator, param.name))
        if param.kind is param.POSITIONAL_ONLY:
            args.append(value)
        else:
            kwargs[param.name] = value
    clone = type(operator)(*args, **kwargs)
    log = records(events)
    assert_same_outputs(fresh_run(operator, log), fresh_run(clone, log), "clone from parameters")


def check_deterministic(operator: Operator, events: Sequence[Event]) -> None:
    """The same events give the same outputs: twice through one instance, once through a copy.

    Reusing one instance catches state kept in globals or class attributes.
    """
    log = records(events)
    reused = fresh_copy(operator)
    first = run(reused, log)
    assert_same_outputs(first, run(reused, log), "second run through the same instance")
    assert_same_outputs(first, fresh_run(operator, log), "run through a fresh copy")


def check_keeps_no_state_on_itself(operator: Operator, events: Sequence[Event]) -> None:
    """Processing leaves the operator's attributes unchanged: all state lives in ``State``.

    State held on the instance is not checkpointed, so it is lost on restart.
    """
    used = fresh_copy(operator)
    before = copy.deepcopy(vars(used))
    run(used, records(events))
    changed = sorted(
        k for k in before.keys() | vars(used).keys() if before.get(k) != vars(used).get(k)
    )
    require(not changed, f"attributes changed while processing: {changed}")


def check_no_wall_clock(operator: Operator, events: Sequence[Event]) -> None:
    """Outputs don't depend on the wall clock or unseeded randomness.

    Runs with ``time.time``, ``datetime.now``, ``random``, ``uuid4`` and friends
    patched to raise, and requires the same outputs as an unpatched run.
    """
    log = records(events)
    expected = fresh_run(operator, log)
    modules = [
        sys.modules[c.__module__] for c in type(operator).__mro__ if c.__module__ in sys.modules
    ]
    guarded = fresh_copy(operator)
    with forbid_wall_clock(modules):
        actual = run(guarded, log)
    assert_same_outputs(expected, actual, "run without a wall clock")


def check_state_round_trip(operator: Operator, events: Sequence[Event]) -> None:
    """Checkpoint and restore anywhere: outputs equal those of an uninterrupted run.

    Restarts once halfway and, separately, at seven points with incremental
    checkpoints (only ``take_dirty`` rows). Also every state, after every event,
    decodes to an equal value that encodes to the same bytes.
    """
    log = records(events)
    expected = fresh_run(operator, log)
    n = len(log)
    assert_same_outputs(expected, run_with_restarts(operator, log, [n // 2]), "restart at half")
    cuts = sorted({n * i // 8 for i in range(1, 8)})
    assert_same_outputs(expected, run_with_restarts(operator, log, cuts), f"restarts at {cuts}")
    runner = KeyedRunner(fresh_copy(operator))
    op = runner.operator
    for record in log:
        runner.process([record])
        for slot in sorted(runner.dirty):
            state = runner.keys[slot].state
            data = op.encode_state(state)
            back = op.decode_state(data)
            require(
                back == state,
                f"state of {slot} after offset {record.offset} decodes to {back!r}, not {state!r}",
            )
            require(op.encode_state(back) == data, f"state of {slot} re-encodes differently")
        runner.dirty.clear()


def _check_groups_isolated(operator: Operator, log: Sequence[LogRecord], what: str) -> None:
    """Each tenant of ``log``, run alone, gives exactly the outputs it gets in the full run."""
    full = fresh_run(operator, log)
    tenant_of = {record.offset: record.event.tenant for record in log}
    for tenant in sorted({record.event.tenant for record in log}):
        alone = fresh_run(operator, [r for r in log if r.event.tenant == tenant])
        expected = [e for e in full if tenant_of[e.offset] == tenant]
        assert_same_outputs(expected, alone, f"{what} {tenant!r} alone vs interleaved")


def check_tenants_isolated(operator: Operator, events: Sequence[Event]) -> None:
    """No tenant's events change another tenant's outputs, and every output keeps its tenant.

    Each output (from ``process`` or a timer) carries the tenant of the event that
    caused it, and a tenant run alone gets the same outputs as in the full stream.
    """
    log = records(events)
    tenant_of = {record.offset: record.event.tenant for record in log}
    for emitted in fresh_run(operator, log):
        require(
            emitted.output.tenant == tenant_of[emitted.offset],
            f"output for tenant {emitted.output.tenant!r} caused by an event of "
            f"{tenant_of[emitted.offset]!r}: {describe(emitted)}",
        )
    _check_groups_isolated(operator, log, "tenant")


def check_keys_isolated(operator: Operator, events: Sequence[Event]) -> None:
    """A key's outputs depend only on its own events and its tenant's clock.

    Within one tenant other keys move the shared event-time clock, and so when a
    key's timers fire; so this gives every key a tenant of its own (``tenant#n``)
    and requires each key, run alone, to produce what it produces interleaved
    with all the others. Catches state shared between keys by the operator.
    """
    numbers: dict[tuple[str, str | None], int] = {}
    moved = []
    for event in events:
        slot = (event.tenant, operator.key(event))
        number = numbers.setdefault(slot, len(numbers))
        moved.append(msgspec.structs.replace(event, tenant=f"{event.tenant}#{number}"))
    _check_groups_isolated(operator, records(moved), "key")


_KEYS_ELSEWHERE = """
import pickle, sys
operator, events = pickle.load(sys.stdin.buffer)
pickle.dump([operator.key(event) for event in events], sys.stdout.buffer)
"""


def check_key_stable_across_processes(operator: Operator, events: Sequence[Event]) -> None:
    """``key()`` gives the same key for the same event in another process.

    Checkpointed state is stored under its key; a key built with ``hash()`` (or
    anything else seeded per process) would give every restart a fresh, empty
    state. The operator and the events are pickled to a new interpreter run with
    a different ``PYTHONHASHSEED``, which computes the keys again.
    """
    try:
        payload = pickle.dumps((operator, list(events)))
    except Exception as err:
        raise AssertionError(f"operator cannot be pickled to another process: {err}") from err
    seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [sys.executable, "-c", _KEYS_ELSEWHERE],
        input=payload,
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    require(result.returncode == 0, f"computing keys in another process failed: {result.stderr!r}")
    elsewhere = pickle.loads(result.stdout)
    for event, there in zip(events, elsewhere, strict=True):
        here = operator.key(event)
        require(
            here == there,
            f"key {here!r} here but {there!r} in a process with PYTHONHASHSEED={seed}: {event!r}",
        )


def _late_copies(operator: Operator, log: Sequence[LogRecord], margin: float) -> list[LogRecord]:
    """Copies of about 20 events, each placed right after the original and dated
    ``allowed_lateness + margin`` before its key's watermark at that point."""
    runner = KeyedRunner(fresh_copy(operator))
    stride = max(1, len(log) // 20)
    late = []
    for i, record in enumerate(log):
        runner.process([record])
        key = operator.key(record.event)
        if i % stride != stride - 1 or key is None:
            continue
        watermark = runner.keys[(record.event.tenant, key)].watermark
        time = watermark - operator.allowed_lateness - margin
        event = msgspec.structs.replace(record.event, time=time)
        late.append(LogRecord(record.offset + 1, record.received, event))
    return late


def _merge(log: Sequence[LogRecord], extra: Sequence[LogRecord]) -> list[LogRecord]:
    return sorted([*log, *extra], key=lambda record: record.offset)


def check_late_events_dropped(operator: Operator, events: Sequence[Event]) -> None:
    """LatePolicy.DROP: an event older than its key's watermark minus ``allowed_lateness``
    changes no output, and is counted in ``late_dropped``."""
    log = records(events, step=2)
    late = _late_copies(operator, log, margin=1.0)
    require(late, "no keyed events to make late copies of")
    baseline = KeyedRunner(fresh_copy(operator))
    expected = baseline.process(log)
    runner = KeyedRunner(fresh_copy(operator))
    actual = runner.process(_merge(log, late))
    assert_same_outputs(expected, actual, "with late events inserted")
    dropped = runner.late_dropped - baseline.late_dropped
    require(
        dropped == len(late), f"{len(late)} late events inserted, late_dropped grew by {dropped}"
    )


def check_late_events_processed(operator: Operator, events: Sequence[Event]) -> None:
    """LatePolicy.PROCESS: a late event reaches ``process``; the operator copes.

    Nothing crashes, outputs before the late event are unchanged, and the run
    with late events stays deterministic.
    """
    log = records(events, step=2)
    late = _late_copies(operator, log, margin=3600.0)
    require(late, "no keyed events to make late copies of")
    merged = _merge(log, late)
    seen: list[Event] = []
    watched = spy(operator, "process", lambda args, result: seen.append(args[1]))
    actual = run(watched, merged)
    missing = [r.offset for r in late if r.event not in seen]
    require(not missing, f"late events at offsets {missing[:5]} never reached process()")
    first = late[0].offset
    before = [e for e in fresh_run(operator, log) if e.offset < first]
    assert_same_outputs(
        before, [e for e in actual if e.offset < first], "outputs before the first late event"
    )
    assert_same_outputs(
        fresh_run(operator, merged), fresh_run(operator, merged), "rerun with late events"
    )


def check_timers_move_forward(operator: Operator, events: Sequence[Event]) -> None:
    """After ``on_time(state, now)`` the next wakeup is None or later than ``now``.

    A wakeup at or before ``now`` would be fired again at once, for ever (every
    check runs guarded copies, see ``fresh_copy``, so it fails instead of hanging).
    """
    fresh_run(operator, records(events))


def check_outputs_well_formed(operator: Operator, events: Sequence[Event]) -> None:
    """Every output is well formed (see ``assert_well_formed``): every alert explains itself."""
    assert_well_formed(fresh_run(operator, records(events)))


def check_odd_inputs(operator: Operator, events: Sequence[Event]) -> None:
    """Boundary values (zero, negative, huge, booleans, empty and long strings, the
    largest seq, equal timestamps) don't crash the operator, alone, mixed into the
    stream, or as the first events of new keys and a new tenant after a restore."""
    odd = odd_events(events)
    assert_well_formed(fresh_run(operator, records(odd)))
    half = len(events) // 2
    assert_well_formed(fresh_run(operator, records([*events[:half], *odd, *events[half:]])))
    newcomers = [msgspec.structs.replace(e, tenant="tenant-new") for e in odd]
    log = records([*events[:half], *odd, *newcomers, *events[half:]])
    assert_well_formed(run_with_restarts(operator, log, [half]))


# --- the suite -------------------------------------------------------------------


def yield_checks(operator: Operator) -> Iterator[Check]:
    """The checks that apply to ``operator``; each is called as ``check(operator, events)``.

    There is no seeding check (same seed, same outputs; another seed, other
    outputs) because no Vigil operator is stochastic: none takes a seed or draws
    a random number, and ``check_no_wall_clock`` fails one that reads unseeded
    randomness. Add one here when a stochastic operator arrives.
    """
    yield check_declares_identity
    yield check_params_stored_under_their_names
    yield check_deterministic
    yield check_keeps_no_state_on_itself
    yield check_no_wall_clock
    yield check_state_round_trip
    yield check_tenants_isolated
    yield check_keys_isolated
    yield check_key_stable_across_processes
    if operator.late_policy is LatePolicy.DROP:
        yield check_late_events_dropped
    else:
        yield check_late_events_processed
    yield check_timers_move_forward
    yield check_outputs_well_formed
    yield check_odd_inputs


def check_operator(
    operator: Operator | Callable[[], Operator], events: Sequence[Event] | None = None
) -> None:
    """Run every applicable check; raise ``AssertionError`` naming each one that failed.

    ``operator`` is an instance (checks work on deep copies) or a factory.
    ``events`` defaults to ``sample_events(seed=0)``.
    """
    if not isinstance(operator, KeyedOperator):
        operator = operator()
    events = sample_events(seed=0) if events is None else list(events)
    failures = []
    for check in yield_checks(operator):
        try:
            check(operator, events)
        except Exception as err:
            failures.append(f"{check.__name__}: {type(err).__name__}: {err}")
    if failures:
        raise AssertionError(f"{operator!r} breaks the operator contract:\n" + "\n".join(failures))
