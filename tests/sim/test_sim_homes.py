"""Homes: a believable daily routine, and sensors that behave like the real ones."""

from __future__ import annotations

import statistics
from collections import defaultdict
from itertools import pairwise

import pytest

from vigil.events import Alarm, DeviceStatus, Event, Reading
from vigil.sim import FaultConfig, Region, RegionConfig

HOUR = 3600.0
DAY = 24 * HOUR
NO_FAULTS = FaultConfig(low_battery=0, offline=0, stuck=0)
WEEK = RegionConfig(seed=11, councils=1, homes_per_council=4, plant=False, faults=NO_FAULTS)


@pytest.fixture(scope="module")
def week() -> dict[str, list[Event]]:
    """A week of four homes, events grouped by home."""
    region = Region(WEEK)
    homes: dict[str, list[Event]] = defaultdict(list)
    for event in region.events(WEEK.start + 7 * DAY):
        homes[event.entity].append(event)
    return homes


def readings(events: list[Event], device_suffix: str) -> list[Reading]:
    return [e for e in events if isinstance(e, Reading) and e.device.endswith(device_suffix)]


def bed_state_at(bed: list[Reading], time: float) -> float | None:
    state = None
    for reading in bed:
        if reading.timestamp > time:
            break
        state = reading.value
    return state


def wake_times(bed: list[Reading]) -> list[float]:
    """Per day: when the bed emptied for at least two hours (or until the end) after 04:00."""
    found = []
    times = [r.timestamp for r in bed] + [WEEK.start + 7 * DAY]
    for day in range(7):
        dawn = WEEK.start + day * DAY + 4 * HOUR
        for reading, following in zip(bed, times[1:], strict=False):
            if (
                reading.timestamp >= dawn
                and reading.value == 0.0
                and following - reading.timestamp >= 2 * HOUR
            ):
                found.append((reading.timestamp - WEEK.start - day * DAY) / HOUR)
                break
    return found


def test_bed_is_occupied_most_nights(week: dict[str, list[Event]]) -> None:
    """Between 01:00 and 05:00 the bed is occupied most of the time, every night."""
    for events in week.values():
        bed = readings(events, "bed-pressure")
        for day in range(7):
            samples = [WEEK.start + day * DAY + HOUR + k * 300 for k in range(48)]
            assert sum(bed_state_at(bed, t) == 1.0 for t in samples) >= 0.75 * len(samples)


def test_wake_time_varies_within_a_plausible_window(week: dict[str, list[Event]]) -> None:
    """The resident gets up every day, between 05:30 and 10:30, not at the same minute each day."""
    for events in week.values():
        wakes = wake_times(readings(events, "bed-pressure"))
        assert len(wakes) == 7
        assert all(5.5 <= w <= 10.5 for w in wakes), wakes
        assert statistics.pstdev(wakes) > 5 / 60


