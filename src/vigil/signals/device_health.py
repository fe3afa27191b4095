"""Per device: is it alive, is its battery fine, is it stuck on one value?

Care teams lose trust in a service whose sensors die quietly, so every such
condition becomes a finding with a plain explanation, and so does recovery.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec

from vigil.engine.operator import KeyedOperator, LatePolicy, Output
from vigil.events import DeviceStatus, Event, Reading

RECOVERY_OF: dict[str, str] = {
    "device_back_online": "device_offline",
    "battery_ok": "battery_low",
    "sensor_unstuck": "sensor_stuck",
}
"""Finding kinds that close an earlier condition of the same device (and metric)."""


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
    heartbeat: float | None = None
    """The device's heartbeat as configured when its state was created."""


class Repeat(msgspec.Struct, array_like=True, gc=False):
    value: float
    since: float
    count: int = 1
    stuck: bool = False


def _finding(event: Event, time: float, kind: str, message: str, **data: Any) -> Output:
    return Output(
        kind=kind,
        tenant=event.tenant,
        entity=event.entity,
        time=time,
        data={"device": event.device, **data},
        message=message,
        durable=True,
    )


def _clock(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%d %b %H:%M")


def _duration(seconds: float) -> str:
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class DeviceHealth(KeyedOperator[DeviceHealthState]):
    """Battery low, offline (silent for longer than its heartbeat), stuck numeric sensors.

    ``heartbeats`` maps ``(tenant, device)`` to the longest silence, in seconds,
    that the device may keep; others use ``default_heartbeat``, and when that is
    None they are not watched for silence (a door contact may rightly stay quiet).
    A device's heartbeat is looked up when its state is created and kept there.

    >>> from vigil.events import DeviceStatus
    >>> health = DeviceHealth(low_battery=15)
    >>> state = health.initial_state("d")
    >>> event = DeviceStatus(tenant="t", device="d", entity="e", seq=1, time=0.0, battery=9)
    >>> state, outputs = health.process(state, event)
    >>> outputs[0].kind, outputs[0].message
    ('battery_low', 'Battery of d is at 9% (warning below 15%).')
    """

    name = "device_health"
    State = DeviceHealthState
    late_policy = LatePolicy.DROP

    def __init__(
        self,
        *,
        low_battery: float = 15.0,
        battery_recovered: float = 30.0,
        default_heartbeat: float | None = 3600.0,
        heartbeats: Mapping[tuple[str, str], float] | None = None,
        stuck_after_seconds: float = 6 * 3600.0,
        stuck_min_readings: int = 12,
        allowed_lateness: float = 60.0,
    ) -> None:
        self.low_battery = low_battery
        self.battery_recovered = battery_recovered
        self.default_heartbeat = default_heartbeat
        self.heartbeats = dict(heartbeats or {})
        self.stuck_after_seconds = stuck_after_seconds
        self.stuck_min_readings = stuck_min_readings
        self.allowed_lateness = allowed_lateness

    def key(self, event: Event) -> str | None:
        return event.device

    def heartbeat(self, tenant: str, device: str) -> float | None:
        return self.heartbeats.get((tenant, device), self.default_heartbeat)

    def process(
        self, state: DeviceHealthState, event: Event
    ) -> tuple[DeviceHealthState, list[Output]]:
        time = event.timestamp
        if not state.tenant:
            state.tenant, state.device, state.entity = event.tenant, event.device, event.entity
            state.heartbeat = self.heartbeat(event.tenant, event.device)
        outputs: list[Output] = []
        status = event if isinstance(event, DeviceStatus) else None
        went_offline = status is not None and status.online is False
        if state.offline and not went_offline:
            state.offline = False
            silent = time - state.last_seen
            outputs.append(
                _finding(
                    event,
                    time,
                    "device_back_online",
                    f"{event.device} is reporting again after {_duration(silent)} of silence.",
                    silent_seconds=silent,
                )
            )
        if time > state.last_seen:
            state.last_seen = time
        if went_offline and not state.offline:
            state.offline = True
            message = f"{event.device} reported that it is going offline."
            outputs.append(_finding(event, time, "device_offline", message))
        if status is not None and status.battery is not None:
            self._check_battery(state, status, time, outputs)
        elif isinstance(event, Reading) and type(event.value) is float:
            self._track_repeats(state, event, event.value, time, outputs)
        return state, outputs

    def _check_battery(
        self, state: DeviceHealthState, event: DeviceStatus, time: float, outputs: list[Output]
    ) -> None:
        battery = event.battery
        assert battery is not None
        state.battery = battery
        if not state.battery_low and battery < self.low_battery:
            state.battery_low = True
            message = (
                f"Battery of {event.device} is at {battery:.0f}% "
                f"(warning below {self.low_battery:.0f}%)."
            )
            outputs.append(_finding(event, time, "battery_low", message, battery=battery))
        elif state.battery_low and battery >= self.battery_recovered:
            state.battery_low = False
            message = f"Battery of {event.device} is back to {battery:.0f}%."
            outputs.append(_finding(event, time, "battery_ok", message, battery=battery))

    def _track_repeats(
        self,
        state: DeviceHealthState,
        event: Reading,
        value: float,
        time: float,
        outputs: list[Output],
    ) -> None:
        metric = event.metric
        repeat = state.repeats.get(metric)
        if repeat is None or repeat.value != value:
            if repeat is not None and repeat.stuck:
                message = f"{event.device} {metric} is changing again (now {value:g})."
                outputs.append(
                    _finding(event, time, "sensor_unstuck", message, metric=metric, value=value)
                )
            state.repeats[metric] = Repeat(value, time)
            return
        repeat.count += 1
        span = time - repeat.since
        if (
            not repeat.stuck
            and span >= self.stuck_after_seconds
            and repeat.count >= self.stuck_min_readings
        ):
            repeat.stuck = True
            message = (
                f"{event.device} {metric} has read exactly {value:g} for {_duration(span)} "
                f"({repeat.count} readings in a row); it may be faulty."
            )
            outputs.append(
                _finding(
                    event,
                    time,
                    "sensor_stuck",
                    message,
                    metric=metric,
                    value=value,
                    seconds=span,
                    readings=repeat.count,
                )
            )

    def next_wakeup(self, state: DeviceHealthState) -> float | None:
        if state.offline or state.heartbeat is None:
            return None
        return state.last_seen + state.heartbeat

    def on_time(
        self, state: DeviceHealthState, now: float
    ) -> tuple[DeviceHealthState, list[Output]]:
        if state.offline:
            return state, []
        state.offline = True
        silent = now - state.last_seen
        heartbeat = state.heartbeat or 0.0
        return state, [
            Output(
                kind="device_offline",
                tenant=state.tenant,
                entity=state.entity,
                time=now,
                data={
                    "device": state.device,
                    "last_seen": state.last_seen,
                    "silent_seconds": silent,
                },
                message=(
                    f"No message from {state.device} since {_clock(state.last_seen)} "
                    f"({_duration(silent)}); it should report at least every "
                    f"{_duration(heartbeat)}."
                ),
                durable=True,
            )
        ]
