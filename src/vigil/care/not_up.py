"""Not up: no getting up by the person's usual time and a learned margin.

While learning (fewer than 5 days) the deadline is the later of the latest getting-up
seen + ``learning_up_margin_minutes`` and the population's; then the 80th percentile
of the person's days (the same day type when there are 5) + twice the 20-80 % spread
(45 to 120 minutes). The deadline depends only on earlier days, so it is worked out
once a day and kept.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from vigil.care import devices
from vigil.care import routine as routines
from vigil.care.conditions import close_condition, learning_note, open_condition, room_words
from vigil.care.localtime import at_hour, clock, clock_hour, duration, when
from vigil.care.sensors import LIVING_ROOMS
from vigil.care.state import CareState, Today, home_zone
from vigil.care.stats import quantile
from vigil.engine.operator import Emission

if TYPE_CHECKING:
    from vigil.care.monitor import CareMonitor

_MIN = 60.0


def usual_up(monitor: CareMonitor, state: CareState, today: Today) -> tuple[float, float]:
    """(usually up by, margin in minutes), from this person's days or the population."""
    weekend = today.record.weekend
    ups = [r.up for r in state.history if r.up is not None and not r.away]
    same = [r.up for r in state.history if r.up is not None and r.weekend == weekend]
    values = same if len(same) >= 5 else ups
    values = values[-28:]
    population = monitor.default_up_by + monitor.default_up_margin_minutes / 60
    if not values:
        return monitor.default_up_by, monitor.default_up_margin_minutes
    if len(values) < 5:  # still learning: never earlier than the population's deadline
        usual = max(values)
        margin = max(monitor.learning_up_margin_minutes, (population - usual) * 60)
        return usual, margin
    usual = quantile(values, 0.8)
    spread = (quantile(values, 0.8) - quantile(values, 0.2)) * 60
    return usual, min(120.0, max(45.0, 2.0 * spread))


def deadline(monitor: CareMonitor, state: CareState, today: Today) -> tuple[float, float, float]:
    """(usually up by, margin in minutes, deadline), worked out once a day."""
    if today.deadline is None:
        usual, margin = usual_up(monitor, state, today)
        day = date.fromisoformat(today.record.day)
        limit = at_hour(day, usual, home_zone(state, monitor.time_zone)) + margin * _MIN
        today.deadline = (usual, margin, limit)
    return today.deadline


def check(monitor: CareMonitor, state: CareState, now: float, outputs: list[Emission]) -> None:
    """Open (or update) ``not_up`` when the deadline has passed and nothing says the
    resident is up, out, or simply not heard from."""
    today = state.today
    assert today is not None
    tz = home_zone(state, monitor.time_zone)
    if today.up_at is not None:
        return
    if not devices.has(state, rooms=LIVING_ROOMS):
        return
    day = date.fromisoformat(today.record.day)
    usual, margin, limit = deadline(monitor, state, today)
    opened = state.open.get("not_up")
    if opened is None:
        if now < limit or state.out_since is not None:
            return
        if state.last_sort == "door":
            return  # last seen at the front door: gone out, not lying in bed
        if state.in_bed is not True and now - state.last_activity < 30 * _MIN:
            return  # moving about out of bed just now: up, if not yet in the kitchen
        if today.observed_from > at_hour(day, monitor.earliest_up, tz):
            return  # watching began after the resident may have got up
        if not devices.heard_from_living(state, now):
            return  # no data, not no movement: device alerts cover it
    since = state.last_activity
    last = (
        f"no movement since {when(since, tz, now)}"
        + (f" ({room_words(state.last_room)})" if state.last_room else "")
        if since
        else "no movement seen"
    )
    message = f"Usually up by {clock_hour(usual)}; {last}; now {clock(now, tz)}." + learning_note(
        state, monitor.learning_days
    )
    severity = "critical" if now >= limit + 90 * _MIN else "warning"
    late = duration(now - (limit - margin * _MIN))
    evidence = {
        "reason": f"not up, {late} after the usual {clock_hour(usual)}",
        "usually_up_by": clock_hour(usual),
        "margin_minutes": round(margin),
        "deadline": limit,
        "last_activity": since or None,
        "last_room": state.last_room or None,
        "days_learned": routines.days_learned(state.routine),
    }
    open_condition(
        state,
        "not_up",
        now,
        message,
        severity,
        evidence,
        outputs,
        update_minutes=monitor.update_minutes,
    )


def close(monitor: CareMonitor, state: CareState, time: float, outputs: list[Emission]) -> None:
    """The resident is up at ``time``: close ``not_up``, saying how much later than usual."""
    if "not_up" not in state.open:
        return
    today = state.today
    assert today is not None
    tz = home_zone(state, monitor.time_zone)
    usual, _ = usual_up(monitor, state, today)
    late = time - at_hour(date.fromisoformat(today.record.day), usual, tz)
    lateness = f", {duration(late)} later than usual" if late > 0 else ""
    message = f"Up at {clock(time, tz)} (usually up by {clock_hour(usual)}{lateness})."
    close_condition(state, "not_up", time, message, outputs)
