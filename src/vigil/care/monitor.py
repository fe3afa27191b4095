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
"""

from __future__ import annotations

import math
import statistics
from datetime import date, datetime, tzinfo
from typing import Any

import msgspec

from vigil.care import decline as declines
from vigil.care import meals, nights
from vigil.care import routine as routines
from vigil.care.localtime import (
    at_hour,
    bin_of,
    care_day,
    care_hour,
    clock,
    clock_hour,
    day_end,
    day_start,
    day_type,
    duration,
    hour_of,
    is_weekend,
    when,
    zone,
)
from vigil.care.sensors import LIVING_ROOMS, Channel, channel_for, is_activity
from vigil.engine.operator import Emission, KeyedOperator, LatePolicy, Output
from vigil.engine.projection_rows import LatestValue
from vigil.events import (
    Alarm,
    ConditionSignal,
    Derived,
    DeviceConfigured,
    DeviceStatus,
    EntityConfigured,
    LogEvent,
    Reading,
)

DAY_METRIC = "care_day"
"""The metric under which each home's latest day summary is kept for pages."""
CARE_ROUTE = "coordinator"
"""Wellbeing alerts go to the care team's queue."""
ALARM_ROUTE = "responder"
"""Help-button and fall-detector alarms go to the monitoring-centre responders."""
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

_PASSAGE = frozenset({"hall", "lounge"})
_HOUR = 3600.0
_DAY = 86400.0
_MIN = 60.0
_DEVICE_EVENTS = (Reading, DeviceStatus, Alarm)


class DeviceInfo(msgspec.Struct, array_like=True, gc=False):
    kind: str = ""
    location: str | None = None
    metric: str = "x"
    """The first metric the device declares (what kind of channel it is, when its kind
    alone does not say)."""
    heartbeat: float | None = None
    last_seen: float = 0.0
    offline: bool = False
    outages: list[tuple[float, float]] = []
    """Recent spans in which the device was silent or said it was offline."""


class DayRecord(msgspec.Struct, kw_only=True, gc=False):
    """One care day's indicators. Hours are local; after midnight they run on past 24."""

    day: str
    weekend: bool
    up: float | None = None
    bed: float | None = None
    night_bathroom: int | None = None
    """Bathroom visits in the night that ended this morning (None: not known)."""
    kitchen_bins: int = 0
    kitchen_by: list[int] = []
    """Kitchen quarter-hours before each of 11:00 ... 21:00."""
    home_by: list[int] = []
    """Quarter-hours about at home (``CareMonitor._home_bins``) before each of 11:00 ...
    21:00: the time kitchen use is judged against."""
    active_bins: int = 0
    events: int = 0
    moves: int = 0
    out_minutes: float = 0.0
    min_temperature: float | None = None
    longest_bathroom_minutes: float = 0.0
    complete: bool = False
    away: bool = False


class Today(msgspec.Struct, kw_only=True, gc=False, omit_defaults=True):
    record: DayRecord
    start: float
    end: float
    observed_from: float
    active: dict[str, list[int]] = {}
    out_bins: list[int] = []
    skip: list[str] = []
    up_at: float | None = None
    about_at: float | None = None
    """The start of the first sustained activity after ``earliest_up`` (15 min or more, or
    the living rooms), the bed empty: about, even before the usual signs of getting up."""
    unseen: list[int] = []
    """Quarter-hours between the front door and the door again with nothing indoors
    between (out, in a home whose sensors cannot see it)."""
    deadline: tuple[float, float, float] | None = None
    """(usually up by, margin, deadline): depends only on earlier days, so kept."""


class Opened(msgspec.Struct, array_like=True, gc=False):
    key: str
    since: float
    message: str
    next_update: float | None = None
    severity: str = "warning"


