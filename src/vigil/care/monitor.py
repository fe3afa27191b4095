"""Per home: learn the resident's routine and daily indicators, and raise wellbeing alerts.

One keyed operator per home (key = the home entity) sees its devices' readings and
alarms, its device and entity configuration (rooms, "away until"), and the
tenant's clock. It keeps

- the learned routine (``vigil.care.routine``): per day type and quarter-hour, how
  likely each room and appliance is to be in use;
- daily indicators for each care day (04:00 to 04:00 local time): getting-up and
  bed time, night-time bathroom visits, kitchen use, time out, lowest indoor
  temperature, activity level, moves between rooms;
- one condition per situation, opened, updated as it evolves and closed when it
  resolves, each explained against the person's own normal.

Timers run on event time, so "not up by the usual time" fires from clock ticks
even when the whole home is silent. A resident marked away (``away_until`` or
``away`` on the home's attributes) pauses every alert but the help button and
fall detector, and teaches the routine nothing.

This module is the operator: its events, its timers and which rule runs when. What
it keeps is in ``vigil.care.state``, what a reading says in ``vigil.care.activity``,
the care day in ``vigil.care.day``, and each alert rule in a module of its own
(``not_up``, ``inactivity``, ``alarms``, ``night_exit``, ``meals``, ``nights``,
``cold``, ``decline``).
"""

from __future__ import annotations

import math
from datetime import date, datetime, tzinfo
from typing import Any

from vigil.care import activity, alarms, cold, devices, inactivity, meals, night_exit, not_up
from vigil.care.conditions import ALARM_ROUTE, CARE_ROUTE, close_condition
from vigil.care.day import DAY_METRIC, close_day, start_day
from vigil.care.localtime import at_hour, care_hour, when
from vigil.care.state import CareState, DayRecord, DeviceInfo, Opened, Today, home_zone
from vigil.engine.operator import Emission, KeyedOperator, LatePolicy
from vigil.events import (
    Alarm,
    DeviceConfigured,
    DeviceStatus,
    EntityConfigured,
    LogEvent,
    Reading,
)

__all__ = [
    "ALARM_ROUTE",
    "CARE_ROUTE",
    "CONDITION_KINDS",
    "DAY_METRIC",
    "HOME_KIND",
    "CareMonitor",
    "CareState",
    "DayRecord",
    "DeviceInfo",
    "Opened",
    "Today",
]

HOME_KIND = "home"

CONDITION_KINDS: dict[str, str] = {
    "not_up": "The resident is not up by their usual time (with a learned margin).",
    "prolonged_inactivity": "No movement for much longer than usual; in the bathroom a "
    "possible fall.",
    "help_alarm": "A pendant press or a fall detector alarm: call now.",
    "night_exit": "Left home at night (possible wandering) and not back.",
    "missed_meals": "Kitchen use far below the person's normal for the time of day.",
    "night_bathroom": "Night-time bathroom visits well above normal on several nights "
    "(an early sign of a urinary infection).",
    "cold_home": "Indoor temperature low enough to risk health (hypothermia).",
    "decline": "Activity or moves between rooms trending down over weeks, against the "
    "person's own earlier weeks (a sign of frailty or illness).",
}

_HOUR = 3600.0
_DAY = 86400.0
_MIN = 60.0
_DEVICE_EVENTS = (Reading, DeviceStatus, Alarm)


