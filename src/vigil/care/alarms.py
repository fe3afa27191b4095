"""Help alarm: a pendant press or a fall detector's alarm, raised at once, even while
away, to the responders; a person resolves it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vigil.care.conditions import ALARM_ROUTE, open_condition, room_words
from vigil.care.localtime import clock, when
from vigil.care.state import CareState, home_zone
from vigil.engine.operator import Emission
from vigil.events import Alarm

if TYPE_CHECKING:
    from vigil.care.monitor import CareMonitor

KIND = "help_alarm"
_HELP = ("pendant", "fall", "help", "panic", "help_button")
"""Alarm names that are a call for help (any other is raised under its own name)."""


def raise_alarm(
    monitor: CareMonitor, state: CareState, event: Alarm, outputs: list[Emission]
) -> None:
    """Open (or update, on a second press) ``help_alarm`` for ``event``."""
    tz = home_zone(state, monitor.time_zone)
    time = event.timestamp
    what = event.alarm.lower()
    fall = "fall" in what
    label = "Fall detected" if fall else "Help button pressed"
    if what not in _HELP:
        label = f"Alarm {event.alarm!r} raised"
    last = ""
    if state.last_activity and state.last_activity < time:
        last = (
            f" Last movement: {room_words(state.last_room)} at "
            f"{when(state.last_activity, tz, time)}."
        )
    opened = state.open.get(KIND)
    if opened is None:
        message = f"{label} at {clock(time, tz)}: call the resident now.{last}"
    else:
        message = (
            f"{label} again at {clock(time, tz)} (first at {clock(opened.since, tz)}): "
            f"call the resident now.{last}"
        )
    severity = event.severity if event.severity in ("warning", "critical") else "critical"
    evidence = {
        "reason": f"{label.lower()} at {clock(time, tz)}",
        "device": event.device,
        "alarm": event.alarm,
        "detail": event.detail or "",
    }
    open_condition(
        state,
        KIND,
        time,
        message,
        severity,
        evidence,
        outputs,
        update_minutes=monitor.update_minutes,
        route=ALARM_ROUTE,
        force=True,
    )