class CareState(msgspec.Struct, gc=False, omit_defaults=True):
    tenant: str = ""
    entity: str = ""
    kind: str = ""
    """The entity's kind once configured; anything but a home is ignored."""
    time_zone: str = ""
    away_until: float | None = None
    away: bool = False
    devices: dict[str, DeviceInfo] = {}
    routine: routines.Routine = msgspec.field(default_factory=routines.Routine)
    history: list[DayRecord] = []
    today: Today | None = None
    last_activity: float = 0.0
    run_start: float = 0.0
    """When the current run of activity began (no gap of 30 min since)."""
    last_room: str = ""
    last_sort: str = ""
    in_bed: bool | None = None
    bed_doubt: float | None = None
    """First activity in the living rooms while the bed said it was occupied."""
    bathroom_start: float | None = None
    bathroom_last: float = 0.0
    night_since: float = 0.0
    """When the resident was last about in the living rooms: the night starts there."""
    night_visits: list[float] = []
    door_at: float | None = None
    exit_pending: bool = False
    last_inside: float = 0.0
    """Last activity at home other than the front door."""
    out_since: float | None = None
    temperatures: dict[str, tuple[float, float]] = {}
    """Room -> (time, °C) of its latest reading."""
    cold_since: float | None = None
    cold_last: float = 0.0
    """When a room was last below the cold threshold."""
    open: dict[str, Opened] = {}
    due: float | None = None


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


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
            self._start_day(state, time, observed_from=time)
        if kind is DeviceConfigured:
            self._configure_device(state, event)  # type: ignore[arg-type]
        elif kind is Alarm:
            self._seen(state, event.device, time)  # type: ignore[union-attr]
            self._alarm(state, event, outputs)  # type: ignore[arg-type]
        elif kind is DeviceStatus:
            self._seen(state, event.device, time, online=event.online)  # type: ignore[union-attr]
            return state, outputs  # changes no rule and no due time
        elif not self._reading(state, event, outputs):  # type: ignore[arg-type]
            return state, outputs  # a reading that changes nothing: the hot path
        self._check(state, time, outputs, timer=False)
        self._schedule(state, time)
        return state, outputs

    # --- configuration ----------------------------------------------------------------

    def _tz(self, state: CareState) -> tzinfo:
        return zone(state.time_zone or self.time_zone)

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
                self._close(state, kind, event.time, "The home was taken off the service.", outputs)
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
                self._close(state, kind, time, message, outputs)
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

    def _configure_device(self, state: CareState, event: DeviceConfigured) -> None:
        if event.removed:
            state.devices.pop(event.device, None)
            return
        info = state.devices.get(event.device) or DeviceInfo(last_seen=event.time)
        info.kind, info.location, info.heartbeat = event.kind, event.location, event.heartbeat
        info.metric = event.metrics[0] if event.metrics else "x"
        state.devices[event.device] = info

    def _channel(self, state: CareState, device: str, metric: str) -> Channel | None:
        info = state.devices.get(device)
        if info is None:
            return channel_for("", None, device, metric)
        return channel_for(info.kind, info.location, device, metric)

    def _seen(self, state: CareState, device: str, time: float, online: bool | None = None) -> None:
        info = state.devices.get(device)
        if info is None:
            info = state.devices[device] = DeviceInfo(last_seen=time)
        silent_for = time - info.last_seen
        if info.offline or (
            info.heartbeat is not None and info.last_seen and silent_for > 1.5 * info.heartbeat
        ):
            info.outages = [*info.outages[-3:], (info.last_seen, time)]
            info.offline = False
            channel = channel_for(info.kind, info.location, device, info.metric)
            today = state.today
            if channel is not None and today is not None and channel.name not in today.skip:
                today.skip = sorted({*today.skip, channel.name, f"@{channel.room}", "any"})
        if time > info.last_seen:
            info.last_seen = time
        if online is False:
            info.offline = True

    def _outage(self, state: CareState, room: str | None, start: float, end: float) -> bool:
        """Whether a device (of ``room``, or any if None) was out at some point in [start, end]."""
        for device, info in state.devices.items():
            if room is not None and self._room_of(info, device) != room:
                continue
            if self._device_out(info, start, end):
                return True
        return False

    def _room_of(self, info: DeviceInfo, device: str) -> str:
        metric = "temperature" if info.kind == "temperature" else ""
        channel = channel_for(info.kind, info.location, device, metric or "x")
        return channel.room if channel is not None else ""

    # --- the day ------------------------------------------------------------------------

    def _start_day(self, state: CareState, time: float, *, observed_from: float) -> None:
        tz = self._tz(state)
        day = care_day(time, tz)
        record = DayRecord(day=day.isoformat(), weekend=is_weekend(day), away=state.away)
        state.today = Today(
            record=record,
            start=day_start(day, tz),
            end=day_end(day, tz),
            observed_from=observed_from,
        )

    def _close_day(self, state: CareState, outputs: list[Emission]) -> None:
        today = state.today
        assert today is not None
        tz = self._tz(state)
        record = today.record
        end = today.end
        if state.night_since >= today.start + 10 * _HOUR:
            record.bed = care_hour(state.night_since, tz)
        record.complete = today.observed_from <= today.start + 60 and not record.away
        record.active_bins = len(today.active.get("any", ()))
        kitchen = today.active.get("@kitchen", ())
        record.kitchen_bins = len(kitchen)
        record.kitchen_by = [_count_before(kitchen, hour) for hour in _KITCHEN_HOURS]
        home = self._home_bins(state, today, at_hour(date.fromisoformat(record.day), 21.0, tz))
        record.home_by = [_count_before(home, hour) for hour in _KITCHEN_HOURS]
        if not record.away:
            observed = {
                bin_of(t, tz) for t in _quarter_hours(max(today.start, today.observed_from), end)
            }
            channels = sorted(set(today.active) | self._channels(state) | {"any"})
            state.routine = routines.learn(
                state.routine,
                day_type(date.fromisoformat(record.day)),
                today.active,
                observed=observed,
                channels=channels,
                prior_days=self.prior_days,
                memory_days=self.memory_days,
                skip=self._skipped(state, today),
            )
        state.history = [*state.history[-41:], record]
        if not record.away:
            self._check_decline(state, end, outputs)
        if "missed_meals" in state.open:
            self._close(
                state,
                "missed_meals",
                end,
                f"Day ended: kitchen used in {record.kitchen_bins} quarter-hours.",
                outputs,
            )
        learned = routines.days_learned(state.routine)
        # The quarter-hours out of the home go with the day for the resident page's timeline.
        data = {
            **msgspec.to_builtins(record),
            "days_learned": learned,
            "out_bins": sorted(today.out_bins),
        }
        summary = self._summary(record, learned)
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
                message=summary,
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
                text=summary,
                time=end,
            )
        )
        self._start_day(state, end, observed_from=end)
        state.today.record.away = state.away  # type: ignore[union-attr]

    def _skipped(self, state: CareState, today: Today) -> list[str]:
        """Channels that learn nothing from this day: a device of theirs was offline or
        silent for longer than its heartbeat at some point of it."""
        skipped = set(today.skip)
        for device, info in state.devices.items():
            channel = channel_for(info.kind, info.location, device, info.metric)
            if channel is None or channel.sort == "temperature":
                continue
            if self._device_out(info, today.start, today.end):
                skipped.update((channel.name, f"@{channel.room}", "any"))
        return sorted(skipped)

    def _device_out(self, info: DeviceInfo, start: float, end: float) -> bool:
        if info.offline and info.last_seen <= end:
            return True
        late = info.heartbeat is not None and end - info.last_seen > 1.5 * info.heartbeat
        if late and info.last_seen < end:
            return True
        return any(a <= end and b >= start for a, b in info.outages)

    def _channels(self, state: CareState) -> set[str]:
        """Every channel (and room, as ``@room``) the home's devices can show."""
        names = set()
        for device, info in state.devices.items():
            channel = channel_for(info.kind, info.location, device, info.metric)
            if channel is not None and channel.sort != "temperature":
                names.update((channel.name, f"@{channel.room}"))
        return names

    def _summary(self, record: DayRecord, learned: int) -> str:
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
        if learned < self.learning_days:
            parts.append(f"still learning: {learned} of {self.learning_days} days")
        return parts[0] + " " + "; ".join(parts[1:]) + "."

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
                self._close_day(state, outputs)
                following = state.today
                if following is not None and following.end + _DAY < until:
                    # The clock leapt days ahead (a platform down, a replay's jump): the
                    # days between were not watched; the next is the one ``until`` is in.
                    self._start_day(state, until, observed_from=until)
            else:
                self._check(state, step, outputs)
            self._schedule(state, step)
            if state.due is not None and state.due <= step:
                state.due = None  # never loop on one instant
        if state.today is not None and state.today.end < until:  # skip the remaining silence
            self._start_day(state, until, observed_from=until)

    # --- events -------------------------------------------------------------------------

    def _reading(self, state: CareState, event: Reading, outputs: list[Emission]) -> bool:
        """Take in a reading; whether it may have changed a rule or a due time."""
        time = event.timestamp
        self._seen(state, event.device, time)
        channel = self._channel(state, event.device, event.metric)
        if channel is None:
            return False
        today = state.today
        assert today is not None
        if channel.sort == "temperature":
            value = event.value
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if number and math.isfinite(value) and -30.0 < value < 60.0:  # type: ignore[arg-type]
                state.temperatures[channel.room] = (time, float(value))
                low = today.record.min_temperature
                if low is None or value < low:  # type: ignore[operator]
                    today.record.min_temperature = round(float(value), 1)
                cold = value < max(self.cold_below, self.cold_night_below)  # type: ignore[operator]
                return cold or state.cold_since is not None or "cold_home" in state.open
            return False
        if channel.sort == "bed":
            occupied = event.value not in (0, 0.0, False, "0", "off", "false")
            state.in_bed = occupied
            state.bed_doubt = None
        if not is_activity(channel, event.metric, event.value):
            return channel.sort == "bed"
        self._activity(state, channel, time, outputs)
        return True

    def _activity(
        self, state: CareState, channel: Channel, time: float, outputs: list[Emission]
    ) -> None:
        tz = self._tz(state)
        today = state.today
        assert today is not None
        record = today.record
        record.events += 1
        earlier_run = None
        if time - state.last_activity > _RUN_GAP:
            if time - state.last_activity <= _RUNS_APART:
                earlier_run = state.run_start  # a second run soon after: up, not a trip
            state.run_start = time
        b = bin_of(time, tz)
        for name in (channel.name, "any", f"@{channel.room}"):
            bins = today.active.setdefault(name, [])
            if (not bins or bins[-1] != b) and b not in bins:
                bins.append(b)
        room = channel.room
        if room != state.last_room and channel.sort != "temperature":
            record.moves += 1
        # bathroom visits
        if room == "bathroom":
            if state.bathroom_start is None or time - state.bathroom_last > 10 * _MIN:
                state.bathroom_start = time
                state.night_visits = [*state.night_visits[-30:], time]
            state.bathroom_last = time
            record.longest_bathroom_minutes = max(
                record.longest_bathroom_minutes, round((time - state.bathroom_start) / _MIN, 1)
            )
        # going out and coming back
        if channel.sort == "door":
            door_at = state.door_at
            if state.last_sort == "door" and door_at is not None and time - door_at >= _RUN_GAP:
                # the door, nothing indoors, the door again: out in between
                unseen = {bin_of(t, tz) for t in _quarter_hours(door_at + 900, time)}
                today.unseen = sorted(set(today.unseen) | unseen)
            if state.out_since is not None:  # the door while out: someone is back
                self._back_home(state, time, room, outputs)
            elif self._covered(state) or self._leaving_at_night(state, time):
                state.exit_pending = True  # out, unless someone moves at home soon
            state.door_at = time
        else:
            state.last_inside = time
            if state.out_since is not None:
                self._back_home(state, time, room, outputs)
            state.exit_pending = False
        # the night and getting up
        living = room in LIVING_ROOMS or channel.sort == "door"
        hour = care_hour(time, tz)
        if (
            today.about_at is None
            and channel.sort != "bed"
            and not state.in_bed
            and hour >= self.earliest_up
            and (living or earlier_run is not None or time - state.run_start >= _RUN_MIN)
        ):
            begun = at_hour(date.fromisoformat(record.day), self.earliest_up, tz)
            first = state.run_start if earlier_run is None else earlier_run
            if first >= begun:
                today.about_at = max(first, today.observed_from)
        if living and state.in_bed:  # the bed says occupied, yet someone is about
            if state.bed_doubt is None:
                state.bed_doubt = time
            elif time - state.bed_doubt >= 15 * _MIN:
                state.in_bed = False  # the bed sensor missed the getting up
        if living:
            if today.up_at is None and hour >= self.earliest_up and not state.in_bed:
                self._got_up(state, time, outputs, home_coming=channel.sort == "door")
            elif self.earliest_up <= hour < 25.0 or time - state.night_since < 2 * _HOUR:
                state.night_since = time
                state.night_visits = []
        state.last_activity = time
        state.last_room = room
        state.last_sort = channel.sort
        for kind in ("prolonged_inactivity",):
            if kind in state.open:
                message = (
                    f"Movement again ({_room_words(room)}) at {clock(time, tz)}, "
                    f"after {duration(time - state.open[kind].since)} of alert."
                )
                self._close(state, kind, time, message, outputs)

    def _got_up(
        self, state: CareState, time: float, outputs: list[Emission], *, home_coming: bool = False
    ) -> None:
        tz = self._tz(state)
        today = state.today
        assert today is not None
        today.up_at = time
        if today.about_at is None or today.about_at > time:
            today.about_at = time
        day = date.fromisoformat(today.record.day)
        if today.observed_from <= at_hour(day, self.earliest_up, tz) and not (
            home_coming and time - state.last_activity > 4 * _HOUR
        ):  # a door after a long silence is coming home, not getting up
            today.record.up = round(care_hour(time, tz), 3)  # else watching began after it
        night_from = state.night_since
        if night_from and time - night_from >= 4 * _HOUR:
            visits = [
                s
                for s in state.night_visits
                if s >= night_from + 30 * _MIN and s <= time - 30 * _MIN
            ]
            if not self._outage(state, "bathroom", night_from, time):
                today.record.night_bathroom = len(visits)
        state.night_since = time
        state.night_visits = []
        if "not_up" in state.open:
            usual, _ = self._usual_up(state, today)
            late = time - at_hour(date.fromisoformat(today.record.day), usual, tz)
            lateness = f", {duration(late)} later than usual" if late > 0 else ""
            message = f"Up at {clock(time, tz)} (usually up by {clock_hour(usual)}{lateness})."
            self._close(state, "not_up", time, message, outputs)
        if today.record.night_bathroom is not None:
            self._night_trend(state, time, outputs)

    def _back_home(self, state: CareState, time: float, room: str, outputs: list[Emission]) -> None:
        tz = self._tz(state)
        assert state.out_since is not None and state.today is not None
        out = time - state.out_since
        state.today.record.out_minutes = round(state.today.record.out_minutes + out / _MIN, 1)
        if "night_exit" in state.open:
            message = (
                f"Back home: movement ({_room_words(room)}) at {clock(time, tz)}, "
                f"out {duration(out)}."
            )
            self._close(state, "night_exit", time, message, outputs)
        today = state.today
        today.out_bins = sorted(
            set(today.out_bins) | {bin_of(t, tz) for t in _quarter_hours(state.out_since, time)}
        )
        state.out_since = None
        state.exit_pending = False

    def _alarm(self, state: CareState, event: Alarm, outputs: list[Emission]) -> None:
        tz = self._tz(state)
        time = event.timestamp
        what = event.alarm.lower()
        fall = "fall" in what
        label = "Fall detected" if fall else "Help button pressed"
        if what not in ("pendant", "fall", "help", "panic", "help_button"):
            label = f"Alarm {event.alarm!r} raised"
        last = ""
        if state.last_activity and state.last_activity < time:
            last = (
                f" Last movement: {_room_words(state.last_room)} at "
                f"{when(state.last_activity, tz, time)}."
            )
        opened = state.open.get("help_alarm")
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
        self._open(
            state,
            "help_alarm",
            time,
            message,
            severity,
            evidence,
            outputs,
            route=ALARM_ROUTE,
            force=True,
        )

    # --- the rules ------------------------------------------------------------------------

    def _deadline(self, state: CareState, today: Today) -> tuple[float, float, float]:
        """(usually up by, margin in minutes, deadline), worked out once a day."""
        if today.deadline is None:
            usual, margin = self._usual_up(state, today)
            day = date.fromisoformat(today.record.day)
            deadline = at_hour(day, usual, self._tz(state)) + margin * _MIN
            today.deadline = (usual, margin, deadline)
        return today.deadline

    def _usual_up(self, state: CareState, today: Today) -> tuple[float, float]:
        """(usually up by, margin in minutes), from this person's days or the population."""
        weekend = today.record.weekend
        ups = [r.up for r in state.history if r.up is not None and not r.away]
        same = [r.up for r in state.history if r.up is not None and r.weekend == weekend]
        values = same if len(same) >= 5 else ups
        values = values[-28:]
        population = self.default_up_by + self.default_up_margin_minutes / 60
        if not values:
            return self.default_up_by, self.default_up_margin_minutes
        if len(values) < 5:  # still learning: never earlier than the population's deadline
            usual = max(values)
            margin = max(self.learning_up_margin_minutes, (population - usual) * 60)
            return usual, margin
        usual = _quantile(values, 0.8)
        spread = (_quantile(values, 0.8) - _quantile(values, 0.2)) * 60
        return usual, min(120.0, max(45.0, 2.0 * spread))

    def _learning_note(self, state: CareState) -> str:
        learned = routines.days_learned(state.routine)
        if learned >= self.learning_days:
            return ""
        return f" (still learning: {learned} of {self.learning_days} days)"

    def _check(
        self, state: CareState, now: float, outputs: list[Emission], *, timer: bool = True
    ) -> None:
        """Every rule at ``now``. After an event (``timer`` False) only the rules an event
        can change at once run; the others wait for their due time, which ``_schedule``
        sets, so that their outcome depends on event times only, and the hot path is short.
        """
        if state.kind not in ("", HOME_KIND) or state.today is None:
            return
        if state.away and state.away_until is not None and now >= state.away_until:
            self._come_back(state, state.away_until)
        if state.away:
            return
        self._check_exit(state, now, outputs)
        if timer:
            self._check_not_up(state, now, outputs)
            self._check_inactivity(state, now, outputs)
        if timer or "missed_meals" in state.open:
            self._check_kitchen(state, now, outputs)
        self._check_cold(state, now, outputs)

    def _covered(self, state: CareState) -> bool:
        """Whether a person moving about at home is seen: a motion sensor in the hall or
        lounge. Without one, a quiet home after the door (or after the bathroom) may just
        be someone sitting still, so "out", "no movement" and "possible fall" are not
        inferred from silence."""
        return self._has(state, rooms=_PASSAGE, sort="motion")

    def _leaving_at_night(self, state: CareState, time: float) -> bool:
        """In a home without hall or lounge motion, whether the front door now is someone
        going out: at night, and someone was about indoors (out of bed, the bathroom, the
        bedroom door) in the half hour before. A door after a long silence is someone
        coming home; by day a quiet home may be someone sitting where no sensor sees."""
        recent = bool(state.last_inside) and time - state.last_inside <= 30 * _MIN
        return recent and self._in_night(hour_of(time, self._tz(state)))

    def _has(
        self, state: CareState, *, rooms: frozenset[str] | None = None, sort: str = ""
    ) -> bool:
        """Whether the home has a device in one of ``rooms`` (of ``sort``, if given)."""
        for device, info in state.devices.items():
            channel = channel_for(info.kind, info.location, device, info.metric)
            if channel is None:
                continue
            if rooms is not None and channel.room not in rooms:
                continue
            if sort and channel.sort != sort:
                continue
            return True
        return False

    def _check_not_up(self, state: CareState, now: float, outputs: list[Emission]) -> None:
        today = state.today
        assert today is not None
        tz = self._tz(state)
        if today.up_at is not None:
            return
        if not self._has(state, rooms=LIVING_ROOMS):
            return
        day = date.fromisoformat(today.record.day)
        usual, margin, deadline = self._deadline(state, today)
        opened = state.open.get("not_up")
        if opened is None:
            if now < deadline or state.out_since is not None:
                return
            if state.last_sort == "door":
                return  # last seen at the front door: gone out, not lying in bed
            if state.in_bed is not True and now - state.last_activity < 30 * _MIN:
                return  # moving about out of bed just now: up, if not yet in the kitchen
            if today.observed_from > at_hour(day, self.earliest_up, tz):
                return  # watching began after the resident may have got up
            if not self._heard_from_living(state, now):
                return  # no data, not no movement: device alerts cover it
        since = state.last_activity
        last = (
            f"no movement since {when(since, tz, now)}"
            + (f" ({_room_words(state.last_room)})" if state.last_room else "")
            if since
            else "no movement seen"
        )
        message = (
            f"Usually up by {clock_hour(usual)}; {last}; now {clock(now, tz)}."
            + self._learning_note(state)
        )
        severity = "critical" if now >= deadline + 90 * _MIN else "warning"
        late = duration(now - (deadline - margin * _MIN))
        evidence = {
            "reason": f"not up, {late} after the usual {clock_hour(usual)}",
            "usually_up_by": clock_hour(usual),
            "margin_minutes": round(margin),
            "deadline": deadline,
            "last_activity": since or None,
            "last_room": state.last_room or None,
            "days_learned": routines.days_learned(state.routine),
        }
        self._open(state, "not_up", now, message, severity, evidence, outputs)

    def _heard_from_living(self, state: CareState, now: float) -> bool:
        for device, info in state.devices.items():
            channel = channel_for(info.kind, info.location, device, info.metric)
            living = channel is not None and channel.room in LIVING_ROOMS and not info.offline
            if living and (info.heartbeat is None or now - info.last_seen <= 1.5 * info.heartbeat):
                return True
        return False

    def _check_inactivity(self, state: CareState, now: float, outputs: list[Emission]) -> None:
        today = state.today
        assert today is not None
        tz = self._tz(state)
        since = state.last_activity
        if not since or state.out_since is not None or state.exit_pending:
            return
        if not self._covered(state):
            return
        if "not_up" in state.open:
            return
        silent = now - since
        room = state.last_room
        has_motion = self._has(state, rooms=frozenset({room}), sort="motion")
        bathroom = room == "bathroom" and has_motion
        opened = state.open.get("prolonged_inactivity")
        if bathroom and silent >= self.bathroom_minutes * _MIN:
            longest = [r.longest_bathroom_minutes for r in state.history[-14:] if not r.away]
            usual = (
                f"; bathroom visits usually last under {max(longest):.0f} min" if longest else ""
            )
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
            self._open(state, "prolonged_inactivity", now, message, "critical", evidence, outputs)
            return
        if today.up_at is None or not has_motion or bathroom:
            return
        hour = care_hour(now, tz)
        if hour >= 22.0 and opened is None:
            return  # evening: going to bed looks like this
        if silent < self.inactive_hours * _HOUR and opened is None:
            return
        kind = day_type(date.fromisoformat(today.record.day))
        bins = [bin_of(t, tz) for t in _quarter_hours(since, now)]
        usual = routines.expected(state.routine, kind, "any", bins) / max(1, len(bins))
        if usual < 0.5 and opened is None:
            return
        message = (
            f"No movement since {when(since, tz, now)} ({_room_words(room)}), "
            f"{duration(silent)}; usually active at this time "
            f"({usual:.0%} of these quarter-hours); now {clock(now, tz)}."
            + self._learning_note(state)
        )
        evidence = {
            "reason": f"no movement for {duration(silent)} at a usually active time",
            "room": room,
            "last_activity": since,
            "silent_minutes": round(silent / 60),
            "usually_active": round(usual, 2),
        }
        self._open(state, "prolonged_inactivity", now, message, "warning", evidence, outputs)

    def _in_night(self, hour: float) -> bool:
        hour %= 24.0
        if self.night_start > self.night_end:
            return hour >= self.night_start or hour < self.night_end
        return self.night_start <= hour < self.night_end

    def _check_exit(self, state: CareState, now: float, outputs: list[Emission]) -> None:
        tz = self._tz(state)
        today = state.today
        assert today is not None
        door = state.door_at
        if state.exit_pending and door is not None and now - door >= self.exit_grace_minutes * _MIN:
            state.exit_pending = False
            state.out_since = door
        if state.out_since is None or door is None:
            return
        out = now - state.out_since
        left_at_night = self._in_night(hour_of(state.out_since, tz))
        if not self._in_night(hour_of(now, tz)) and "night_exit" not in state.open:
            return  # out in the day: only the night makes it a concern
        if left_at_night and out < self.night_exit_minutes * _MIN:
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
        self._open(state, "night_exit", now, message, "critical", evidence, outputs)

    def _home_bins(self, state: CareState, today: Today, now: float) -> list[int]:
        """Today's quarter-hours from the first sign of being about to ``now``, less those
        out: out of the home (homes whose sensors see it), or after the front door with
        nothing indoors since or before the door again. Kitchen bins always count."""
        tz = self._tz(state)
        about = [t for t in (today.about_at, today.up_at) if t is not None]
        if not about:
            return []
        start = max(min(about), today.observed_from)
        away = set(today.out_bins) | set(today.unseen)
        if state.out_since is not None:
            away.update(bin_of(t, tz) for t in _quarter_hours(state.out_since, now))
        door_at = state.door_at
        if state.last_sort == "door" and door_at is not None and now - door_at >= _RUN_GAP:
            away.update(bin_of(t, tz) for t in _quarter_hours(door_at + 900, now))
        bins = {bin_of(t, tz) for t in _quarter_hours(start, now)}
        first, last = bin_of(start, tz), bin_of(now, tz)
        kitchen = {b for b in today.active.get("@kitchen", ()) if first <= b <= last}
        return sorted((bins - away) | kitchen)

    def _check_kitchen(self, state: CareState, now: float, outputs: list[Emission]) -> None:
        today = state.today
        assert today is not None
        tz = self._tz(state)
        if today.about_at is None and today.up_at is None:
            return
        if not self._has(state, rooms=frozenset({"kitchen"})):
            return
        if not self.kitchen_from <= care_hour(now, tz) < self.kitchen_until:
            return  # judged in the day; the day's end closes it
        kind = day_type(date.fromisoformat(today.record.day))
        bins = self._home_bins(state, today, now)
        usual = routines.expected(state.routine, kind, "@kitchen", bins)
        seen = len(set(today.active.get("@kitchen", ())) & set(bins))
        opened = state.open.get("missed_meals")
        if opened is not None:
            if seen >= 0.5 * usual or seen > self.kitchen_ratio * usual + 1:
                message = (
                    f"Kitchen in use again: {seen} quarter-hours today by {clock(now, tz)} "
                    f"(usually about {usual:.0f})."
                )
                self._close(state, "missed_meals", now, message, outputs)
            return
        hour = int(care_hour(now, tz))
        index = hour - _KITCHEN_HOURS[0]
        home = sum(1 for b in bins if b < hour * 4)
        so_far = _count_before(today.active.get("@kitchen", ()), hour)
        comparable = [
            (r.home_by[index], r.kitchen_by[index])
            for r in state.history[-28:]
            if not r.away
            and len(r.kitchen_by) == len(_KITCHEN_HOURS)
            and len(r.home_by) == len(_KITCHEN_HOURS)
        ]
        found = meals.assess(
            usual=usual,
            seen=max(so_far, seen),  # kitchen use since the hour began counts too
            home=home,
            comparable=comparable,
            ratio=self.kitchen_ratio,
            min_expected=self.kitchen_min_expected,
            min_home=self.kitchen_min_home,
            min_days=self.kitchen_days,
        )
        if found is None:
            return
        about = duration(home * 900)
        fewest = (
            f"; at least {found.fewest} by this time on each of the last {found.days} days "
            "they were home as long, or as long as usual"
            if found.fewest
            else ""
        )
        message = (
            f"Kitchen used in {seen} quarter-hour{'s' if seen != 1 else ''} today by "
            f"{clock(now, tz)}, in {about} up and at home; usually about {usual:.0f} "
            f"in that time{fewest}"
            + ("" if today.active.get("@kitchen") else " (no kitchen activity at all today)")
            + "."
            + self._learning_note(state)
        )
        evidence = {
            "reason": f"kitchen used {seen} quarter-hours today, usually about {usual:.0f}",
            "kitchen_quarter_hours": seen,
            "usual": round(usual, 1),
            "home_quarter_hours": home,
            "fewest": found.fewest,
            "comparable_days": found.days,
        }
        self._open(state, "missed_meals", now, message, "warning", evidence, outputs)

    def _night_trend(self, state: CareState, now: float, outputs: list[Emission]) -> None:
        """Each morning: the last nights together against the person's own rate."""
        today = state.today
        assert today is not None
        known = [r.night_bathroom for r in state.history if r.night_bathroom is not None]
        recent: list[int] = [*known, today.record.night_bathroom]  # type: ignore[list-item]
        found = nights.excess(
            recent,
            windows=self.rising_windows,
            alpha=self.rising_alpha,
            min_extra=self.rising_min_extra,
        )
        if found is not None:
            counts = ", ".join(str(n) for n in reversed(found.nights))
            window = len(found.nights)
            message = (
                f"Night-time bathroom visits: {counts} on the last {window} nights "
                f"(latest first), {found.total} in all; usually about {found.rate:.1f} a "
                f"night ({found.expected:.0f} in {window} nights); so many by chance: "
                f"{nights.chance(found.tail)}." + self._learning_note(state)
            )
            evidence = {
                "reason": f"{found.total} night bathroom visits in {window} nights, "
                f"usually about {found.expected:.0f}",
                "nights": found.nights,
                "total": found.total,
                "usual_per_night": round(found.rate, 2),
                "expected": round(found.expected, 1),
                "chance": round(found.tail, 5),
                "baseline_nights": found.baseline_nights,
            }
            self._open(
                state, "night_bathroom", now, message, "warning", evidence, outputs, force=True
            )
            return
        usual = nights.usual_rate(recent)
        if "night_bathroom" in state.open and recent[-1] <= usual + 1:
            message = (
                f"Night-time bathroom visits back to {recent[-1]} last night "
                f"(usually about {usual:.1f})."
            )
            self._close(state, "night_bathroom", now, message, outputs)

    def _check_decline(self, state: CareState, now: float, outputs: list[Emission]) -> None:
        """Once a day, at its close: the last week against the person's earlier weeks."""
        findings = declines.assess(state.history, drop=self.decline_drop)
        if findings:
            worst = max(findings, key=lambda f: f.drop)
            evidence = {
                "reason": f"{declines.MEASURES[worst.measure]} down {worst.drop:.0%} "
                f"on their own usual over two weeks",
                **{
                    f.measure: {
                        "this_week": f.recent,
                        "week_before": f.previous,
                        "usual": f.usual,
                        "usual_low": f.low,
                        "baseline_days": f.baseline_days,
                    }
                    for f in findings
                },
            }
            message = declines.explain(findings)
            self._open(state, "decline", now, message, "warning", evidence, outputs)
        elif "decline" in state.open and declines.recovered(state.history, drop=self.decline_drop):
            message = "Activity and moves between rooms back near their usual level this week."
            self._close(state, "decline", now, message, outputs)

    def _cold_threshold(self, time: float, tz: tzinfo) -> float:
        """Below this a room counts as cold: lower at night, when bedrooms rightly cool."""
        return self.cold_night_below if self._in_night(hour_of(time, tz)) else self.cold_below

    def _check_cold(self, state: CareState, now: float, outputs: list[Emission]) -> None:
        """Cold for ``cold_minutes`` opens it; ``warm_hours`` with no cold reading closes it,
        so a home that is cold every night is one condition, not one a night."""
        tz = self._tz(state)
        recent = {
            room: value
            for room, (time, value) in state.temperatures.items()
            if now - time <= 2 * _HOUR
        }
        opened = state.open.get("cold_home")
        if opened is not None and now - max(state.cold_last, opened.since) >= (
            self.warm_hours * _HOUR
        ):
            state.cold_since = None
            warmest = ", ".join(f"{_room_words(r)} {v:.1f} °C" for r, v in sorted(recent.items()))
            message = (
                f"Warm again: no room below {self.cold_below:.0f} °C by day or "
                f"{self.cold_night_below:.0f} °C at night for {self.warm_hours:.0f} h"
                + (f" (now {warmest})" if warmest else "")
                + "."
            )
            self._close(state, "cold_home", now, message, outputs)
            return
        if not recent:
            return
        room, coldest = min(recent.items(), key=lambda item: (item[1], item[0]))
        if coldest < self._cold_threshold(now, tz):
            state.cold_last = now
            if state.cold_since is None:
                state.cold_since = now
        else:
            state.cold_since = None
        spell = state.cold_since
        if opened is None and (spell is None or now - spell < self.cold_minutes * _MIN):
            return
        if opened is not None and (spell is None or coldest >= self._cold_threshold(now, tz)):
            return  # stays open, as it was, until the home has been warm for a while
        lows = [r.min_temperature for r in state.history[-14:] if r.min_temperature is not None]
        usual = f"; this home's lowest is usually {_median(lows):.1f} °C" if lows else ""
        severity = "critical" if coldest < self.very_cold_below else "warning"
        if opened is not None and (opened.severity == severity or severity == "warning"):
            return  # updated only when it gets worse
        message = (
            f"Cold home: {_room_words(room)} {coldest:.1f} °C at {when(now, tz, now)}, "
            f"below {self._cold_threshold(now, tz):.0f} °C since {when(spell, tz, now)}"  # type: ignore[arg-type]
            f"{usual}."
        )
        evidence = {
            "reason": f"cold home: {room} {coldest:.1f} °C",
            "room": room,
            "temperature": coldest,
            "rooms": recent,
            "since": spell,
        }
        self._open(state, "cold_home", now, message, severity, evidence, outputs, force=True)

    # --- timers ---------------------------------------------------------------------------

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
            candidates.append(self._deadline(state, today)[2])
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
        cold = state.open.get("cold_home")
        if cold is not None:
            candidates.append(max(state.cold_last, cold.since) + self.warm_hours * _HOUR)
        if today.up_at is not None or today.about_at is not None:
            candidates.append((math.floor(now / _HOUR) + 1) * _HOUR)
        state.due = _after(candidates, now)

    # --- conditions ---------------------------------------------------------------------

    def _open(
        self,
        state: CareState,
        kind: str,
        time: float,
        message: str,
        severity: str,
        evidence: dict[str, Any],
        outputs: list[Emission],
        *,
        route: str = CARE_ROUTE,
        force: bool = False,
    ) -> None:
        opened = state.open.get(kind)
        quiet = kind in ("help_alarm", "cold_home", "night_bathroom", "decline")
        next_update = None if quiet else time + self.update_minutes * _MIN
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
            state.open[kind] = Opened(
                f"{kind}:{state.entity}", time, message, next_update, severity
            )
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

    def _close(
        self, state: CareState, kind: str, time: float, message: str, outputs: list[Emission]
    ) -> None:
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