def test_kettle_is_used_most_mornings(week: dict[str, list[Event]]) -> None:
    """The kettle draws ~2 kW for a few minutes on most mornings."""
    for events in week.values():
        kettle = readings(events, "plug-kettle")
        mornings = {
            int((r.timestamp - WEEK.start) // DAY)
            for r in kettle
            if r.value > 1500 and 5 <= ((r.timestamp - WEEK.start) % DAY) / HOUR < 11
        }
        assert len(mornings) >= 5
        on = [r for r in kettle if r.value > 0]
        assert all(1700 < r.value < 2300 for r in on)
        for a, b in pairwise(kettle):
            if a.value > 0:
                assert b.value == 0.0 and 60 < b.timestamp - a.timestamp < 300


def test_kitchen_and_bathroom_are_visited_every_day(week: dict[str, list[Event]]) -> None:
    """Meals and bathroom visits show up as motion in those rooms every day."""
    for events in week.values():
        for room in ("kitchen", "bathroom", "lounge", "bedroom", "hall"):
            days = {
                int((r.timestamp - WEEK.start) // DAY) for r in readings(events, f"motion-{room}")
            }
            assert days == set(range(7)), room


def test_motion_is_rate_limited_and_only_ones(week: dict[str, list[Event]]) -> None:
    """Motion sensors send 1 on detection, at most once per 30 s per sensor, never 0."""
    for events in week.values():
        by_device: dict[str, list[Reading]] = defaultdict(list)
        for r in events:
            if isinstance(r, Reading) and r.metric == "motion":
                by_device[r.device].append(r)
        for series in by_device.values():
            assert all(r.value == 1.0 for r in series)
            assert all(b.timestamp - a.timestamp >= 30 for a, b in pairwise(series))


def test_doors_open_then_close(week: dict[str, list[Event]]) -> None:
    """Door contacts alternate open (1) and closed (0), closing within a minute."""
    for events in week.values():
        for door in ("door-front", "door-fridge"):
            series = readings(events, door)
            assert [r.value for r in series] == [1.0, 0.0] * (len(series) // 2)
            assert all(
                b.timestamp - a.timestamp < 60
                for a, b in zip(series[::2], series[1::2], strict=True)
            )


def test_front_door_used_on_some_days_not_all(week: dict[str, list[Event]]) -> None:
    """Across the homes, residents go out or have visitors on some days but not every day."""
    used = []
    for events in week.values():
        used.append(
            len({int((r.timestamp - WEEK.start) // DAY) for r in readings(events, "door-front")})
        )
    assert 0 < sum(used) < 7 * len(used)


def test_temperature_every_ten_to_fifteen_minutes_and_plausible(
    week: dict[str, list[Event]],
) -> None:
    """Room temperature reports every 10-15 minutes, between 5 and 26 degrees C."""
    for events in week.values():
        by_device: dict[str, list[Reading]] = defaultdict(list)
        for r in events:
            if isinstance(r, Reading) and r.metric == "temperature":
                by_device[r.device].append(r)
        assert 1 <= len(by_device) <= 2
        for series in by_device.values():
            gaps = {round(b.timestamp - a.timestamp) for a, b in pairwise(series)}
            assert len(gaps) == 1 and 600 <= gaps.pop() <= 900
            assert all(5.0 < r.value < 26.0 for r in series)


def test_status_heartbeats_carry_slowly_draining_batteries(week: dict[str, list[Event]]) -> None:
    """Battery devices report a battery that never rises and drains by at most a few % a week."""
    for events in week.values():
        levels: dict[str, list[float]] = defaultdict(list)
        for e in events:
            if isinstance(e, DeviceStatus) and e.battery is not None:
                levels[e.device].append(e.battery)
        assert levels
        for series in levels.values():
            assert series == sorted(series, reverse=True)
            assert series[0] - series[-1] <= 2


def test_no_alarms_or_names_leak_into_homes() -> None:
    """Home entities carry a pseudonym, never a personal name field."""
    catalog = Region(WEEK).catalog()
    for entity in catalog.entities:
        assert entity.name.startswith("Home ")
        assert not {"name", "first_name", "surname", "address", "nhs_number"} & set(
            entity.attributes
        )


def test_alarms_follow_the_devices_fitted() -> None:
    """Forced daily: every home with a button presses it; only fall detectors report falls."""
    config = RegionConfig(
        seed=2,
        homes_per_council=10,
        plant=False,
        faults=NO_FAULTS,
        pendant_per_day=1,
        fall_per_day=1,
    )
    region = Region(config)
    homes = {e.id: e.attributes for e in region.catalog().entities}
    alarms: dict[str, list[str]] = defaultdict(list)
    for event in region.events(config.start + 2 * DAY):
        if isinstance(event, Alarm):
            alarms[event.entity].append(event.alarm)
    for home, attributes in homes.items():
        expected = []
        if attributes["pendant"] or attributes["fall_detector"]:
            expected.append("pendant")
        if attributes["fall_detector"]:
            expected.append("fall")
        assert sorted(alarms.get(home, [])) == sorted(expected * 2), home
