"""Per device: is it alive, is its battery fine, is it stuck on one value?

Care teams lose trust in a service whose sensors die quietly, so each of these
opens a condition with a plain explanation, routed to whoever looks after the
devices (not the care team), and closes it when the device recovers. The
device's heartbeat comes from its configuration events in the log, so a device
registered or re-configured while the platform runs is watched from then on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from vigil.engine.operator import Emission, KeyedOperator, LatePolicy
from vigil.events import (
    EVENT_TYPES,
    ConditionChange,
    ConditionSignal,
    DeviceConfigured,
    DeviceStatus,
    LogEvent,
    Reading,
)

DEVICE_ROUTE = "installer"
"""Device problems go to the people who install and mend devices."""
CONDITION_KINDS: dict[str, str] = {
    "device_offline": "A device has not reported for longer than its heartbeat.",
    "battery_low": "A device's battery is below the warning level.",
    "sensor_stuck": "A sensor has read exactly the same value for hours while others move.",
}

_DEVICE_TYPES = frozenset(EVENT_TYPES)


class Repeat(msgspec.Struct, array_like=True, gc=False):
    value: float
    since: float
    count: int = 1
    stuck: bool = False


class DeviceHealthState(msgspec.Struct, gc=False):
    tenant: str = ""
    device: str = ""
    entity: str = ""
    last_seen: float = 0.0
    offline: bool = False
    battery: float | None = None
    battery_low: bool = False
    repeats: dict[str, Repeat] = {}
    """Per numeric metric: the value it keeps reading, since when, how often."""
    last_change: float = 0.0
    """When any numeric metric of the device last changed value."""
    heartbeat: float | None = None
    """Longest silence allowed, from the device's configuration (None: not watched)."""
    configured: bool = False
    removed: bool = False