_KITCHEN_HOURS = tuple(range(11, 22))
_RUN_GAP = 30 * 60.0
"""Activity this far apart is two runs; the front door then this long with nothing
indoors is someone gone out."""
_RUN_MIN = 15 * 60.0
"""A run of activity this long (out of bed) is someone about, not a night-time trip."""
_RUNS_APART = 90 * 60.0
"""Two runs of activity this close (out of bed) are someone up: a night-time trip is
followed by sleep."""


def _count_before(bins: list[int] | tuple[int, ...], hour: int) -> int:
    """Bins of the care day (from 04:00) before local ``hour``."""
    return sum(1 for b in bins if 16 <= b < hour * 4)


def _after(candidates: list[float], now: float) -> float | None:
    later = [c for c in candidates if c > now]
    return min(later) if later else None


def _quarter_hours(start: float, end: float) -> list[float]:
    """The start of every quarter-hour from the one holding ``start`` to before ``end``."""
    first = math.floor(start / 900.0) * 900.0
    count = max(0, min(200, math.ceil((end - first) / 900.0)))
    return [first + i * 900.0 for i in range(count)]


def _room_words(room: str) -> str:
    return {
        "lounge": "in the lounge",
        "kitchen": "in the kitchen",
        "bathroom": "in the bathroom",
        "bedroom": "in the bedroom",
        "hall": "in the hall",
    }.get(room, room or "somewhere at home")
