"""Per machine: its state from the PLC's ``state`` tag, and OEE for the current shift.

The PLC reports ``state`` (running, idle, down, setup, planned stop) when it
changes, ``downtime_reason`` when a stop begins, and cumulative ``cycle_count``,
``good_count`` and ``reject_count``. The operator keeps the time spent in each
state per shift of the plant's calendar (``vigil.factory.shifts``), splits every
interval at shift boundaries (a stop that runs over the end of a shift counts in
both, each its own part) and works out OEE per ISO 22400-2 (``vigil.factory.oee``).

Time off shift is planned: whatever the machine does then is not downtime, and
it never raises an alert for it. A stop shorter than ``microstop_seconds`` is a
microstop: its time stays in production time (a loss of performance).

It emits, per machine:

- ``LatestValue`` rows on the machine (device ``oee``): ``oee``, ``availability``,
  ``performance``, ``quality`` (percent), ``state``, ``good_parts``,
  ``rejected_parts``, ``downtime_min``, ``microstops`` and ``top_downtime``, what
  the machine's page and the plant page read;
- a ``Derived`` ``machine_oee`` event (the shift's sums and the state) on every
  state change, every ``publish_seconds`` of production and at the end of each
  shift, which ``LineOEE`` rolls up per line;
- a durable ``shift_oee`` finding at the end of each shift, explained;
- conditions ``machine_down`` (an unplanned stop longer than ``down_alert_seconds``,
  routed to engineers) and ``oee_below_target`` (a shift ended below target).
"""

from __future__ import annotations

import math
from typing import Any

import msgspec

from vigil.engine.operator import Emission, KeyedOperator, LatePolicy, Output
from vigil.engine.projection_rows import LatestValue
from vigil.events import (
    ConditionChange,
    ConditionSignal,
    Derived,
    EntityConfigured,
    LogEvent,
    Reading,
)
from vigil.factory.oee import minutes, oee_figures, percent
from vigil.factory.plc_samples import plc_samples
from vigil.factory.shift_sums import Shift, clock_time, evidence, finite, shift_summary, top_reason
from vigil.factory.shifts import DEFAULT_SHIFTS, DEFAULT_WORKDAYS, ShiftCalendar

DEVICE = "oee"
"""The ``device`` of the latest-value rows the factory operators write on an entity."""
ENGINEER = "engineer"
CONDITION_KINDS: dict[str, str] = {
    "machine_down": "A machine has stood still, unplanned, for longer than the threshold.",
    "oee_below_target": "A machine's OEE for a shift ended below the target.",
}

_COUNTERS = {"cycle_count": "produced", "good_count": "good", "reject_count": "rejects"}
_METRICS = frozenset({"state", "downtime_reason", *_COUNTERS})
_STATES = {
    "running": "running",
    "run": "running",
    "producing": "running",
    "idle": "idle",
    "down": "down",
    "fault": "down",
    "stopped": "down",
    "setup": "setup",
    "changeover": "setup",
    "planned_stop": "planned_stop",
    "planned stop": "planned_stop",
    "planned": "planned_stop",
    "break": "planned_stop",
}
_STOPS = frozenset({"down", "unknown"})
"""States that are a stop: they get a reason, can be microstops, raise ``machine_down``."""


class MachineState(msgspec.Struct, gc=False):
    tenant: str = ""
    entity: str = ""
    name: str = ""
    line: str | None = None
    cell: str | None = None
    """The 5G cell that serves it (its ``cell`` attribute), for ``StopAttribution``."""
    ideal_cycle: float | None = None
    plc_state: str = ""
    since: float = 0.0
    reason: str = ""
    clock: float | None = None
    """Event time accounted up to (None: no state seen yet)."""
    stop_start: float | None = None
    stop_in_shift: float = 0.0
    shift: Shift | None = None
    counters: dict[str, float] = {}
    down_alerted: bool = False
    oee_low: bool = False
    published: float = 0.0


def ideal_cycle_of(attributes: dict[str, Any]) -> float | None:
    """The ideal cycle time (seconds per part) from a machine's attributes."""
    for name in ("ideal_cycle_seconds", "ideal_cycle_s"):
        value = attributes.get(name)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if number and math.isfinite(value) and value > 0:  # type: ignore[arg-type]
            return float(value)  # type: ignore[arg-type]
    return None


