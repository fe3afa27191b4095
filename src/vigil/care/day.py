"""The care day: its record of daily indicators, and closing it at 04:00 local time.

A care day runs 04:00 to 04:00 local time. Closing it fills in the rest of its
``DayRecord`` (bed time, kitchen use and time about at home by each hour, whether it
was watched throughout), teaches the routine what was seen, checks the weeks-long
decline and emits the record: a ``Derived`` ``care_day`` event, a durable finding with
a one-line summary and the home's latest value (metric ``care_day``).
"""

from __future__ import annotations

from datetime import date, tzinfo
from typing import TYPE_CHECKING

import msgspec

from vigil.care import decline, devices
from vigil.care import routine as routines
from vigil.care.activity import RUN_GAP
from vigil.care.conditions import close_condition
from vigil.care.localtime import (
    at_hour,
    bin_of,
    care_day,
    care_hour,
    clock_hour,
    day_end,
    day_start,
    day_type,
    duration,
    is_weekend,
    quarter_hours,
)
from vigil.care.state import CareState, DayRecord, Today, home_zone
from vigil.engine.operator import Emission, Output
from vigil.engine.projection_rows import LatestValue
from vigil.events import Derived

if TYPE_CHECKING:
    from vigil.care.monitor import CareMonitor

DAY_METRIC = "care_day"
"""The metric under which each home's latest day summary is kept for pages."""
KITCHEN_HOURS = tuple(range(11, 22))
"""The local hours before each of which kitchen use and time at home are counted."""

_HOUR = 3600.0


def count_before(bins: list[int] | tuple[int, ...], hour: int) -> int:
    """Bins of the care day (from 04:00) before local ``hour``."""
    return sum(1 for b in bins if 16 <= b < hour * 4)


def start_day(state: CareState, time: float, tz: tzinfo, *, observed_from: float) -> None:
    """Begin the care day that ``time`` is in, watched from ``observed_from``."""
    day = care_day(time, tz)
    record = DayRecord(day=day.isoformat(), weekend=is_weekend(day), away=state.away)
    state.today = Today(
        record=record,
        start=day_start(day, tz),
        end=day_end(day, tz),
        observed_from=observed_from,
    )


def home_bins(state: CareState, today: Today, now: float, tz: tzinfo) -> list[int]:
    """Today's quarter-hours from the first sign of being about to ``now``, less those
    out: out of the home (homes whose sensors see it), or after the front door with
    nothing indoors since or before the door again. Kitchen bins always count."""
    about = [t for t in (today.about_at, today.up_at) if t is not None]
    if not about:
        return []
    start = max(min(about), today.observed_from)
    away = set(today.out_bins) | set(today.unseen)
    if state.out_since is not None:
        away.update(bin_of(t, tz) for t in quarter_hours(state.out_since, now))
    door_at = state.door_at
    if state.last_sort == "door" and door_at is not None and now - door_at >= RUN_GAP:
        away.update(bin_of(t, tz) for t in quarter_hours(door_at + 900, now))
    bins = {bin_of(t, tz) for t in quarter_hours(start, now)}
    first, last = bin_of(start, tz), bin_of(now, tz)
    kitchen = {b for b in today.active.get("@kitchen", ()) if first <= b <= last}
    return sorted((bins - away) | kitchen)


def summary(record: DayRecord, learned: int, learning_days: int) -> str:
    """The day in one line: ``'2025-01-06: up 07:40; to bed 22:10; ...'``."""
    parts = [f"{record.day}:"]
    parts.append(f"up {clock_hour(record.up)}" if record.up is not None else "not seen up")
    if record.bed is not None:
        parts.append(f"to bed {clock_hour(record.bed)}")
    if record.night_bathroom is not None:
        parts.append(f"{record.night_bathroom} night bathroom visits")
    parts.append(f"kitchen in use {record.kitchen_bins} quarter-hours")
    if record.out_minutes:
        parts.append(f"out {duration(record.out_minutes * 60)}")
    if record.min_temperature is not None:
        parts.append(f"lowest {record.min_temperature:.1f} °C")
    if learned < learning_days:
        parts.append(f"still learning: {learned} of {learning_days} days")
    return parts[0] + " " + "; ".join(parts[1:]) + "."


def _finish_record(state: CareState, today: Today, tz: tzinfo) -> DayRecord:
    """Fill in what is known only at the day's end."""
    record = today.record
    if state.night_since >= today.start + 10 * _HOUR:
        record.bed = care_hour(state.night_since, tz)
    record.complete = today.observed_from <= today.start + 60 and not record.away
    record.active_bins = len(today.active.get("any", ()))
    kitchen = today.active.get("@kitchen", ())
    record.kitchen_bins = len(kitchen)
    record.kitchen_by = [count_before(kitchen, hour) for hour in KITCHEN_HOURS]
    home = home_bins(state, today, at_hour(date.fromisoformat(record.day), 21.0, tz), tz)
    record.home_by = [count_before(home, hour) for hour in KITCHEN_HOURS]
    return record


def _learn(monitor: CareMonitor, state: CareState, today: Today, tz: tzinfo) -> None:
    """Teach the routine the day, over the quarter-hours watched."""
    observed = {
        bin_of(t, tz) for t in quarter_hours(max(today.start, today.observed_from), today.end)
    }
    channels = sorted(set(today.active) | devices.channels(state) | {"any"})
    state.routine = routines.learn(
        state.routine,
        day_type(date.fromisoformat(today.record.day)),
        today.active,
        observed=observed,
        channels=channels,
        prior_days=monitor.prior_days,
        memory_days=monitor.memory_days,
        skip=devices.skipped(state, today),
    )


def close_day(monitor: CareMonitor, state: CareState, outputs: list[Emission]) -> None:
    """Close today: its record, the routine, the decline check; begin the next day."""
    today = state.today
    assert today is not None
    tz = home_zone(state, monitor.time_zone)
    end = today.end
    record = _finish_record(state, today, tz)
    if not record.away:
        _learn(monitor, state, today, tz)
    state.history = [*state.history[-41:], record]
    if not record.away:
        decline.check(monitor, state, end, outputs)
    if "missed_meals" in state.open:
        message = f"Day ended: kitchen used in {record.kitchen_bins} quarter-hours."
        close_condition(state, "missed_meals", end, message, outputs)
    learned = routines.days_learned(state.routine)
    # The quarter-hours out of the home go with the day for the resident page's timeline.
    data = {
        **msgspec.to_builtins(record),
        "days_learned": learned,
        "out_bins": sorted(today.out_bins),
    }
    text = summary(record, learned, monitor.learning_days)
    outputs.append(
        Derived(tenant=state.tenant, time=end, entity=state.entity, kind="care_day", data=data)
    )
    outputs.append(
        Output(
            kind="care_day",
            tenant=state.tenant,
            entity=state.entity,
            time=end,
            data=data,
            message=text,
            durable=True,
        )
    )
    outputs.append(
        LatestValue(
            tenant=state.tenant,
            entity=state.entity,
            device=state.entity,
            metric=DAY_METRIC,
            value=None,
            text=text,
            time=end,
        )
    )
    start_day(state, end, tz, observed_from=end)
    state.today.record.away = state.away  # type: ignore[union-attr]
