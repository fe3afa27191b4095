"""Running an operator the way the runtime does, and comparing what comes out.

>>> from vigil.monitoring import LastValueTracker
>>> from vigil.testing.samples import records, sample_events
>>> log = records(sample_events(seed=2, tenants=1, entities=1, hours=2))
>>> once = run(fresh_copy(LastValueTracker()), log)
>>> twice = run_with_restarts(LastValueTracker(), log, [len(log) // 2])
>>> assert_same_outputs(once, twice, "restart halfway")
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from vigil.engine.keyed import Emitted, KeyedRunner
from vigil.engine.operator import KeyedOperator, Output
from vigil.engine.projection_rows import PROJECTION_TYPES, ConditionRow, Projection
from vigil.engine.records import LogRecord
from vigil.events import DERIVED_TYPES, ConditionSignal, Derived, LogEvent

Operator = KeyedOperator[Any]

_encode = msgspec.msgpack.Encoder().encode


def require(condition: object, message: str) -> None:
    """``assert`` that survives ``python -O``: checks must never pass by being skipped."""
    if not condition:
        raise AssertionError(message)


def run(operator: Operator, log: Sequence[LogRecord]) -> list[Emitted]:
    """Everything one fresh runner emits for ``log``, using ``operator`` as given."""
    return KeyedRunner(operator).process(log)


def run_with_restarts(
    operator: Operator, log: Sequence[LogRecord], cuts: Sequence[int]
) -> list[Emitted]:
    """Run ``log``, checkpointing and restarting from the checkpoint at each cut.

    Follows the runtime's protocol: after each cut only ``take_dirty()`` rows are
    added to the stored key states, a fresh copy of the operator is restored from
    them (in no particular order), and the log is replayed from its start (restored
    offsets are skipped).
    """
    stored: dict[tuple[str, str], bytes] = {}
    runner = KeyedRunner(fresh_copy(operator))
    emitted: list[Emitted] = []
    for cut in sorted(cuts):
        emitted += runner.process(log[:cut])
        for tenant, key, data in runner.take_dirty():
            stored[(tenant, key)] = data
        offset, runtime = runner.offset, runner.runtime_state()
        runner = KeyedRunner(fresh_copy(operator))
        rows = [(t, k, d) for (t, k), d in sorted(stored.items(), reverse=True)]
        runner.restore(offset, runtime, rows)  # reversed: a database returns rows in any order
    return emitted + runner.process(log)


def fresh_copy(operator: Operator) -> Operator:
    """A deep copy whose timers are guarded: if ``on_time`` leaves the next wakeup at
    or before ``now``, raise instead of letting the runner fire it again for ever."""
    clone = copy.deepcopy(operator)
    on_time, next_wakeup = clone.on_time, clone.next_wakeup

    def guarded_on_time(state: Any, now: float) -> tuple[Any, list[Output]]:
        state, outputs = on_time(state, now)
        wakeup = next_wakeup(state)
        if wakeup is not None and wakeup <= now:
            raise AssertionError(f"on_time at {now} left next_wakeup at {wakeup}, not later")
        return state, outputs

    clone.on_time = guarded_on_time  # type: ignore[method-assign]
    return clone


def fresh_run(operator: Operator, log: Sequence[LogRecord]) -> list[Emitted]:
    return run(fresh_copy(operator), log)


def describe(emitted: Emitted) -> str:
    text = repr(emitted)
    return text if len(text) < 400 else text[:400] + "..."


def assert_same_outputs(expected: Sequence[Emitted], actual: Sequence[Emitted], what: str) -> None:
    """Compare emitted outputs by their MessagePack encoding; name the first difference."""
    for i, (want, got) in enumerate(zip(expected, actual, strict=False)):
        if _encode(want) != _encode(got):
            raise AssertionError(
                f"{what}: output {i} differs\n"
                f"  expected {describe(want)}\n"
                f"  got      {describe(got)}"
            )
    if len(expected) != len(actual):
        longer = expected if len(expected) > len(actual) else actual
        raise AssertionError(
            f"{what}: expected {len(expected)} outputs, got {len(actual)}; "
            f"first unmatched: {describe(longer[min(len(expected), len(actual))])}"
        )


def spy(operator: Operator, method: str, hook: Callable[..., None]) -> Operator:
    """A copy of ``operator`` whose ``method`` calls ``hook(args, result)`` after each call."""
    spy = fresh_copy(operator)
    original = getattr(spy, method)

    def wrapper(*args: Any) -> Any:
        result = original(*args)
        hook(args, result)
        return result

    setattr(spy, method, wrapper)
    return spy


def assert_well_formed(emitted: Sequence[Emitted]) -> None:
    """Every output names its kind, tenant and entity, has a finite time and JSON-safe
    data; a durable one, and every condition opened or updated, explains itself in
    ``message``; derived events and projection rows are whole and finite."""
    for item in emitted:
        output = item.output
        where = describe(item)
        if isinstance(output, ConditionSignal):
            _check_signal(output, where)
            continue
        if isinstance(output, Derived):
            require(output.kind and output.tenant and output.entity, f"derived: {where}")
            require(math.isfinite(output.time), f"time: {where}")
            assert_json_safe(output.data, where)
            continue
        if isinstance(output, PROJECTION_TYPES):
            _check_projection(output, where)
            continue
        require(isinstance(output, Output), f"not an Output: {where}")
        require(
            output.kind and output.tenant and output.entity, f"kind/tenant/entity empty: {where}"
        )
        require(
            isinstance(output.time, float | int) and math.isfinite(output.time), f"time: {where}"
        )
        assert_json_safe(output.data, where)
        if output.durable:
            require(output.message.strip(), f"durable output without a message: {where}")


def _check_signal(signal: ConditionSignal, where: str) -> None:
    require(signal.key and signal.kind and signal.tenant and signal.entity, f"signal: {where}")
    require(signal.route, f"condition routed to nobody: {where}")
    require(math.isfinite(signal.time), f"time: {where}")
    if signal.change != "close":
        require(signal.message.strip(), f"condition without an explanation: {where}")
    assert_json_safe(signal.evidence, where)


def _check_projection(row: Projection, where: str) -> None:
    require(row.tenant, f"projection row without a tenant: {where}")
    for name in row.__struct_fields__:
        value = getattr(row, name)
        if isinstance(value, float):
            require(math.isfinite(value), f"projection {name} is {value}: {where}")
    if isinstance(row, ConditionRow):
        assert_json_safe(row.evidence, where)


def assert_json_safe(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            require(isinstance(key, str), f"data key {key!r} is not a string: {where}")
            assert_json_safe(item, where)
    elif isinstance(value, list | tuple):
        for item in value:
            assert_json_safe(item, where)
    elif isinstance(value, float):
        require(math.isfinite(value), f"data holds {value}, which JSON cannot carry: {where}")
    else:
        require(value is None or isinstance(value, str | int), f"data holds {value!r}: {where}")


class ChainRun(msgspec.Struct):
    """What ``run_chain`` saw: every runner (with its final state) and its outputs."""

    runners: list[KeyedRunner]
    emitted: dict[str, list[Emitted]]
    derived: list[LogEvent]
    """Derived events with their ``source`` and ``origin`` filled in, in order."""


def run_chain(operators: Sequence[Operator], log: Sequence[LogRecord]) -> ChainRun:
    """Operators chained the plain way: one record at a time through every operator
    in order, each seeing the events the ones before it derived from that record.

    The runtime batches and reorders its work for speed; this is the slow, obvious
    version its results are compared with."""
    runners = [KeyedRunner(op) for op in operators]
    emitted: dict[str, list[Emitted]] = {runner.name: [] for runner in runners}
    derived_events: list[LogEvent] = []
    for record in log:
        if isinstance(record.event, DERIVED_TYPES):
            continue  # derived again below, as the runtime does
        pending: list[LogRecord] = []
        for runner in runners:
            for item in runner.process([record, *pending]):
                emitted[runner.name].append(item)
                output = item.output
                if isinstance(output, DERIVED_TYPES):
                    event = msgspec.structs.replace(
                        output, source=runner.name, origin=f"{runner.name}:{item.name}"
                    )
                    derived_events.append(event)
                    pending.append(LogRecord(record.offset, record.received, event))
    return ChainRun(runners, emitted, derived_events)
