"""Opening, updating and closing a home's conditions, and the words alerts share.

Every alert is one condition with the key ``{kind}:{home}``: opened once, updated at
most every ``update_minutes`` (or at once when it gets worse, or when ``force``d),
closed when the situation resolves.
"""

from __future__ import annotations

from typing import Any

from vigil.care import routine as routines
from vigil.care.state import CareState, Opened
from vigil.engine.operator import Emission
from vigil.events import ConditionSignal

CARE_ROUTE = "coordinator"
"""Wellbeing alerts go to the care team's queue."""
ALARM_ROUTE = "responder"
"""Help-button and fall-detector alarms go to the monitoring-centre responders."""
QUIET = frozenset({"help_alarm", "cold_home", "night_bathroom", "decline"})
"""Kinds updated only when something changes, never on a timer."""

_MIN = 60.0


def open_condition(
    state: CareState,
    kind: str,
    time: float,
    message: str,
    severity: str,
    evidence: dict[str, Any],
    outputs: list[Emission],
    *,
    update_minutes: float,
    route: str = CARE_ROUTE,
    force: bool = False,
) -> None:
    """Open ``kind``, or update it when open and its message changed."""
    opened = state.open.get(kind)
    next_update = None if kind in QUIET else time + update_minutes * _MIN
    if opened is not None:
        if opened.message == message:
            return
        due = opened.next_update
        if opened.severity == severity and (due is None or time < due) and not force:
            return  # at most one update per ``update_minutes``, unless it got worse
        change = "update"
        opened.message, opened.next_update = message, next_update
        opened.severity = severity
    else:
        change = "open"
        state.open[kind] = Opened(f"{kind}:{state.entity}", time, message, next_update, severity)
    outputs.append(
        ConditionSignal(
            tenant=state.tenant,
            time=time,
            entity=state.entity,
            key=f"{kind}:{state.entity}",
            change=change,  # type: ignore[arg-type]
            kind=kind,
            severity=severity,  # type: ignore[arg-type]
            message=message,
            evidence={k: v for k, v in evidence.items() if v is not None},
            route=route,
        )
    )


def close_condition(
    state: CareState, kind: str, time: float, message: str, outputs: list[Emission]
) -> None:
    """Close ``kind`` if it is open."""
    opened = state.open.pop(kind, None)
    if opened is None:
        return
    outputs.append(
        ConditionSignal(
            tenant=state.tenant,
            time=time,
            entity=state.entity,
            key=opened.key,
            change="close",
            kind=kind,
            message=message,
            route=ALARM_ROUTE if kind == "help_alarm" else CARE_ROUTE,
        )
    )


def learning_note(state: CareState, learning_days: int) -> str:
    """``' (still learning: 4 of 14 days)'`` while the routine is young, else ``''``."""
    learned = routines.days_learned(state.routine)
    if learned >= learning_days:
        return ""
    return f" (still learning: {learned} of {learning_days} days)"


def room_words(room: str) -> str:
    """``'in the kitchen'``; an unknown room as it is, none as somewhere at home."""
    return {
        "lounge": "in the lounge",
        "kitchen": "in the kitchen",
        "bathroom": "in the bathroom",
        "bedroom": "in the bedroom",
        "hall": "in the hall",
    }.get(room, room or "somewhere at home")
