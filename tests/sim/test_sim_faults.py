"""Sensor faults: forced to probability 1 they always appear; at 0 they never do."""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

from vigil.events import DeviceStatus, Event, Reading
from vigil.sim import FaultConfig, Region, RegionConfig

HOUR = 3600.0
LOW_BATTERY = 15.0
DAY = 24 * HOUR


def homes(faults: FaultConfig, days: float, seed: int = 6) -> tuple[Region, list[Event]]:
    config = RegionConfig(seed=seed, homes_per_council=3, plant=False, faults=faults)
    region = Region(config)
    return region, list(region.events(config.start + days * DAY))


def test_low_battery_forced_drains_every_battery_below_threshold() -> None:
    """With low_battery=1, every battery device reports below 15% within four days."""
    region, events = homes(FaultConfig(low_battery=1, offline=0, stuck=0), 4)
    last: dict[str, float] = {}
    for e in events:
        if isinstance(e, DeviceStatus) and e.battery is not None:
            last[e.device] = e.battery
    powered = {d.id for d in region.catalog().devices if d.kind == "smart_plug"}
    assert set(last) == {d.id for d in region.catalog().devices} - powered
    assert all(level < LOW_BATTERY for level in last.values()), last


def test_low_battery_off_keeps_batteries_healthy() -> None:
    """With low_battery=0, no battery falls below 15% in four days."""
    _, events = homes(FaultConfig(low_battery=0, offline=0, stuck=0), 4)
    levels = [e.battery for e in events if isinstance(e, DeviceStatus) and e.battery is not None]
    assert levels and min(levels) >= LOW_BATTERY


def test_offline_forced_silences_every_device_then_it_returns() -> None:
    """With offline=1, each device goes quiet for hours every day, then says online=True."""
    faults = FaultConfig(low_battery=0, offline=1, offline_hours=(2.0, 3.0), stuck=0)
    region, events = homes(faults, 2)
    previous: dict[str, float] = {}
    returns: dict[str, int] = defaultdict(int)
    for e in events:
        if isinstance(e, DeviceStatus) and e.online:
            assert e.timestamp - previous.get(e.device, region.config.start) >= 2 * HOUR
            returns[e.device] += 1
        previous[e.device] = e.timestamp
    devices = {d.id for d in region.catalog().devices}
    assert set(returns) == devices
    assert all(1 <= n <= 2 for n in returns.values())


def test_offline_off_never_reports_a_return() -> None:
    """With offline=0 nobody ever comes back online, because nobody went away."""
    _, events = homes(FaultConfig(low_battery=0, offline=0, stuck=0), 2)
    assert not any(isinstance(e, DeviceStatus) and e.online for e in events)


def test_offline_also_applies_to_the_plant() -> None:
    """Forced offline windows silence plant devices too, and seq stays gap-free."""
    config = RegionConfig(
        seed=1,
        councils=0,
        lines=1,
        machines_per_line=1,
        cells=1,
        faults=FaultConfig(low_battery=0, offline=1, offline_hours=(1.0, 1.5), stuck=0),
    )
    events = list(Region(config).events(config.start + DAY))
    returned = {e.device for e in events if isinstance(e, DeviceStatus) and e.online}
    assert returned == {d.id for d in Region(config).catalog().devices}
    seq: dict[str, int] = {}
    for e in events:
        assert e.seq == seq.get(e.device, 0) + 1
        seq[e.device] = e.seq


def longest_repeat(values: list[float]) -> int:
    best = run = 1
    for a, b in pairwise(values):
        run = run + 1 if a == b else 1
        best = max(best, run)
    return best


def test_stuck_forced_repeats_temperature_for_hours() -> None:
    """With stuck=1, each thermometer repeats one value for 3+ hours (12+ readings) every day."""
    faults = FaultConfig(low_battery=0, offline=0, stuck=1, stuck_hours=(3.0, 4.0))
    _, events = homes(faults, 1)
    temperatures: dict[str, list[float]] = defaultdict(list)
    for e in events:
        if isinstance(e, Reading) and e.metric == "temperature":
            temperatures[e.device].append(float(e.value))
    assert temperatures
    assert all(longest_repeat(values) >= 12 for values in temperatures.values())


def test_stuck_off_temperatures_keep_moving() -> None:
    """With stuck=0, a thermometer never repeats itself for three hours."""
    _, events = homes(FaultConfig(low_battery=0, offline=0, stuck=0), 2)
    temperatures: dict[str, list[float]] = defaultdict(list)
    for e in events:
        if isinstance(e, Reading) and e.metric == "temperature":
            temperatures[e.device].append(float(e.value))
    assert all(longest_repeat(values) < 12 for values in temperatures.values())


def test_faults_do_not_change_the_routine() -> None:
    """Turning faults on silences or freezes sensors but does not change what the resident does."""
    _, clean = homes(FaultConfig(low_battery=0, offline=0, stuck=0), 2)
    _, faulty = homes(FaultConfig(low_battery=1, offline=0, stuck=1), 2)

    def motion(events: list[Event]) -> list[tuple[str, float]]:
        return [
            (e.device, e.timestamp)
            for e in events
            if isinstance(e, Reading) and e.metric == "motion"
        ]

    assert motion(clean) == motion(faulty)
