"""Running one operator over the log: per-key state, lateness, event-time timers.

Deterministic by construction: given the same log from the same checkpoint it
produces the same outputs in the same order. The per-tenant clock is the largest
event time seen in that tenant's events, ticks included; timers fire when it
passes them, so silence is seen even when no device of the tenant sends anything.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from typing import Any

import msgspec

from vigil.engine.operator import Emission, KeyedOperator, LatePolicy
from vigil.engine.records import LogRecord
from vigil.events import DERIVED_TYPES, Tick, event_timestamp


class KeyState(msgspec.Struct, gc=False):
    state: Any
    watermark: float
    """Largest event time this key has processed."""
    wakeup: float | None = None
    """When the operator wants ``on_time`` next."""
    queued: float | None = None
    """The time of this key's entry in the timer heap, if it has one (never later than
    ``wakeup``). A wakeup that moves later, as a heartbeat does with every event,
    leaves the entry alone; when it comes up it is put back at the new time. So the
    heap holds one entry per key, not one per event."""


class Emitted(msgspec.Struct, frozen=True, gc=False):
    """An output and the place in the log that caused it (which names it, if durable)."""

    offset: int
    index: int
    received: float
    output: Emission
    cause: str = ""
    """What names the output: the input's log offset, or for an input that is itself
    derived, the derived event's own origin, which a replay reproduces even when the
    derived event landed at another offset."""

    @property
    def name(self) -> str:
        return f"{self.cause or self.offset}:{self.index}"


class _StoredKey(msgspec.Struct, array_like=True):
    watermark: float
    wakeup: float | None
    state: msgspec.Raw


class _RuntimeState(msgspec.Struct):
    clocks: dict[str, float] = {}
    late_dropped: int = 0


class KeyedRunner:
    def __init__(self, operator: KeyedOperator[Any]) -> None:
        self.operator = operator
        self.keys: dict[tuple[str, str], KeyState] = {}
        self.clocks: dict[str, float] = {}
        self.timers: dict[str, list[tuple[float, str]]] = {}
        self.dirty: set[tuple[str, str]] = set()
        self.offset = 0
        """Offset of the last record processed."""
        self.late_dropped = 0
        self._has_timers = type(operator).next_wakeup is not KeyedOperator.next_wakeup

    @property
    def name(self) -> str:
        return self.operator.name

    def process(self, records: Iterable[LogRecord]) -> list[Emitted]:
        # The hot loop of the platform: attribute look-ups are hoisted on purpose.
        emitted: list[Emitted] = []
        append = emitted.append
        operator = self.operator
        key_of, process, next_wakeup = operator.key, operator.process, operator.next_wakeup
        lateness = operator.allowed_lateness
        drop_late = operator.late_policy is LatePolicy.DROP
        keys, clocks, mark_dirty = self.keys, self.clocks, self.dirty.add
        has_timers, timers = self._has_timers, self.timers
        derived_types = DERIVED_TYPES
        for record in records:
            offset = record.offset
            if offset <= self.offset and (
                offset < self.offset or type(record.event) not in derived_types
            ):
                continue  # already reflected in the restored state
            # (An event derived in this pass carries the offset of the record that
            # caused it, and follows it: see ``EmbeddedRuntime``.)
            self.offset = offset
            event = record.event
            tenant = event.tenant
            time = event.time
            if type(time) is not float:
                time = event_timestamp(time)
            kind = type(event)
            key = None if kind is Tick else key_of(event)
            index = 0
            if key is not None:
                slot = (tenant, key)
                entry = keys.get(slot)
                if entry is None:
                    entry = keys[slot] = KeyState(operator.initial_state(key), time)
                if drop_late and time < entry.watermark - lateness:
                    self.late_dropped += 1
                else:
                    entry.state, outputs = process(entry.state, event)
                    if time > entry.watermark:
                        entry.watermark = time
                    cause = event.origin if kind in derived_types else ""  # type: ignore[union-attr]
                    for output in outputs:
                        append(Emitted(offset, index, record.received, output, cause))
                        index += 1
                    if has_timers:  # _schedule, inlined: this runs for every event
                        wakeup = entry.wakeup = next_wakeup(entry.state)
                        if wakeup is not None and (entry.queued is None or wakeup < entry.queued):
                            entry.queued = wakeup
                            heapq.heappush(timers.setdefault(tenant, []), (wakeup, key))
                    mark_dirty(slot)
            clock = clocks.get(tenant)
            if clock is None or time > clock:
                clocks[tenant] = time
                if has_timers and (heap := timers.get(tenant)) and heap[0][0] <= time:
                    self._fire(tenant, time, record, index, emitted)
        return emitted

    def skip_to(self, offset: int) -> None:
        """Count the log up to ``offset`` as processed, records or not (a record no
        one can decode is set aside by the runtime, never given to the operator)."""
        if offset > self.offset:
            self.offset = offset

    def _schedule(self, tenant: str, key: str, entry: KeyState) -> None:
        wakeup = entry.wakeup = self.operator.next_wakeup(entry.state)
        if wakeup is not None and (entry.queued is None or wakeup < entry.queued):
            entry.queued = wakeup
            heapq.heappush(self.timers.setdefault(tenant, []), (wakeup, key))

    def _fire(
        self, tenant: str, now: float, record: LogRecord, index: int, emitted: list[Emitted]
    ) -> None:
        heap = self.timers.get(tenant)
        due: list[tuple[float, str, KeyState]] = []
        while heap and heap[0][0] <= now:
            queued, key = heapq.heappop(heap)
            entry = self.keys.get((tenant, key))
            if entry is None or entry.queued != queued:
                continue  # an earlier entry for this key replaced this one
            entry.queued = None
            if entry.wakeup is None:
                continue
            if entry.wakeup > now:  # moved later since it was queued
                entry.queued = entry.wakeup
                heapq.heappush(heap, (entry.wakeup, key))
                continue
            due.append((entry.wakeup, key, entry))
        # Fired in (wakeup, key) order whatever the heap's history, so a restored runner
        # numbers its outputs exactly as an uninterrupted one.
        due.sort(key=lambda item: (item[0], item[1]))
        event = record.event
        cause = event.origin if type(event) in DERIVED_TYPES else ""  # type: ignore[union-attr]
        for _, key, entry in due:
            entry.state, outputs = self.operator.on_time(entry.state, now)
            for output in outputs:
                emitted.append(Emitted(record.offset, index, record.received, output, cause))
                index += 1
            self.dirty.add((tenant, key))
        # Rescheduled only now: a timer set at or before ``now`` waits for the clock to
        # move again instead of firing over and over at the same instant.
        for _, key, entry in due:
            self._schedule(tenant, key, entry)

    # --- checkpoints ---------------------------------------------------------

    def take_dirty(self) -> list[tuple[str, str, bytes]]:
        """Encoded state of every key changed since the last call."""
        encode = self.operator.encode_state
        rows = []
        for tenant, key in sorted(self.dirty):
            entry = self.keys[(tenant, key)]
            stored = _StoredKey(entry.watermark, entry.wakeup, msgspec.Raw(encode(entry.state)))
            rows.append((tenant, key, msgspec.msgpack.encode(stored)))
        self.dirty.clear()
        return rows

    def runtime_state(self) -> bytes:
        return msgspec.msgpack.encode(_RuntimeState(dict(self.clocks), self.late_dropped))

    def restore(
        self, offset: int, runtime_state: bytes, keys: Iterable[tuple[str, str, bytes]]
    ) -> None:
        restored = msgspec.msgpack.decode(runtime_state, type=_RuntimeState)
        self.offset = offset
        self.clocks = dict(restored.clocks)
        self.late_dropped = restored.late_dropped
        self.keys.clear()
        self.timers.clear()
        self.dirty.clear()
        decode = self.operator.decode_state
        for tenant, key, data in keys:
            stored = msgspec.msgpack.decode(data, type=_StoredKey)
            entry = KeyState(decode(stored.state), stored.watermark, stored.wakeup)
            self.keys[(tenant, key)] = entry
            if entry.wakeup is not None:
                entry.queued = entry.wakeup
                self.timers.setdefault(tenant, []).append((entry.wakeup, key))
        for heap in self.timers.values():
            heapq.heapify(heap)

    def state_of(self, tenant: str, key: str) -> Any:
        entry = self.keys.get((tenant, key))
        return None if entry is None else entry.state
