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
from vigil.store.event_log import LogRecord

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
    data, and a durable one explains itself in ``message``."""
    for item in emitted:
        output = item.output
        where = describe(item)
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
