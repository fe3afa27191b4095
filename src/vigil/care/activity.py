"""What a reading says about the resident: temperature, the bed, and activity.

Activity is tracked as the operator sees it, event by event: runs of activity, the
room last seen, bathroom visits, going out by the front door and coming back, the
night and getting up. The day's record counts as it goes (events, moves between rooms,
the quarter-hours each channel and room was in use). Rules an event resolves at once
are closed here (not up, prolonged inactivity, night exit) and the night's bathroom
visits are judged on getting up.
"""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING

from vigil.care import devices, inactivity, night_exit, nights, not_up
from vigil.care.localtime import at_hour, bin_of, care_hour, quarter_hours
from vigil.care.sensors import LIVING_ROOMS, Channel, is_activity
from vigil.care.state import CareState, home_zone
from vigil.engine.operator import Emission
from vigil.events import Reading

if TYPE_CHECKING:
    from vigil.care.monitor import CareMonitor

RUN_GAP = 30 * 60.0
"""Activity this far apart is two runs; the front door then this long with nothing
indoors is someone gone out."""
RUN_MIN = 15 * 60.0
"""A run of activity this long (out of bed) is someone about, not a night-time trip."""
RUNS_APART = 90 * 60.0
"""Two runs of activity this close (out of bed) are someone up: a night-time trip is
followed by sleep."""

_MIN = 60.0
_HOUR = 3600.0


def reading(
    monitor: CareMonitor, state: CareState, event: Reading, outputs: list[Emission]
) -> bool:
    """Take in a reading; whether it may have changed a rule or a due time."""
    time = event.timestamp
    devices.seen(state, event.device, time)
    channel = devices.channel_of(state, event.device, event.metric)
    if channel is None:
        return False
    today = state.today
    assert today is not None
    if channel.sort == "temperature":
        value = event.value
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if number and math.isfinite(value) and -30.0 < value < 60.0:  # type: ignore[arg-type]
            state.temperatures[channel.room] = (time, float(value))
            low = today.record.min_temperature
            if low is None or value < low:  # type: ignore[operator]
                today.record.min_temperature = round(float(value), 1)
            cold = value < max(monitor.cold_below, monitor.cold_night_below)  # type: ignore[operator]
            return cold or state.cold_since is not None or "cold_home" in state.open
        return False
    if channel.sort == "bed":
        occupied = event.value not in (0, 0.0, False, "0", "off", "false")
        state.in_bed = occupied
        state.bed_doubt = None
    if not is_activity(channel, event.metric, event.value):
        return channel.sort == "bed"
    activity(monitor, state, channel, time, outputs)
    return True


