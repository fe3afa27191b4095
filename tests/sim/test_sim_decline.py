"""The simulator's decline: a resident who slows down over weeks, and nothing else changes."""

from __future__ import annotations

from vigil.events import Reading
from vigil.sim import Anomaly, FaultConfig, Region, RegionConfig

DAY = 86400.0
NO_FAULTS = FaultConfig(low_battery=0, offline=0, stuck=0)


def _motion_by_day(anomalies: tuple[Anomaly, ...], days: int) -> list[int]:
    config = RegionConfig(
        seed=5, councils=1, homes_per_council=1, plant=False, faults=NO_FAULTS, anomalies=anomalies
    )
    counts = [0] * days
    for event in Region(config).events(config.start + days * DAY):
        if isinstance(event, Reading) and event.metric == "motion":
            counts[int((event.timestamp - config.start) // DAY)] += 1
    return counts


def test_decline_lowers_movement_after_its_start_and_changes_nothing_before() -> None:
    """Over two weeks to 50% vigour: the last days have about half the motion detections
    of the first, and the days before the start are exactly those of a home without it."""
    start = RegionConfig().start + 7 * DAY
    decline = Anomaly(entity="north-council.home-01", kind="decline", start=start, hours=14 * 24)
    plain, slowed = _motion_by_day((), 24), _motion_by_day((decline,), 24)
    assert slowed[:7] == plain[:7]
    before, after = sum(plain[1:7]) / 6, sum(slowed[-3:]) / 3
    assert after < 0.75 * before, (before, after)
    assert after > 0.2 * before  # slowed down, not gone


def test_vigour_ramps_down_and_stays() -> None:
    """1 before the start, the depth reached at the end, held afterwards."""
    a = Anomaly(entity="h", kind="decline", start=100.0, hours=1.0, depth=0.4)
    assert [round(a.vigour(t), 2) for t in (0.0, 100.0, 1900.0, 3700.0, 99999.0)] == [
        1.0,
        1.0,
        0.8,
        0.6,
        0.6,
    ]
