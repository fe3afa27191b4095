"""Run ``CareMonitor`` in-process over a home's events, with the tenant's clock ticking.

The keyed runner (``vigil.engine.keyed``) is what the platform's runtime runs; here it
runs alone, with no store and no HTTP, so that the detection benchmark is quick. Ticks
every five minutes of event time play the part of the platform's clock, as ``vigil
replay`` and the simulator write them, so silence is seen.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence

from vigil.care import CareMonitor
from vigil.catalog import Catalog
from vigil.engine.keyed import Emitted, KeyedRunner
from vigil.engine.records import LogRecord
from vigil.events import ConditionSignal, LogEvent, Tick
from vigil.platform import configuration_events

TICK_SECONDS = 300.0
DEVICE_ROUTE = "installer"
"""Device problems go to the installer's list; they are not care alerts."""


def with_ticks(
    events: Iterable[LogEvent], tenants: Sequence[str], start: float, until: float
) -> Iterator[LogEvent]:
    """``events`` (in time order) with a tick per tenant every ``TICK_SECONDS`` to ``until``."""
    ticks = (
        Tick(tenant=tenant, time=start + i * TICK_SECONDS)
        for i in range(int((until - start) // TICK_SECONDS) + 1)
        for tenant in tenants
    )
    # A tick at the same time as an event comes after it, as the platform writes them.
    yield from heapq.merge(events, ticks, key=lambda e: (e.timestamp, type(e) is Tick))


def replay(
    catalog: Catalog,
    events: Sequence[LogEvent],
    *,
    until: float | None = None,
    monitor: CareMonitor | None = None,
) -> tuple[list[Emitted], KeyedRunner]:
    """Every output of ``CareMonitor`` over ``catalog``'s configuration and ``events``."""
    if not events:
        return [], KeyedRunner(monitor or CareMonitor())
    start = events[0].timestamp - 60
    end = until if until is not None else events[-1].timestamp
    config = configuration_events(Catalog(), catalog, time=start)
    tenants = sorted({t.id for t in catalog.tenants} | {e.tenant for e in events})
    log = [*config, *with_ticks(events, tenants, start, end)]
    runner = KeyedRunner(monitor or CareMonitor())
    emitted = runner.process(LogRecord(i + 1, e.timestamp, e) for i, e in enumerate(log))
    return emitted, runner


def opened(emitted: Iterable[Emitted]) -> list[ConditionSignal]:
    """The care alerts opened (device problems, routed to the installer, left out)."""
    return [
        e.output
        for e in emitted
        if isinstance(e.output, ConditionSignal)
        and e.output.change == "open"
        and e.output.route != DEVICE_ROUTE
    ]


def care_days(emitted: Iterable[Emitted]) -> list[dict]:
    """The daily indicator records (``care_day``) in the order the days closed."""
    return [
        e.output.data  # type: ignore[union-attr]
        for e in emitted
        if getattr(e.output, "kind", "") == "care_day" and hasattr(e.output, "durable")
    ]


class Stream:
    """A keyed runner fed slice by slice (a simulated region too big to hold at once)."""

    def __init__(self, catalog: Catalog, start: float, monitor: CareMonitor | None = None):
        self.runner = KeyedRunner(monitor or CareMonitor())
        self.tenants = sorted(t.id for t in catalog.tenants)
        self.offset = 0
        self.clock = start
        self.emitted: list[Emitted] = []
        self._feed(configuration_events(Catalog(), catalog, time=start))

    def _feed(self, events: Iterable[LogEvent]) -> list[Emitted]:
        records = []
        for event in events:
            self.offset += 1
            records.append(LogRecord(self.offset, event.timestamp, event))
        out = self.runner.process(records)
        self.emitted.extend(out)
        return out

    def feed(self, events: Iterable[LogEvent], until: float) -> int:
        """Events up to ``until`` (in time order), with the ticks; how many records."""
        before = self.offset
        start = self.clock + TICK_SECONDS
        self._feed(with_ticks(events, self.tenants, start, until))
        self.clock = start + ((until - start) // TICK_SECONDS) * TICK_SECONDS
        return self.offset - before
