"""What an operator is: a plain class turning one entity's events into outputs.

An operator never reads the wall clock, does no I/O and keeps no globals: its
state for one key is a ``msgspec.Struct`` that round-trips through MessagePack,
its configuration is its constructor arguments, and time comes only from event
timestamps (and from the runtime's per-tenant event-time clock, via
``on_time``). That is what makes replay, checkpointing and scale-out work.

>>> from vigil.events import Reading
>>> class Counter(KeyedOperator["CounterState"]):
...     name = "counter"
...     def initial_state(self, key: str) -> "CounterState":
...         return CounterState()
...     def process(self, state, event):
...         state = CounterState(state.count + 1)
...         return state, [Output(kind="count", tenant=event.tenant, entity=event.entity,
...                               time=event.timestamp, data={"count": state.count})]
>>> class CounterState(msgspec.Struct):
...     count: int = 0
>>> Counter.State = CounterState
>>> op = Counter()
>>> event = Reading(tenant="t", device="d", entity="e", seq=1, time=0.0, metric="m", value=1)
>>> state, outputs = op.process(op.initial_state("e"), event)
>>> outputs[0].data
{'count': 1}
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeAlias, TypeVar

import msgspec

from vigil.engine.projection_rows import Projection
from vigil.events import EVENT_TYPES, ConditionSignal, Derived, LogEvent

StateT = TypeVar("StateT", bound=msgspec.Struct)


class LatePolicy(StrEnum):
    """What the runtime does with an event older than the key has already seen (by more
    than ``allowed_lateness`` seconds of event time)."""

    PROCESS = "process"
    """Hand it to the operator anyway: the operator copes with disorder itself."""
    DROP = "drop"
    """Skip it: the operator's state only moves forward in time."""


class Output(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What an operator produces.

    ``durable`` outputs are findings: stored, with an id derived from the input's
    log offset so a replay re-produces and never duplicates them. Others are live
    updates for pages that are watching. ``message`` says in plain words what
    happened and why, for a carer or an engineer.

    Not tracked by the cycle collector (``gc=False``): ``data`` holds JSON-safe
    values only, so an output can never be part of a reference cycle.
    """

    kind: str
    tenant: str
    entity: str
    time: float
    data: dict[str, Any] = {}
    message: str = ""
    durable: bool = False


Emission: TypeAlias = Output | ConditionSignal | Derived | Projection
"""What ``process`` and ``on_time`` may return:

- ``Output``: a live update for pages (and, if ``durable``, a finding);
- ``ConditionSignal`` / ``Derived``: events for other operators, which the runtime
  appends to the log (once, however often a replay re-derives them);
- a ``Projection`` row: what pages read, written with the next checkpoint.
"""

_DEVICE_TYPES = frozenset(EVENT_TYPES)


class KeyedOperator(ABC, Generic[StateT]):
    """Base class with neutral defaults; subclasses set ``name`` and ``State``."""

    name: ClassVar[str]
    State: ClassVar[type[msgspec.Struct]]
    late_policy: ClassVar[LatePolicy] = LatePolicy.PROCESS
    allowed_lateness: float = 0.0

    def key(self, event: LogEvent) -> str | None:
        """The key whose state this event updates, or None if the operator ignores it.

        By default a device event's entity; the platform's own events (configuration,
        actions, derived events) reach only operators that ask for them. Ticks never
        reach ``process``: they move the tenant's clock, which fires ``on_time``."""
        return event.entity if type(event) in _DEVICE_TYPES else None  # type: ignore[union-attr]

    def initial_state(self, key: str) -> StateT:
        return self.State()  # type: ignore[return-value]

    @abstractmethod
    def process(self, state: StateT, event: LogEvent) -> tuple[StateT, list[Emission]]:
        """The key's new state and what the event caused."""

    def on_time(self, state: StateT, now: float) -> tuple[StateT, list[Emission]]:
        """Called when the tenant's event-time clock passes ``next_wakeup(state)``."""
        return state, []

    def next_wakeup(self, state: StateT) -> float | None:
        return None

    def encode_state(self, state: StateT) -> bytes:
        return msgspec.msgpack.encode(state)

    def decode_state(self, data: bytes) -> StateT:
        return msgspec.msgpack.decode(data, type=self.State)  # type: ignore[return-value]

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"
