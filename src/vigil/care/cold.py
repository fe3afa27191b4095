"""Cold home: indoor temperature low enough to risk health (hypothermia).

The coldest room below ``cold_below`` by day (``cold_night_below`` at night, when
bedrooms rightly cool) for ``cold_minutes`` opens it, critical below
``very_cold_below``; ``warm_hours`` with no cold reading closes it, so a home that is
cold every night is one condition, not one a night.
"""

from __future__ import annotations

import statistics
from datetime import tzinfo
from typing import TYPE_CHECKING

from vigil.care.conditions import close_condition, open_condition, room_words
from vigil.care.localtime import when
from vigil.care.night_exit import at_night
from vigil.care.state import CareState, home_zone
from vigil.engine.operator import Emission

if TYPE_CHECKING:
    from vigil.care.monitor import CareMonitor

KIND = "cold_home"
_MIN = 60.0
_HOUR = 3600.0


def threshold(monitor: CareMonitor, time: float, tz: tzinfo) -> float:
    """Below this a room counts as cold: lower at night, when bedrooms rightly cool."""
    return monitor.cold_night_below if at_night(monitor, time, tz) else monitor.cold_below


def check(monitor: CareMonitor, state: CareState, now: float, outputs: list[Emission]) -> None:
    """Track the cold spell from the rooms' latest readings; open, worsen or close."""
    tz = home_zone(state, monitor.time_zone)
    recent = {
        room: value for room, (time, value) in state.temperatures.items() if now - time <= 2 * _HOUR
    }
    opened = state.open.get(KIND)
    if opened is not None and now - max(state.cold_last, opened.since) >= (
        monitor.warm_hours * _HOUR
    ):
        state.cold_since = None
        warmest = ", ".join(f"{room_words(r)} {v:.1f} °C" for r, v in sorted(recent.items()))
        message = (
            f"Warm again: no room below {monitor.cold_below:.0f} °C by day or "
            f"{monitor.cold_night_below:.0f} °C at night for {monitor.warm_hours:.0f} h"
            + (f" (now {warmest})" if warmest else "")
            + "."
        )
        close_condition(state, KIND, now, message, outputs)
        return
    if not recent:
        return
    room, coldest = min(recent.items(), key=lambda item: (item[1], item[0]))
    if coldest < threshold(monitor, now, tz):
        state.cold_last = now
        if state.cold_since is None:
            state.cold_since = now
    else:
        state.cold_since = None
    spell = state.cold_since
    if opened is None and (spell is None or now - spell < monitor.cold_minutes * _MIN):
        return
    if opened is not None and (spell is None or coldest >= threshold(monitor, now, tz)):
        return  # stays open, as it was, until the home has been warm for a while
    lows = [r.min_temperature for r in state.history[-14:] if r.min_temperature is not None]
    usual = (
        f"; this home's lowest is usually {float(statistics.median(lows)):.1f} °C" if lows else ""
    )
    severity = "critical" if coldest < monitor.very_cold_below else "warning"
    if opened is not None and (opened.severity == severity or severity == "warning"):
        return  # updated only when it gets worse
    message = (
        f"Cold home: {room_words(room)} {coldest:.1f} °C at {when(now, tz, now)}, "
        f"below {threshold(monitor, now, tz):.0f} °C since {when(spell, tz, now)}"  # type: ignore[arg-type]
        f"{usual}."
    )
    evidence = {
        "reason": f"cold home: {room} {coldest:.1f} °C",
        "room": room,
        "temperature": coldest,
        "rooms": recent,
        "since": spell,
    }
    open_condition(
        state,
        KIND,
        now,
        message,
        severity,
        evidence,
        outputs,
        update_minutes=monitor.update_minutes,
        force=True,
    )
