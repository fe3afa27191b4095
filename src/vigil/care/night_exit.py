"""Night exit: out of the home at night (possible wandering) and not back.

The front door at night (``night_start`` to ``night_end``) and no movement at home for
``night_exit_minutes``, or out since the day and not back by the night: critical.
Being back (any movement at home, or the door again) closes it.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING

from vigil.care.conditions import close_condition, open_condition, room_words
from vigil.care.localtime import clock, duration, hour_of, when, within_hours
from vigil.care.state import CareState, home_zone
from vigil.engine.operator import Emission

if TYPE_CHECKING:
    from vigil.care.monitor import CareMonitor

KIND = "night_exit"
_MIN = 60.0


def at_night(monitor: CareMonitor, time: float, tz: tzinfo) -> bool:
    """Whether ``time`` is in the night, ``night_start`` to ``night_end`` local time."""
    return within_hours(hour_of(time, tz), monitor.night_start, monitor.night_end)


def leaving_at_night(monitor: CareMonitor, state: CareState, time: float) -> bool:
    """In a home without hall or lounge motion, whether the front door now is someone
    going out: at night, and someone was about indoors (out of bed, the bathroom, the
    bedroom door) in the half hour before. A door after a long silence is someone
    coming home; by day a quiet home may be someone sitting where no sensor sees."""
    recent = bool(state.last_inside) and time - state.last_inside <= 30 * _MIN
    return recent and at_night(monitor, time, home_zone(state, monitor.time_zone))


def check(monitor: CareMonitor, state: CareState, now: float, outputs: list[Emission]) -> None:
    """Out after the door's grace period; open (or update) at night."""
    tz = home_zone(state, monitor.time_zone)
    today = state.today
    assert today is not None
    door = state.door_at
    if state.exit_pending and door is not None and now - door >= monitor.exit_grace_minutes * _MIN:
        state.exit_pending = False
        state.out_since = door
    if state.out_since is None or door is None:
        return
    out = now - state.out_since
    left_at_night = at_night(monitor, state.out_since, tz)
    if not at_night(monitor, now, tz) and KIND not in state.open:
        return  # out in the day: only the night makes it a concern
    if left_at_night and out < monitor.night_exit_minutes * _MIN:
        return
    nights = [r for r in state.history[-28:] if not r.away]
    if left_at_night:
        message = (
            f"Front door opened at {when(state.out_since, tz, now)} and no movement at home "
            f"since; now {clock(now, tz)}. The door is not usually used at night."
        )
    else:
        message = (
            f"Went out at {when(state.out_since, tz, now)} and not back; "
            f"now {clock(now, tz)} (night-time)."
        )
    evidence = {
        "reason": f"out since {clock(state.out_since, tz)}, at night",
        "door_opened": state.out_since,
        "out_minutes": round(out / 60),
        "nights_learned": len(nights),
    }
    open_condition(
        state,
        KIND,
        now,
        message,
        "critical",
        evidence,
        outputs,
        update_minutes=monitor.update_minutes,
    )


def close(
    monitor: CareMonitor,
    state: CareState,
    time: float,
    room: str,
    out: float,
    outputs: list[Emission],
) -> None:
    """Back home at ``time`` (movement in ``room``) after ``out`` seconds: close it if open."""
    if KIND not in state.open:
        return
    tz = home_zone(state, monitor.time_zone)
    message = f"Back home: movement ({room_words(room)}) at {clock(time, tz)}, out {duration(out)}."
    close_condition(state, KIND, time, message, outputs)
