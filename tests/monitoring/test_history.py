"""The downsampler's buckets equal buckets computed directly from the readings, at
every resolution, however the readings fall (gaps, bursts, a quiet tenant closing
buckets by its clock alone)."""

from __future__ import annotations

import random

import pytest

from vigil.engine.projection_rows import HistoryBucket
from vigil.events import Reading, Tick
from vigil.monitoring.history import RESOLUTIONS, Downsampler
from vigil.store.event_log import LogRecord
from vigil.testing import run


def _readings(seed: int) -> list[Reading]:
    rng = random.Random(seed)
    time, readings = 1_790_000_000.0, []
    for seq in range(1, 3000):
        time += rng.choice([0.5, 3.0, 20.0, 70.0, 400.0, 4000.0])  # bursts and gaps
        device = rng.choice(["e.a", "e.b"])
        value = float(rng.randint(-50, 50))  # whole numbers: sums exact in any order
        readings.append(
            Reading(
                tenant="t", device=device, entity="e", seq=seq, time=time, metric="m", value=value
            )
        )
    return readings


def _expected(readings: list[Reading]) -> set[tuple[object, ...]]:
    buckets: dict[tuple[object, ...], list[float]] = {}
    for reading in readings:
        for resolution in RESOLUTIONS:
            start = reading.time - reading.time % resolution
            buckets.setdefault((reading.device, resolution, start), []).append(reading.value)
    return {
        (device, resolution, start, len(v), min(v), max(v), sum(v))
        for (device, resolution, start), v in buckets.items()
    }


@pytest.mark.parametrize("seed", range(3))
def test_buckets_equal_a_direct_computation(seed: int) -> None:
    readings = _readings(seed)
    log = [LogRecord(i, r.time, r) for i, r in enumerate(readings, start=1)]
    end = readings[-1].time + 2 * 86400  # a tick past every bucket's end: all close
    log.append(LogRecord(len(log) + 1, end, Tick(tenant="t", time=end)))
    rows = [e.output for e in run(Downsampler(), log) if isinstance(e.output, HistoryBucket)]
    got = {(r.device, r.resolution, r.start, r.count, r.min, r.max, r.sum) for r in rows}
    assert len(rows) == len(got), "a bucket was written twice"
    assert got == _expected(readings)
