"""The care operator for thousands of homes in one process: events per second and memory.

A simulated region of ``homes`` homes (all devices, heartbeats and faults) runs for
``hours`` of event time through ``CareMonitor`` under the keyed runner, in slices of
five minutes; only the runner's time is counted, not the simulator's. Memory per home
is measured on learned states (``learned_states``: three weeks of routine and daily
records, from the simulator section) decoded many times over, since a region this size
run for weeks would take too long here.
"""

from __future__ import annotations

import gc
import os
import time
import tracemalloc
from pathlib import Path

from care_replay import Stream
from vigil.care import CareMonitor
from vigil.sim import Region, RegionConfig

SLICE = 300.0


def _rss() -> int:
    resident = Path("/proc/self/statm").read_text().split()[1]
    return int(resident) * os.sysconf("SC_PAGE_SIZE")


def learned_memory(states: list[bytes], copies: int) -> int:
    """Bytes of Python heap per home for ``copies`` decoded learned states."""
    monitor = CareMonitor()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = [monitor.decode_state(states[i % len(states)]) for i in range(copies)]
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del kept
    return round((after - before) / copies)


def run_scale(homes: int, hours: float, seed: int, learned: list[bytes] | None = None) -> dict:
    config = RegionConfig(seed=seed, councils=1, homes_per_council=homes, plant=False)
    region = Region(config)
    gc.collect()
    rss_before = _rss()
    stream = Stream(region.catalog(), config.start)
    t, end = config.start, config.start + hours * 3600
    records, busy, last_print = 0, 0.0, time.perf_counter()
    while t < end:
        t += SLICE
        events = list(region.events(until=t))
        began = time.perf_counter()
        records += stream.feed(events, t)
        busy += time.perf_counter() - began
        if time.perf_counter() - last_print > 10 or t >= end:
            last_print = time.perf_counter()
            done = (t - config.start) / 3600
            print(
                f"    {done:4.1f} h of {hours:g}: {records:,} records, "
                f"{records / busy:,.0f}/s through the care operator",
                flush=True,
            )
    rss = (_rss() - rss_before) / homes
    sizes = [len(stream.runner.operator.encode_state(e.state)) for e in stream.runner.keys.values()]
    rate = records / busy
    per_home_day = records / homes / (hours / 24)
    memory = learned_memory(learned, homes) if learned else None
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    by_rate = int(rate * 86400 / per_home_day)
    by_memory = int(total / 2 / memory) if memory else None
    result = {
        "homes": homes,
        "hours": hours,
        "records": records,
        "runner_seconds": round(busy, 1),
        "events_per_second": round(rate),
        "records_per_home_day": round(per_home_day),
        "rss_bytes_per_home_run": round(rss),
        "state_bytes_per_home": round(sum(sizes) / len(sizes)),
        "memory_bytes_per_home": memory,
        "homes_per_process_by_rate": by_rate,
        "homes_per_process_by_memory": by_memory,
        "homes_per_process": min(by_rate, by_memory) if by_memory else by_rate,
        "how": "records (readings, statuses, alarms, configuration and 5-minute ticks) through "
        "the keyed runner; homes_per_process: the fewer of the homes whose event rate one "
        "process keeps up with in real time and the homes whose learned state fits in half "
        "this machine's memory",
    }
    print(
        f"  {rate:,.0f} records/s over {homes:,} homes; {per_home_day:,.0f} records a home-day; "
        f"learned state {memory or 0:,} bytes a home in memory; "
        f"{result['homes_per_process']:,} homes a process"
    )
    return result