def activity(
    monitor: CareMonitor, state: CareState, channel: Channel, time: float, outputs: list[Emission]
) -> None:
    """Someone active on ``channel`` at ``time``."""
    tz = home_zone(state, monitor.time_zone)
    today = state.today
    assert today is not None
    record = today.record
    record.events += 1
    earlier_run = None
    if time - state.last_activity > RUN_GAP:
        if time - state.last_activity <= RUNS_APART:
            earlier_run = state.run_start  # a second run soon after: up, not a trip
        state.run_start = time
    b = bin_of(time, tz)
    for name in (channel.name, "any", f"@{channel.room}"):
        bins = today.active.setdefault(name, [])
        if (not bins or bins[-1] != b) and b not in bins:
            bins.append(b)
    room = channel.room
    if room != state.last_room and channel.sort != "temperature":
        record.moves += 1
    # bathroom visits
    if room == "bathroom":
        if state.bathroom_start is None or time - state.bathroom_last > 10 * _MIN:
            state.bathroom_start = time
            state.night_visits = [*state.night_visits[-30:], time]
        state.bathroom_last = time
        record.longest_bathroom_minutes = max(
            record.longest_bathroom_minutes, round((time - state.bathroom_start) / _MIN, 1)
        )
    # going out and coming back
    if channel.sort == "door":
        door_at = state.door_at
        if state.last_sort == "door" and door_at is not None and time - door_at >= RUN_GAP:
            # the door, nothing indoors, the door again: out in between
            unseen = {bin_of(t, tz) for t in quarter_hours(door_at + 900, time)}
            today.unseen = sorted(set(today.unseen) | unseen)
        if state.out_since is not None:  # the door while out: someone is back
            back_home(monitor, state, time, room, outputs)
        elif devices.covered(state) or night_exit.leaving_at_night(monitor, state, time):
            state.exit_pending = True  # out, unless someone moves at home soon
        state.door_at = time
    else:
        state.last_inside = time
        if state.out_since is not None:
            back_home(monitor, state, time, room, outputs)
        state.exit_pending = False
    # the night and getting up
    living = room in LIVING_ROOMS or channel.sort == "door"
    hour = care_hour(time, tz)
    if (
        today.about_at is None
        and channel.sort != "bed"
        and not state.in_bed
        and hour >= monitor.earliest_up
        and (living or earlier_run is not None or time - state.run_start >= RUN_MIN)
    ):
        begun = at_hour(date.fromisoformat(record.day), monitor.earliest_up, tz)
        first = state.run_start if earlier_run is None else earlier_run
        if first >= begun:
            today.about_at = max(first, today.observed_from)
    if living and state.in_bed:  # the bed says occupied, yet someone is about
        if state.bed_doubt is None:
            state.bed_doubt = time
        elif time - state.bed_doubt >= 15 * _MIN:
            state.in_bed = False  # the bed sensor missed the getting up
    if living:
        if today.up_at is None and hour >= monitor.earliest_up and not state.in_bed:
            got_up(monitor, state, time, outputs, home_coming=channel.sort == "door")
        elif monitor.earliest_up <= hour < 25.0 or time - state.night_since < 2 * _HOUR:
            state.night_since = time
            state.night_visits = []
    state.last_activity = time
    state.last_room = room
    state.last_sort = channel.sort
    inactivity.close(monitor, state, time, room, outputs)


def got_up(
    monitor: CareMonitor,
    state: CareState,
    time: float,
    outputs: list[Emission],
    *,
    home_coming: bool = False,
) -> None:
    """The resident is up at ``time``: the day's getting-up, last night's bathroom visits."""
    tz = home_zone(state, monitor.time_zone)
    today = state.today
    assert today is not None
    today.up_at = time
    if today.about_at is None or today.about_at > time:
        today.about_at = time
    day = date.fromisoformat(today.record.day)
    if today.observed_from <= at_hour(day, monitor.earliest_up, tz) and not (
        home_coming and time - state.last_activity > 4 * _HOUR
    ):  # a door after a long silence is coming home, not getting up
        today.record.up = round(care_hour(time, tz), 3)  # else watching began after it
    night_from = state.night_since
    if night_from and time - night_from >= 4 * _HOUR:
        visits = [
            s for s in state.night_visits if s >= night_from + 30 * _MIN and s <= time - 30 * _MIN
        ]
        if not devices.outage(state, "bathroom", night_from, time):
            today.record.night_bathroom = len(visits)
    state.night_since = time
    state.night_visits = []
    not_up.close(monitor, state, time, outputs)
    if today.record.night_bathroom is not None:
        nights.check(monitor, state, time, outputs)


def back_home(
    monitor: CareMonitor, state: CareState, time: float, room: str, outputs: list[Emission]
) -> None:
    """Back home at ``time`` (movement in ``room``): the time out counts in the day."""
    tz = home_zone(state, monitor.time_zone)
    assert state.out_since is not None and state.today is not None
    out = time - state.out_since
    state.today.record.out_minutes = round(state.today.record.out_minutes + out / _MIN, 1)
    night_exit.close(monitor, state, time, room, out, outputs)
    today = state.today
    today.out_bins = sorted(
        set(today.out_bins) | {bin_of(t, tz) for t in quarter_hours(state.out_since, time)}
    )
    state.out_since = None
    state.exit_pending = False