class MachineOEE(KeyedOperator[MachineState]):
    """State, OEE per shift, downtime reasons and stop alerts of one machine.

    >>> op = MachineOEE(down_alert_seconds=1200)
    >>> monday = 4 * 86400.0                      # 1970-01-05, a Monday
    >>> def state(hour, value):
    ...     return Reading(tenant="t", device="plc", entity="m1", seq=int(hour * 60),
    ...                    time=monday + hour * 3600, metric="state", value=value)
    >>> s = op.initial_state("m1")
    >>> s, _ = op.process(s, state(6.0, "running"))
    >>> s, out = op.process(s, state(7.0, "down"))
    >>> s, out = op.on_time(s, monday + 7.5 * 3600)
    >>> [o.message for o in out if isinstance(o, ConditionSignal)]
    ['m1 has been down since 07:00 (30 min), reason not given.']
    """

    name = "machine_oee"
    State = MachineState
    late_policy = LatePolicy.PROCESS
    """A late reading counts from the time already accounted to: time only moves on."""

    def __init__(
        self,
        *,
        shifts: tuple[tuple[float, float], ...] = DEFAULT_SHIFTS,
        workdays: tuple[int, ...] = DEFAULT_WORKDAYS,
        microstop_seconds: float = 120.0,
        down_alert_seconds: float = 20 * 60.0,
        oee_target: float = 0.6,
        min_planned_seconds: float = 3600.0,
        publish_seconds: float = 60.0,
    ) -> None:
        self.shifts = shifts
        self.workdays = workdays
        self.microstop_seconds = microstop_seconds
        self.down_alert_seconds = down_alert_seconds
        self.oee_target = oee_target
        self.min_planned_seconds = min_planned_seconds
        self.publish_seconds = publish_seconds
        self._calendar = ShiftCalendar(shifts, workdays)

    @classmethod
    def sample_inputs(cls, seed: int = 0) -> list[LogEvent]:
        """What it consumes, for the contract suite (``sample_events`` has few PLC
        readings): two tenants with two machines each, 14 h of states and counters."""
        return plc_samples(seed)

    def key(self, event: LogEvent) -> str | None:
        kind = type(event)
        if kind is Reading and event.metric in _METRICS:  # type: ignore[union-attr]
            return event.entity  # type: ignore[union-attr]
        if kind is EntityConfigured and event.kind == "machine":  # type: ignore[union-attr]
            return event.entity  # type: ignore[union-attr]
        return None

    # -- events ------------------------------------------------------------------------

    def process(self, state: MachineState, event: LogEvent) -> tuple[MachineState, list[Emission]]:
        outputs: list[Emission] = []
        if type(event) is EntityConfigured:
            state.tenant, state.entity = event.tenant, event.entity
            state.name = event.name or state.name
            state.line = event.parent
            cell = event.attributes.get("cell")
            state.cell = cell if isinstance(cell, str) and cell else None
            state.ideal_cycle = ideal_cycle_of(event.attributes)
            return state, outputs
        assert type(event) is Reading
        if not state.tenant:
            state.tenant, state.entity = event.tenant, event.entity
        time = event.timestamp
        if state.clock is not None:
            time = max(time, state.clock)
            self._advance(state, time, outputs)
        metric, value = event.metric, event.value
        if metric == "state":
            if type(value) is str and value.strip():
                self._change_state(
                    state, _STATES.get(value.strip().lower(), "unknown"), time, outputs
                )
        elif metric == "downtime_reason":
            if type(value) is str and value.strip():
                reason = value.strip()[:64]
                if reason != state.reason and state.stop_start is not None and state.cell:
                    state.reason = reason
                    self._publish(state, time, outputs)  # the stop's reason, for the network
                state.reason = reason
        elif type(value) is float and math.isfinite(value):
            self._count(state, metric, value, time, outputs)
        self._check_down(state, time, outputs)
        return state, outputs

    def next_wakeup(self, state: MachineState) -> float | None:
        if state.clock is None:
            return None
        wakeups = []
        boundary = self._calendar.next_boundary(state.clock)
        if boundary is not None:
            wakeups.append(boundary)
        if state.stop_start is not None and state.shift is not None and not state.down_alerted:
            wakeups.append(max(state.stop_start, state.shift.start) + self.down_alert_seconds)
        return max(min(wakeups), state.clock + 1e-3) if wakeups else None

    def on_time(self, state: MachineState, now: float) -> tuple[MachineState, list[Emission]]:
        outputs: list[Emission] = []
        if state.clock is not None and now > state.clock:
            self._advance(state, now, outputs)
            self._check_down(state, now, outputs)
            if now - state.published >= self.publish_seconds:
                self._publish(state, now, outputs)  # a quiet machine's page moves on too
        return state, outputs

    # -- time accounting ---------------------------------------------------------------

    def _advance(self, state: MachineState, until: float, outputs: list[Emission]) -> None:
        """Account ``[clock, until)`` to the current state, shift by shift."""
        assert state.clock is not None
        while True:
            self._roll_shift(state, state.clock, outputs)
            if state.clock >= until:
                return
            boundary = self._calendar.next_boundary(state.clock)
            end = until if boundary is None else min(until, boundary)
            self._account(state, end - state.clock)
            state.clock = end

    def _account(self, state: MachineState, seconds: float) -> None:
        shift = state.shift
        if shift is None or seconds <= 0:
            return  # off shift: planned, not counted
        current = state.plc_state
        if current == "planned_stop":
            shift.planned_stop += seconds
            return
        shift.planned_busy += seconds
        if current == "running":
            shift.production += seconds
        elif current == "setup":
            shift.setup += seconds
            shift.reasons["setup"] = shift.reasons.get("setup", 0.0) + seconds
        else:
            shift.down += seconds
            if current in _STOPS:
                state.stop_in_shift += seconds
            else:
                shift.reasons["idle"] = shift.reasons.get("idle", 0.0) + seconds

    def _roll_shift(self, state: MachineState, time: float, outputs: list[Emission]) -> None:
        """Close the shift that ended by ``time``, open the one it is in."""
        span = self._calendar.shift_at(time)
        shift = state.shift
        if shift is not None and (span is None or span[0] != shift.start):
            self._close_shift(state, shift, time, outputs)
            state.shift = None
        if span is not None and state.shift is None:
            state.shift = Shift(start=span[0], end=span[1])
            state.stop_in_shift = 0.0
            state.down_alerted = state.down_alerted and state.stop_start is not None
            self._publish(state, time, outputs)
        elif span is None and shift is not None:
            self._publish(state, time, outputs)

    def _change_state(
        self, state: MachineState, new: str, time: float, outputs: list[Emission]
    ) -> None:
        if state.clock is None:
            state.clock = time
            self._roll_shift(state, time, outputs)
        if new == state.plc_state:
            return
        was_stop = state.plc_state in _STOPS
        if was_stop and new not in _STOPS:
            self._end_stop(state, time, outputs)
        if new in _STOPS and not was_stop:
            state.stop_start, state.stop_in_shift = time, 0.0
        state.plc_state, state.since = new, time
        self._publish(state, time, outputs)

    def _end_stop(self, state: MachineState, time: float, outputs: list[Emission]) -> None:
        assert state.stop_start is not None
        length = time - state.stop_start
        shift = state.shift
        if shift is not None:
            if length < self.microstop_seconds:
                shift.down -= state.stop_in_shift
                shift.production += state.stop_in_shift
                shift.microstops += 1
                shift.microstop_seconds += state.stop_in_shift
            else:
                reason = state.reason or "unknown"
                shift.reasons[reason] = shift.reasons.get(reason, 0.0) + state.stop_in_shift
        if state.down_alerted:
            why = f" ({state.reason})" if state.reason else ""
            message = (
                f"{state.name or state.entity} is no longer down, after {minutes(length)}{why}."
            )
            outputs.append(self._signal(state, time, "machine_down", "close", message, length))
        state.stop_start, state.stop_in_shift = None, 0.0
        state.down_alerted = False
        state.reason = ""

    def _count(
        self, state: MachineState, metric: str, value: float, time: float, outputs: list[Emission]
    ) -> None:
        last = state.counters.get(metric)
        state.counters[metric] = value
        if last is None or state.shift is None:
            return  # the first reading is the baseline; off-shift output is not the shift's
        delta = value - last if value >= last else max(value, 0.0)  # a reset restarts from 0
        field = _COUNTERS[metric]
        total = getattr(state.shift, field) + delta
        if math.isfinite(total):
            setattr(state.shift, field, total)
        # Counters reported together (cycles, good, rejects at one time) publish together.
        due = time - state.published >= self.publish_seconds or time == state.published
        if due:
            self._publish(state, time, outputs)

    # -- what it says ------------------------------------------------------------------

    def figures(self, state: MachineState) -> dict[str, float | None]:
        """Availability, performance, quality and OEE of the current shift so far."""
        shift = state.shift or Shift()
        return oee_figures(
            planned_busy=shift.planned_busy,
            production=shift.production,
            ideal=_ideal(state, shift),
            produced=shift.produced,
            good=shift.good,
        )

    def _publish(
        self, state: MachineState, time: float, outputs: list[Emission], *, final: bool = False
    ) -> None:
        state.published = time
        shift = state.shift
        if shift is None:
            label = "off shift"
        elif state.plc_state in _STOPS:
            label = f"down: {state.reason}" if state.reason else "down"
        else:
            label = (state.plc_state or "unknown").replace("_", " ")
        rows: list[tuple[str, float | None, str | None, str | None]] = [
            ("state", None, label, None)
        ]
        if shift is not None:
            figures = self.figures(state)
            for metric in ("oee", "availability", "performance", "quality"):
                value = figures[metric]
                rows.append((metric, None if value is None else round(100 * value, 1), None, "%"))
            top = top_reason(shift)
            rows += [
                ("good_parts", shift.good, None, None),
                ("rejected_parts", shift.rejects, None, None),
                ("downtime_min", round(shift.down / 60, 1), None, "min"),
                ("microstops", float(shift.microstops), None, None),
                ("top_downtime", None, f"{top[0]} {minutes(top[1])}" if top else "none", None),
            ]
        for metric, value, text, unit in rows:
            outputs.append(
                LatestValue(
                    tenant=state.tenant,
                    entity=state.entity,
                    device=DEVICE,
                    metric=metric,
                    value=finite(value),
                    text=text,
                    time=time,
                    unit=unit,
                )
            )
        if state.line:
            data: dict[str, Any] = {
                "line": state.line,
                "state": state.plc_state or "unknown",
                "on_shift": shift is not None,
                "final": final,
            }
            if state.cell:
                data.update(cell=state.cell, name=state.name or state.entity)
                data["reason"] = state.reason or None
            if shift is not None:
                data.update(
                    shift_start=shift.start,
                    planned_busy=shift.planned_busy,
                    production=shift.production,
                    ideal=finite(_ideal(state, shift)),
                    produced=shift.produced,
                    good=shift.good,
                )
            outputs.append(
                Derived(
                    tenant=state.tenant,
                    time=time,
                    entity=state.entity,
                    kind="machine_oee",
                    data=data,
                )
            )

    def _close_shift(
        self, state: MachineState, shift: Shift, time: float, outputs: list[Emission]
    ) -> None:
        if state.stop_start is not None and state.stop_in_shift:
            reason = state.reason or "unknown"  # still stopped: downtime of this shift
            shift.reasons[reason] = shift.reasons.get(reason, 0.0) + state.stop_in_shift
            state.stop_in_shift = 0.0
        self._publish(state, time, outputs, final=True)
        figures = self.figures(state)
        summary = shift_summary(state.name or state.entity, shift, figures)
        outputs.append(
            Output(
                kind="shift_oee",
                tenant=state.tenant,
                entity=state.entity,
                time=time,
                data=evidence(shift, figures),
                message=summary,
                durable=True,
            )
        )
        oee = figures["oee"]
        if shift.planned_busy < self.min_planned_seconds or oee is None:
            return
        if oee < self.oee_target:
            change: ConditionChange = "update" if state.oee_low else "open"
            state.oee_low = True
            message = f"Below the {percent(self.oee_target)} target. {summary}"
            outputs.append(self._oee_signal(state, time, change, message, shift, figures))
        elif state.oee_low:
            state.oee_low = False
            message = f"Back on target ({percent(self.oee_target)}). {summary}"
            outputs.append(self._oee_signal(state, time, "close", message, shift, figures))

    def _check_down(self, state: MachineState, time: float, outputs: list[Emission]) -> None:
        if state.stop_start is None or state.shift is None or state.down_alerted:
            return
        begin = max(state.stop_start, state.shift.start)
        if time - begin < self.down_alert_seconds:
            return
        state.down_alerted = True
        why = f"reason: {state.reason}" if state.reason else "reason not given"
        message = (
            f"{state.name or state.entity} has been down since {clock_time(begin)} "
            f"({minutes(time - begin)}), {why}."
        )
        outputs.append(self._signal(state, time, "machine_down", "open", message, time - begin))

    def _signal(
        self,
        state: MachineState,
        time: float,
        kind: str,
        change: ConditionChange,
        message: str,
        seconds: float,
    ) -> ConditionSignal:
        return ConditionSignal(
            tenant=state.tenant,
            time=time,
            entity=state.entity,
            key=f"{kind}:{state.entity}",
            change=change,
            kind=kind,
            severity="warning",
            message=message,
            evidence={
                "since": state.stop_start,
                "down_minutes": round(seconds / 60, 1),
                "reason": state.reason or None,
                "line": state.line,
            },
            route=ENGINEER,
            source=self.name,
        )

    def _oee_signal(
        self,
        state: MachineState,
        time: float,
        change: ConditionChange,
        message: str,
        shift: Shift,
        figures: dict[str, float | None],
    ) -> ConditionSignal:
        return ConditionSignal(
            tenant=state.tenant,
            time=time,
            entity=state.entity,
            key=f"oee_below_target:{state.entity}",
            change=change,
            kind="oee_below_target",
            severity="warning",
            message=message,
            evidence={**evidence(shift, figures), "target": self.oee_target},
            route=ENGINEER,
            source=self.name,
        )


def _ideal(state: MachineState, shift: Shift) -> float | None:
    return None if state.ideal_cycle is None else state.ideal_cycle * shift.produced
