"""The lifecycle of every condition, whichever operator raised it.

Operators open, update and close a condition by a stable key (``ConditionSignal``);
people acknowledge, assign, escalate, comment on and resolve it
(``ConditionAction``). Both are events in the log, so this operator -- keyed by the
condition's key -- sees them in order, and a replay rebuilds every alert's history
exactly. It keeps the ``conditions`` and ``condition_events`` projections that the
alert queue reads, and escalates a condition nobody has acknowledged in time.

One situation is one condition: an ``open`` while the condition is already open
updates it; after it is closed (the situation cleared) or resolved (a person
ended it), the next ``open`` starts a new instance, ``key~2``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from vigil.engine.operator import Emission, KeyedOperator, LatePolicy, Output
from vigil.engine.projection_rows import ConditionEvent, ConditionRow
from vigil.events import ConditionAction, ConditionSignal, LogEvent

OPEN = "open"
ACKNOWLEDGED = "acknowledged"
CLOSED = "closed"
RESOLVED = "resolved"

OUTCOMES: tuple[str, ...] = (
    "false_alarm",
    "no_action_needed",
    "contacted",
    "visit_sent",
    "device_fixed",
    "ambulance",
    "admitted_to_hospital",
    "other",
)
"""What a person may record on resolving a condition."""

DEFAULT_ESCALATION: dict[str, float | None] = {"critical": 300.0, "warning": 1800.0, "info": None}
"""Seconds a condition of each severity may stay unacknowledged before it escalates."""


class TrackedCondition(msgspec.Struct, gc=False):
    key: str = ""
    instance: int = 0
    row: ConditionRow | None = None
    events: int = 0


def condition_key(condition_id: str) -> str:
    """The stable key of a condition id (``key~instance``).

    >>> condition_key("device_offline:d-1~3")
    'device_offline:d-1'
    """
    return condition_id.rpartition("~")[0] or condition_id


class ConditionTracker(KeyedOperator[TrackedCondition]):
    """Opens, updates, escalates and closes conditions; records who did what.

    ``escalate_after`` maps a severity to the seconds it may stay unacknowledged
    (None: never escalates); an escalated condition escalates again after the same
    time, up to ``max_escalations``.
    """

    name = "conditions"
    State = TrackedCondition
    late_policy = LatePolicy.PROCESS

    def __init__(
        self,
        escalate_after: Mapping[str, float | None] | None = None,
        max_escalations: int = 3,
    ) -> None:
        self.escalate_after = dict(DEFAULT_ESCALATION if escalate_after is None else escalate_after)
        self.max_escalations = max_escalations

    def key(self, event: LogEvent) -> str | None:
        kind = type(event)
        if kind is ConditionSignal:
            return event.key  # type: ignore[union-attr]
        if kind is ConditionAction:
            return condition_key(event.condition)  # type: ignore[union-attr]
        return None

    def process(
        self, state: TrackedCondition, event: LogEvent
    ) -> tuple[TrackedCondition, list[Emission]]:
        # Escalations due before this event happen first, at the time they were due:
        # what the tracker writes depends on event times alone, never on where in the
        # log a derived signal landed (which a restart can change).
        state, escalated = self._escalate_until(state, event.time)
        if type(event) is ConditionSignal:
            state, outputs = self._signal(state, event)
        else:
            assert type(event) is ConditionAction
            state, outputs = self._action(state, event)
        return state, escalated + outputs

    # --- what operators say ------------------------------------------------------

    def _signal(
        self, state: TrackedCondition, signal: ConditionSignal
    ) -> tuple[TrackedCondition, list[Emission]]:
        row = state.row
        is_open = row is not None and row.status in (OPEN, ACKNOWLEDGED)
        if signal.change == "close":
            if row is None or not row.active:
                return state, []
            if is_open:
                row = msgspec.structs.replace(
                    row,
                    status=CLOSED,
                    active=False,
                    closed=signal.time,
                    updated=signal.time,
                    outcome="cleared",
                    escalate_at=None,
                    message=row.message,
                )
                what = "cleared"
            else:  # resolved by a person earlier; the situation has now ended too
                row = msgspec.structs.replace(row, active=False, updated=signal.time)
                what = "ended"
            return self._emit(state, row, signal.time, what, None, signal.message)
        if not is_open:
            if signal.change == "update" and row is not None and row.active:
                return state, []  # a person resolved it; updates to the old situation wait
            state.instance += 1
            state.key = signal.key
            row = ConditionRow(
                tenant=signal.tenant,
                id=f"{signal.key}~{state.instance}",
                key=signal.key,
                entity=signal.entity,
                kind=signal.kind,
                source=signal.source,
                severity=signal.severity,
                route=signal.route,
                status=OPEN,
                active=True,
                message=signal.message,
                evidence=dict(signal.evidence),
                opened=signal.time,
                updated=signal.time,
                escalate_at=self._escalation_time(signal.severity, signal.time),
            )
            return self._emit(state, row, signal.time, "raised", None, signal.message)
        assert row is not None
        if row.message == signal.message and row.severity == signal.severity:
            return state, []
        escalate_at = row.escalate_at
        if row.status == OPEN and signal.severity != row.severity:
            escalate_at = self._escalation_time(signal.severity, row.opened)
        row = msgspec.structs.replace(
            row,
            severity=signal.severity,
            message=signal.message,
            evidence=dict(signal.evidence),
            updated=signal.time,
            escalate_at=escalate_at,
        )
        return self._emit(state, row, signal.time, "updated", None, signal.message)

    def _escalation_time(self, severity: str, since: float) -> float | None:
        delay = self.escalate_after.get(severity)
        return None if delay is None else since + delay

    # --- what people do ------------------------------------------------------------

    def _action(
        self, state: TrackedCondition, action: ConditionAction
    ) -> tuple[TrackedCondition, list[Emission]]:
        row = state.row
        if row is None or row.id != action.condition:
            return state, []  # not (or no longer) this condition's current instance
        is_open = row.status in (OPEN, ACKNOWLEDGED)
        time = action.time
        note = action.note or ""
        if action.action == "comment":
            return self._emit(state, row, time, "comment", action.actor, note)
        if not is_open:
            return state, []  # acting on a closed condition changes nothing
        if action.action == "acknowledge":
            if row.status == ACKNOWLEDGED:
                return state, []
            row = msgspec.structs.replace(
                row,
                status=ACKNOWLEDGED,
                acknowledged=time,
                acknowledged_by=action.actor,
                escalate_at=None,
                updated=time,
            )
            detail = note or f"acknowledged after {_minutes(time - row.opened)}"
            return self._emit(state, row, time, "acknowledged", action.actor, detail)
        if action.action == "assign":
            row = msgspec.structs.replace(row, assignee=action.assignee, updated=time)
            detail = f"assigned to {action.assignee}" + (f": {note}" if note else "")
            return self._emit(state, row, time, "assigned", action.actor, detail)
        if action.action == "escalate":
            row = msgspec.structs.replace(row, escalations=row.escalations + 1, updated=time)
            return self._emit(state, row, time, "escalated", action.actor, note or "escalated")
        outcome = action.outcome or "other"
        row = msgspec.structs.replace(
            row, status=RESOLVED, closed=time, outcome=outcome, escalate_at=None, updated=time
        )
        detail = outcome.replace("_", " ") + (f": {note}" if note else "")
        return self._emit(state, row, time, "resolved", action.actor, detail)

    # --- escalation on a timer -------------------------------------------------------

    def next_wakeup(self, state: TrackedCondition) -> float | None:
        row = state.row
        if row is None or row.status != OPEN:
            return None
        return row.escalate_at

    def on_time(
        self, state: TrackedCondition, now: float
    ) -> tuple[TrackedCondition, list[Emission]]:
        return self._escalate_until(state, now)

    def _escalate_until(
        self, state: TrackedCondition, until: float
    ) -> tuple[TrackedCondition, list[Emission]]:
        """Every escalation due by ``until``, each at the time it fell due."""
        outputs: list[Emission] = []
        while (
            (row := state.row) is not None
            and row.status == OPEN
            and row.escalate_at is not None
            and row.escalate_at <= until
        ):
            at = row.escalate_at
            escalations = row.escalations + 1
            delay = self.escalate_after.get(row.severity)
            again = None
            if delay is not None and escalations < self.max_escalations:
                again = at + delay
            row = msgspec.structs.replace(
                row, escalations=escalations, escalate_at=again, updated=at
            )
            detail = (
                f"not acknowledged within {_minutes(at - row.opened)}: "
                f"escalated (level {escalations})"
            )
            state, emitted = self._emit(state, row, at, "escalated", None, detail)
            outputs += emitted
        return state, outputs

    # --- outputs ---------------------------------------------------------------------

    def _emit(
        self,
        state: TrackedCondition,
        row: ConditionRow,
        time: float,
        what: str,
        actor: str | None,
        detail: str,
    ) -> tuple[TrackedCondition, list[Emission]]:
        state.row = row
        state.events = state.events + 1 if what != "raised" else 1
        history = ConditionEvent(
            tenant=row.tenant,
            condition=row.id,
            number=state.events,
            time=time,
            what=what,
            actor=actor,
            detail=detail,
        )
        live = Output(
            kind="condition",
            tenant=row.tenant,
            entity=row.entity,
            time=time,
            data=_public(row, what),
            message=row.message,
        )
        return state, [row, history, live]


def _public(row: ConditionRow, what: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "what": what,
        "kind": row.kind,
        "severity": row.severity,
        "status": row.status,
        "route": row.route,
        "escalations": row.escalations,
        "updated": row.updated,
    }


def _minutes(seconds: float) -> str:
    """
    >>> _minutes(90), _minutes(7200)
    ('2 min', '2.0 h')
    """
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
