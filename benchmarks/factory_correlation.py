"""Machine stops attributed to the network, measured on the simulator's ground truth.

The simulated plant's cells have spells of bad radio; in the worst, modems lose
their link and the machines they control stop (``vigil.sim.plant``). Everyday
machine stops happen too, a quarter of them entered with no reason. The whole
factory chain runs over the simulated events (``MachineOEE`` → ``LinkHealth`` →
``CellServiceLevel`` → ``StopAttribution``, as the platform chains them), and
every ``network_stop`` finding is matched to the simulator's stops:

- ``network_stops_attributed``: of the stops the network caused, the share
  attributed to it (target >= 0.90);
- ``machine_stops_misattributed``: of the stops the machine caused, the share
  wrongly blamed on the network (target <= 0.05).

    python benchmarks/factory_correlation.py [--quick] [--days 5] [--output PATH]
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import platform
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from vigil.config import Settings
from vigil.engine.keyed import Emitted, KeyedRunner
from vigil.engine.operator import Output
from vigil.engine.records import LogRecord
from vigil.events import ConditionSignal, Derived, LogEvent, Tick
from vigil.factory.domain import operators
from vigil.platform import configuration_events
from vigil.sim import Region, RegionConfig
from vigil.sim.plant import NETWORK

HOUR = 3600.0
DAY = 24 * HOUR
TICK = 10.0
RESULTS = Path(__file__).with_name("results") / "factory_correlation.json"
MATCH_SECONDS = 1.0


class Chain:
    """The domain's operators chained as the runtime chains them, a slice at a time:
    the first ones read the log, the later ones the ticks and what was derived."""

    def __init__(self, settings: Settings, tenants: list[str]) -> None:
        self.runners = [KeyedRunner(op) for op in operators(settings)]
        self.tenants = tenants
        self.offset = 0
        self.emitted: list[Emitted] = []
        self.derived = 0

    def feed(self, events: Iterable[LogEvent]) -> int:
        records = []
        for event in events:
            self.offset += 1
            records.append(LogRecord(self.offset, event.timestamp, event))
        ticks = [r for r in records if type(r.event) is Tick]
        derived: list[LogRecord] = []
        for n, runner in enumerate(self.runners):
            inputs: list[LogRecord] = records if n < 3 else list(_merge(ticks, derived))
            if n < 3 and derived:
                inputs = list(_merge(records, derived))
            for item in runner.process(inputs):
                if isinstance(item.output, Output | ConditionSignal):
                    self.emitted.append(item)  # what is judged; not the page rows
                if isinstance(item.output, Derived):
                    derived.append(LogRecord(item.offset, item.received, item.output))
            derived.sort(key=lambda r: r.offset)
        self.derived += len(derived)
        return len(records)


def _merge(base: list[LogRecord], derived: list[LogRecord]) -> Iterator[LogRecord]:
    """Records in offset order, a derived one after the record that caused it."""
    tagged = heapq.merge(
        ((r.offset, 0, i, r) for i, r in enumerate(base)),
        ((r.offset, 1, i, r) for i, r in enumerate(derived)),
    )
    return (r for *_, r in tagged)


def _with_ticks(events: Iterable[LogEvent], tenant: str, start: float, until: float) -> Iterator:
    ticks = (
        Tick(tenant=tenant, time=start + i * TICK) for i in range(int((until - start) // TICK))
    )
    return heapq.merge(events, ticks, key=lambda e: e.timestamp)


def run(config: RegionConfig, days: float) -> dict[str, Any]:
    region = Region(config)
    catalog = region.catalog()
    chain = Chain(Settings(), ["plant"])
    chain.feed(configuration_events(type(catalog)(), catalog, time=config.start - 1))
    began, t, end, records = time.perf_counter(), config.start, config.start + days * DAY, 0
    while t < end:
        step = min(end, t + 6 * HOUR)
        records += chain.feed(_with_ticks(region.events(until=step), "plant", t, step))
        t = step
    seconds = time.perf_counter() - began
    findings = [
        e.output
        for e in chain.emitted
        if isinstance(e.output, Output) and e.output.kind == "network_stop"
    ]
    blamed = {(f.entity, round(float(f.data["stop_start"]), 3)) for f in findings}
    truth = {"network": [0, 0], "machine": [0, 0]}  # [stops, blamed]
    by_reason: dict[str, list[int]] = {}
    misses: list[dict[str, Any]] = []
    for machine in region.machines:
        for start, stop_end, cause in machine.stops:
            if stop_end >= end - 30 * 60:
                continue  # not over when the run ends: not decided yet
            hit = any(e == machine.entity.id and abs(s - start) <= MATCH_SECONDS for e, s in blamed)
            side = "network" if cause == NETWORK else "machine"
            truth[side][0] += 1
            truth[side][1] += hit
            counts = by_reason.setdefault(cause, [0, 0])
            counts[0] += 1
            counts[1] += hit
            if (side == "network") != hit and len(misses) < 20:
                misses.append({"machine": machine.entity.id, "start": start, "cause": cause})
    opened = [
        e.output.message
        for e in chain.emitted
        if isinstance(e.output, ConditionSignal) and e.output.change == "open"
    ]
    return {
        "network_stops": truth["network"][0],
        "network_stops_attributed": _share(*truth["network"]),
        "machine_stops": truth["machine"][0],
        "machine_stops_misattributed": _share(*truth["machine"]),
        "by_cause": {c: {"stops": n, "blamed": b} for c, (n, b) in sorted(by_reason.items())},
        "findings": len(findings),
        "service_level_alerts": sum(1 for m in opened if "availability" in m),
        "example": findings[0].message if findings else None,
        "misjudged": misses,
        "records": records,
        "derived": chain.derived,
        "seconds": round(seconds, 1),
        "records_per_second": round(records / seconds),
    }


def _share(total: int, hits: int) -> float | None:
    return None if total == 0 else round(hits / total, 4)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one day, a small plant")
    parser.add_argument("--days", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    days = 1.0 if args.quick else args.days
    config = RegionConfig(
        seed=args.seed,
        councils=0,
        lines=1 if args.quick else 2,
        machines_per_line=6,
        cells=3 if args.quick else 6,
        cell_episodes_per_day=6.0,
    )
    figures = run(config, days)
    result = {
        "network_stops_attributed": figures["network_stops_attributed"],
        "machine_stops_misattributed": figures["machine_stops_misattributed"],
        "targets": {"network_stops_attributed": 0.90, "machine_stops_misattributed": 0.05},
        "plant": {
            "days": days,
            "seed": args.seed,
            "lines": config.lines,
            "machines": config.lines * config.machines_per_line,
            "cells": config.cells,
            "cell_episodes_per_day": config.cell_episodes_per_day,
        },
        **figures,
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
        },
        "command": " ".join(["python", "benchmarks/factory_correlation.py", *sys.argv[1:]]),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"factory correlation: {days:g} days, {result['plant']['machines']} machines, "
        f"{config.cells} cells ({figures['records']:,} records in {figures['seconds']} s)"
    )
    print(f"{'':32}{'stops':>8}{'blamed on network':>20}{'target':>10}")
    print(
        f"{'caused by the network':32}{figures['network_stops']:>8}"
        f"{_pct(figures['network_stops_attributed']):>20}{'>= 90%':>10}"
    )
    print(
        f"{'caused by the machine':32}{figures['machine_stops']:>8}"
        f"{_pct(figures['machine_stops_misattributed']):>20}{'<= 5%':>10}"
    )
    for cause, row in figures["by_cause"].items():
        print(f"  {cause:30}{row['stops']:>8}{row['blamed']:>20}")
    print(f"example: {figures['example']}")
    print(f"written to {args.output}")
    return 0


def _pct(share: float | None) -> str:
    return "n/a" if share is None else f"{100 * share:.1f}%"


if __name__ == "__main__":
    sys.exit(main())