def _clock(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%d %b %H:%M")


def _duration(seconds: float) -> str:
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class DeviceHealth(KeyedOperator[DeviceHealthState]):
    """Battery low, offline (silent for longer than its heartbeat), stuck numeric sensors.

    A device's heartbeat comes from its ``DeviceConfigured`` events; a device seen
    before any configuration uses ``default_heartbeat`` (None: not watched for
    silence, as a door contact may rightly stay quiet).

    A numeric metric that stays on one value is "stuck" only while another metric
    of the same device moves: a counter that does not move while its machine is
    idle (every metric still) is not faulty. A device with one metric has no such
    witness and is judged on the repeat alone.

    >>> from vigil.events import DeviceStatus
    >>> health = DeviceHealth(low_battery=15)
    >>> state = health.initial_state("d")
    >>> event = DeviceStatus(tenant="t", device="d", entity="e", seq=1, time=0.0, battery=9)
    >>> state, outputs = health.process(state, event)
    >>> outputs[0].change, outputs[0].message
    ('open', 'Battery of d is at 9% (warning below 15%).')
    """

    name = "device_health"
    State = DeviceHealthState
    late_policy = LatePolicy.DROP

    def __init__(
        self,
        *,
        low_battery: float = 15.0,
        battery_recovered: float = 30.0,
        default_heartbeat: float | None = None,
        stuck_after_seconds: float = 6 * 3600.0,
        stuck_min_readings: int = 12,
        allowed_lateness: float = 60.0,
    ) -> None:
        self.low_battery = low_battery
        self.battery_recovered = battery_recovered
        self.default_heartbeat = default_heartbeat
        self.stuck_after_seconds = stuck_after_seconds
        self.stuck_min_readings = stuck_min_readings
        self.allowed_lateness = allowed_lateness

    def key(self, event: LogEvent) -> str | None:
        kind = type(event)
        if kind in _DEVICE_TYPES or kind is DeviceConfigured:
            return event.device  # type: ignore[union-attr]
        return None

    def process(
        self, state: DeviceHealthState, event: LogEvent
    ) -> tuple[DeviceHealthState, list[Emission]]:
        if type(event) is DeviceConfigured:
            return self._configure(state, event)
        assert type(event) in _DEVICE_TYPES
        time = event.timestamp
        if not state.tenant:
            state.tenant, state.device = event.tenant, event.device  # type: ignore[union-attr]
            state.heartbeat = self.default_heartbeat
        state.entity = event.entity  # type: ignore[union-attr]
        outputs: list[Emission] = []
        status = event if type(event) is DeviceStatus else None
        went_offline = status is not None and status.online is False
        if state.offline and not went_offline:
            state.offline = False
            silent = time - state.last_seen
            message = f"{state.device} is reporting again after {_duration(silent)} of silence."
            outputs.append(
                self._signal(state, time, "device_offline", "close", message, silent_seconds=silent)
            )
        if time > state.last_seen:
            state.last_seen = time
        if went_offline and not state.offline:
            state.offline = True
            message = f"{state.device} reported that it is going offline."
            outputs.append(self._signal(state, time, "device_offline", "open", message))
        if status is not None and status.battery is not None:
            self._check_battery(state, status.battery, time, outputs)
        elif type(event) is Reading and type(event.value) is float:
            self._track_repeats(state, event.metric, event.value, time, outputs)
        return state, outputs

    def _configure(
        self, state: DeviceHealthState, event: DeviceConfigured
    ) -> tuple[DeviceHealthState, list[Emission]]:
        if not state.tenant:
            state.tenant, state.device = event.tenant, event.device
            state.last_seen = event.time  # silence is counted from registration
        state.entity = event.entity
        state.heartbeat = event.heartbeat
        state.configured = True
        outputs: list[Emission] = []
        if event.removed and not state.removed:
            state.removed = True
            for kind, active in (
                ("device_offline", state.offline),
                ("battery_low", state.battery_low),
                ("sensor_stuck", any(r.stuck for r in state.repeats.values())),
            ):
                if active:
                    message = f"{state.device} was taken out of service."
                    outputs.append(self._signal(state, event.time, kind, "close", message))
            state.offline = state.battery_low = False
            state.repeats = {}
        elif not event.removed:
            state.removed = False
        return state, outputs

    def _signal(
        self,
        state: DeviceHealthState,
        time: float,
        kind: str,
        change: ConditionChange,
        message: str,
        *,
        metric: str | None = None,
        severity: str = "warning",
        **evidence: Any,
    ) -> ConditionSignal:
        key = f"{kind}:{state.device}" + (f":{metric}" if metric else "")
        evidence = {"device": state.device, **({"metric": metric} if metric else {}), **evidence}
        return ConditionSignal(
            tenant=state.tenant,
            time=time,
            entity=state.entity,
            key=key,
            change=change,
            kind=kind,
            severity=severity,  # type: ignore[arg-type]
            message=message,
            evidence=evidence,
            route=DEVICE_ROUTE,
        )

    def _check_battery(
        self, state: DeviceHealthState, battery: float, time: float, outputs: list[Emission]
    ) -> None:
        state.battery = battery
        if not state.battery_low and battery < self.low_battery:
            state.battery_low = True
            message = (
                f"Battery of {state.device} is at {battery:.0f}% "
                f"(warning below {self.low_battery:.0f}%)."
            )
            outputs.append(
                self._signal(state, time, "battery_low", "open", message, battery=battery)
            )
        elif state.battery_low and battery >= self.battery_recovered:
            state.battery_low = False
            message = f"Battery of {state.device} is back to {battery:.0f}%."
            outputs.append(
                self._signal(state, time, "battery_low", "close", message, battery=battery)
            )

    def _track_repeats(
        self,
        state: DeviceHealthState,
        metric: str,
        value: float,
        time: float,
        outputs: list[Emission],
    ) -> None:
        repeat = state.repeats.get(metric)
        if repeat is None or repeat.value != value:
            if repeat is not None:
                state.last_change = max(state.last_change, time)
                if repeat.stuck:
                    message = f"{state.device} {metric} is changing again (now {value:g})."
                    outputs.append(
                        self._signal(
                            state,
                            time,
                            "sensor_stuck",
                            "close",
                            message,
                            metric=metric,
                            value=value,
                        )
                    )
            state.repeats[metric] = Repeat(value, time)
            return
        repeat.count += 1
        span = time - repeat.since
        if (
            repeat.stuck
            or span < self.stuck_after_seconds
            or repeat.count < self.stuck_min_readings
        ):
            return
        if len(state.repeats) > 1 and state.last_change <= repeat.since:
            return  # the whole device is still: idle, not faulty
        repeat.stuck = True
        message = (
            f"{state.device} {metric} has read exactly {value:g} for {_duration(span)} "
            f"({repeat.count} readings in a row) while its other readings changed; "
            "it may be faulty."
        )
        outputs.append(
            self._signal(
                state,
                time,
                "sensor_stuck",
                "open",
                message,
                metric=metric,
                value=value,
                seconds=span,
                readings=repeat.count,
            )
        )

    def next_wakeup(self, state: DeviceHealthState) -> float | None:
        if state.offline or state.removed or state.heartbeat is None:
            return None
        return state.last_seen + state.heartbeat

    def on_time(
        self, state: DeviceHealthState, now: float
    ) -> tuple[DeviceHealthState, list[Emission]]:
        if state.offline or state.removed or state.heartbeat is None:
            return state, []
        state.offline = True
        silent = now - state.last_seen
        message = (
            f"No message from {state.device} since {_clock(state.last_seen)} "
            f"({_duration(silent)}); it should report at least every "
            f"{_duration(state.heartbeat)}."
        )
        signal = self._signal(
            state,
            now,
            "device_offline",
            "open",
            message,
            last_seen=state.last_seen,
            silent_seconds=silent,
        )
        return state, [signal]
