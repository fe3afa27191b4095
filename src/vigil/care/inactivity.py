"""Prolonged inactivity: a possible fall in the bathroom, or a long silence by day.

Last seen in the bathroom (a motion sensor there) and no movement anywhere for
``bathroom_minutes``: a possible fall, critical. By day, no movement for
``inactive_hours`` at a time the routine says the home is usually active (half the
quarter-hours or more): a warning. Only in homes whose hall or lounge motion would
see someone moving about; any movement closes it.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from vigil.care import devices
from vigil.care import routine as routines
from vigil.care.conditions import close_condition, learning_note, open_condition, room_words
from vigil.care.localtime import bin_of, care_hour, clock, day_type, duration, quarter_hours, when
from vigil.care.state import CareState, home_zone
from vigil.engine.operator import Emission

if TYPE_CHECKING:
    from vigil.care.monitor import CareMonitor

KIND = "prolonged_inactivity"
_MIN = 60.0
_HOUR = 3600.0


def check(monitor: CareMonitor, state: CareState, now: float, outputs: list[Emission]) -> None:
    """Open (or update) the alert when the home has been silent too long."""
    today = state.today
    assert today is not None
    tz = home_zone(state, monitor.time_zone)
    since = state.last_activity
    if not since or state.out_since is not None or state.exit_pending:
        return
    if not devices.covered(state):
        return
    if "not_up" in state.open:
        return
    silent = now - since
    room = state.last_room
    has_motion = devices.has(state, rooms=frozenset({room}), sort="motion")
    bathroom = room == "bathroom" and has_motion
    opened = state.open.get(KIND)
    if bathroom and silent >= monitor.bathroom_minutes * _MIN:
        longest = [r.longest_bathroom_minutes for r in state.history[-14:] if not r.away]
        usual = f"; bathroom visits usually last under {max(longest):.0f} min" if longest else ""
        message = (
            f"Possible fall: in the bathroom since {clock(state.bathroom_start or since, tz)} "
            f"and no movement anywhere for {duration(silent)}{usual}; now {clock(now, tz)}."
        )
        evidence = {
            "reason": f"no movement for {duration(silent)} after the bathroom (possible fall)",
            "room": room,
            "last_activity": since,
            "silent_minutes": round(silent / 60),
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
        return
    if today.up_at is None or not has_motion or bathroom:
        return
    hour = care_hour(now, tz)
    if hour >= 22.0 and opened is None:
        return  # evening: going to bed looks like this
    if silent < monitor.inactive_hours * _HOUR and opened is None:
        return
    kind = day_type(date.fromisoformat(today.record.day))
    bins = [bin_of(t, tz) for t in quarter_hours(since, now)]
    usual_active = routines.expected(state.routine, kind, "any", bins) / max(1, len(bins))
    if usual_active < 0.5 and opened is None:
        return
    message = (
        f"No movement since {when(since, tz, now)} ({room_words(room)}), "
        f"{duration(silent)}; usually active at this time "
        f"({usual_active:.0%} of these quarter-hours); now {clock(now, tz)}."
        + learning_note(state, monitor.learning_days)
    )
    evidence = {
        "reason": f"no movement for {duration(silent)} at a usually active time",
        "room": room,
        "last_activity": since,
        "silent_minutes": round(silent / 60),
        "usually_active": round(usual_active, 2),
    }
    open_condition(
        state,
        KIND,
        now,
        message,
        "warning",
        evidence,
        outputs,
        update_minutes=monitor.update_minutes,
    )


def close(
    monitor: CareMonitor, state: CareState, time: float, room: str, outputs: list[Emission]
) -> None:
    """Movement again (in ``room``, at ``time``): close the alert if open."""
    opened = state.open.get(KIND)
    if opened is None:
        return
    tz = home_zone(state, monitor.time_zone)
    message = (
        f"Movement again ({room_words(room)}) at {clock(time, tz)}, "
        f"after {duration(time - opened.since)} of alert."
    )
    close_condition(state, KIND, time, message, outputs)