def _parse_time(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.timestamp()


def _after(candidates: list[float], now: float) -> float | None:
    later = [c for c in candidates if c > now]
    return min(later) if later else None


class CareMonitor(KeyedOperator[CareState]):
    """A home's routine, daily indicators and wellbeing alerts.

    Thresholds are the constructor's arguments; each alert says which normal it
    compares with. ``time_zone`` is used for homes whose attributes name none.

    >>> from vigil.events import Alarm
    >>> monitor = CareMonitor()
    >>> alarm = Alarm(tenant="t", device="h.pendant", entity="h", seq=1,
    ...               time=1793610000.0, alarm="pendant", detail="help button pressed")
    >>> state, outputs = monitor.process(monitor.initial_state("h"), alarm)
    >>> signal = outputs[0]
    >>> signal.kind, signal.severity, signal.route
    ('help_alarm', 'critical', 'responder')
    >>> signal.message
    'Help button pressed at 09:00: call the resident now.'
    """

    name = "care"
    State = CareState
    late_policy = LatePolicy.DROP

    def __init__(
        self,
        *,
        time_zone: str = "Europe/London",
        learning_days: int = 14,
        prior_days: float = 3.0,
        memory_days: float = 21.0,
        default_up_by: float = 8.5,
        default_up_margin_minutes: float = 120.0,
        learning_up_margin_minutes: float = 90.0,
        earliest_up: float = 5.0,
        bathroom_minutes: float = 45.0,
        inactive_hours: float = 3.0,
        night_start: float = 23.0,
        night_end: float = 6.0,
        night_exit_minutes: float = 30.0,
        exit_grace_minutes: float = 10.0,
        kitchen_ratio: float = 0.3,
        kitchen_min_expected: float = 4.0,
        kitchen_from: float = 11.0,
        kitchen_until: float = 21.0,
        kitchen_min_home: int = 4,
        kitchen_days: int = 3,
        rising_windows: tuple[int, ...] = (2, 3),
        rising_alpha: float = 0.01,
        rising_min_extra: float = 1.5,
        cold_below: float = 16.0,
        cold_night_below: float = 13.0,
        very_cold_below: float = 10.0,
        cold_minutes: float = 120.0,
        warm_hours: float = 24.0,
        decline_drop: float = 0.25,
        update_minutes: float = 60.0,
        allowed_lateness: float = 300.0,
    ) -> None:
        self.time_zone = time_zone
        self.learning_days = learning_days
        self.prior_days = prior_days
        self.memory_days = memory_days
        self.default_up_by = default_up_by
        self.default_up_margin_minutes = default_up_margin_minutes
        self.learning_up_margin_minutes = learning_up_margin_minutes
        self.earliest_up = earliest_up
        self.bathroom_minutes = bathroom_minutes
        self.inactive_hours = inactive_hours
        self.night_start = night_start
        self.night_end = night_end
        self.night_exit_minutes = night_exit_minutes
        self.exit_grace_minutes = exit_grace_minutes
        self.kitchen_ratio = kitchen_ratio
        self.kitchen_min_expected = kitchen_min_expected
        self.kitchen_from = kitchen_from
        self.kitchen_until = kitchen_until
        self.kitchen_min_home = kitchen_min_home
        self.kitchen_days = kitchen_days
        self.rising_windows = rising_windows
        self.rising_alpha = rising_alpha
        self.rising_min_extra = rising_min_extra
        self.cold_below = cold_below
        self.cold_night_below = cold_night_below
        self.very_cold_below = very_cold_below
        self.cold_minutes = cold_minutes
        self.warm_hours = warm_hours
        self.decline_drop = decline_drop
        self.update_minutes = update_minutes
        self.allowed_lateness = allowed_lateness

    # --- the contract -----------------------------------------------------------------

    def key(self, event: LogEvent) -> str | None:
        kind = type(event)
        if kind in _DEVICE_EVENTS or kind is DeviceConfigured or kind is EntityConfigured:
            return event.entity  # type: ignore[union-attr]
        return None

    def next_wakeup(self, state: CareState) -> float | None:
        return state.due

    def on_time(self, state: CareState, now: float) -> tuple[CareState, list[Emission]]:
        if state.kind not in ("", HOME_KIND) or not state.tenant:
            return state, []
        outputs: list[Emission] = []
        self._advance(state, now, outputs, inclusive=True)
        self._schedule(state, now)
        return state, outputs

    def process(self, state: CareState, event: LogEvent) -> tuple[CareState, list[Emission]]:
        kind = type(event)
        if kind is EntityConfigured:
            return self._configure_entity(state, event)  # type: ignore[arg-type]
        if state.kind not in ("", HOME_KIND):
            return state, []
        time = event.timestamp
        if not state.tenant:
            state.tenant, state.entity = event.tenant, event.entity  # type: ignore[union-attr]
        outputs: list[Emission] = []
        self._advance(state, time, outputs, inclusive=True)
        if state.today is None:
            start_day(state, time, self._tz(state), observed_from=time)
        if kind is DeviceConfigured:
            devices.configure(state, event)  # type: ignore[arg-type]
        elif kind is Alarm:
            devices.seen(state, event.device, time)  # type: ignore[union-attr]
            alarms.raise_alarm(self, state, event, outputs)  # type: ignore[arg-type]
        elif kind is DeviceStatus:
            devices.seen(state, event.device, time, online=event.online)  # type: ignore[union-attr]
            return state, outputs  # changes no rule and no due time
        elif not activity.reading(self, state, event, outputs):  # type: ignore[arg-type]
            return state, outputs  # a reading that changes nothing: the hot path
        self._check(state, time, outputs, timer=False)
        self._schedule(state, time)
        return state, outputs

    # --- configuration ----------------------------------------------------------------

    def _tz(self, state: CareState) -> tzinfo:
        return home_zone(state, self.time_zone)

    def _configure_entity(
        self, state: CareState, event: EntityConfigured
    ) -> tuple[CareState, list[Emission]]:
        outputs: list[Emission] = []
        state.tenant, state.entity = event.tenant, event.entity
        state.kind = HOME_KIND if event.kind == HOME_KIND and not event.removed else event.kind
        if event.removed:
            state.kind = "removed"
        if state.kind != HOME_KIND:
            for kind in list(state.open):
                message = "The home was taken off the service."
                close_condition(state, kind, event.time, message, outputs)
            state.due = None
            return state, outputs
        attributes = event.attributes
        zone_name = attributes.get("time_zone")
        state.time_zone = str(zone_name) if zone_name else ""
        until = _parse_time(attributes.get("away_until"))
        away = bool(attributes.get("away")) or (until is not None and until > event.time)
        self._advance(state, event.time, outputs, inclusive=True)
        if away and not state.away:
            self._go_away(state, event.time, until, outputs)
        elif not away and state.away:
            self._come_back(state, event.time)
        state.away_until = until if away else None
        self._schedule(state, event.time)
        return state, outputs

    def _go_away(
        self, state: CareState, time: float, until: float | None, outputs: list[Emission]
    ) -> None:
        state.away = True
        tz = self._tz(state)
        back = f" until {when(until, tz, time)}" if until is not None else ""
        for kind in sorted(state.open):
            if kind != "help_alarm":
                message = f"Resident marked away{back}: alerts paused."
                close_condition(state, kind, time, message, outputs)
        if state.today is not None:
            state.today.record.away = True

    def _come_back(self, state: CareState, time: float) -> None:
        state.away = False
        state.away_until = None
        state.out_since = None
        state.exit_pending = False
        state.door_at = None
        state.last_activity = time
        state.cold_since = None
        today = state.today
        if today is not None and today.up_at is None:
            tz = self._tz(state)
            if care_hour(time, tz) >= self.earliest_up:
                today.up_at = time  # back from hospital in the afternoon: not "not up"
        state.night_since = time
        state.night_visits = []

    # --- time ---------------------------------------------------------------------------

    def _advance(
        self, state: CareState, until: float, outputs: list[Emission], *, inclusive: bool
    ) -> None:
        """Close every care day that ended before ``until``; check the rules at each end
        and at every due time in between, at the time each was due."""
        for _ in range(400):  # a long silence: at most this many steps (over a year of days)
            due = state.due
            today = state.today
            step = None
            if today is not None and (today.end < until or (inclusive and today.end <= until)):
                step = today.end
            due_now = due is not None and (due < until or (inclusive and due <= until))
            if due_now and (step is None or due < step):  # type: ignore[operator]
                step = due
            if step is None:
                return
            if today is not None and step >= today.end:
                self._check(state, today.end, outputs)
                close_day(self, state, outputs)
                following = state.today
                if following is not None and following.end + _DAY < until:
                    # The clock leapt days ahead (a platform down, a replay's jump): the
                    # days between were not watched; the next is the one ``until`` is in.
                    start_day(state, until, self._tz(state), observed_from=until)
            else:
                self._check(state, step, outputs)
            self._schedule(state, step)
            if state.due is not None and state.due <= step:
                state.due = None  # never loop on one instant
        if state.today is not None and state.today.end < until:  # skip the remaining silence
            start_day(state, until, self._tz(state), observed_from=until)

    # --- the rules ------------------------------------------------------------------------

    def _check(
        self, state: CareState, now: float, outputs: list[Emission], *, timer: bool = True
    ) -> None:
        """Every rule at ``now``. After an event (``timer`` False) only the rules an event
        can change at once run; the others wait for their due time, which ``_schedule``
        sets, so that their outcome depends on event times only, and the hot path is short.
        The night's bathroom visits are judged on getting up, the decline at the day's end.
        """
        if state.kind not in ("", HOME_KIND) or state.today is None:
            return
        if state.away and state.away_until is not None and now >= state.away_until:
            self._come_back(state, state.away_until)
        if state.away:
            return
        night_exit.check(self, state, now, outputs)
        if timer:
            not_up.check(self, state, now, outputs)
            inactivity.check(self, state, now, outputs)
        if timer or "missed_meals" in state.open:
            meals.check(self, state, now, outputs)
        cold.check(self, state, now, outputs)

    def _schedule(self, state: CareState, now: float) -> None:
        if state.kind not in ("", HOME_KIND) or state.today is None:
            state.due = None
            return
        tz = self._tz(state)
        today = state.today
        candidates = [today.end]
        if state.away:
            if state.away_until is not None:
                candidates.append(state.away_until)
            state.due = _after(candidates, now)
            return
        for opened in state.open.values():
            if opened.next_update is not None:
                candidates.append(opened.next_update)
        if today.up_at is None and "not_up" not in state.open:
            candidates.append(not_up.deadline(self, state, today)[2])
        if state.last_activity:
            candidates.append(state.last_activity + self.bathroom_minutes * _MIN)
            candidates.append(state.last_activity + self.inactive_hours * _HOUR)
        if state.exit_pending and state.door_at is not None:
            candidates.append(state.door_at + self.exit_grace_minutes * _MIN)
        if state.out_since is not None:
            candidates.append(state.out_since + self.night_exit_minutes * _MIN)
            day = date.fromisoformat(today.record.day)
            candidates.append(at_hour(day, self.night_start, tz))
        if state.cold_since is not None:
            candidates.append(state.cold_since + self.cold_minutes * _MIN)
        cold_home = state.open.get("cold_home")
        if cold_home is not None:
            candidates.append(max(state.cold_last, cold_home.since) + self.warm_hours * _HOUR)
        if today.up_at is not None or today.about_at is not None:
            candidates.append((math.floor(now / _HOUR) + 1) * _HOUR)
        state.due = _after(candidates, now)
