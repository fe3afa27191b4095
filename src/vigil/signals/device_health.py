"""Per device: is it alive, is its battery fine, is it stuck on one value?

Care teams lose trust in a service whose sensors die quietly, so every such
condition becomes a finding with a plain explanation, and so does recovery.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

import msgspec

from vigil.engine.operator import KeyedOperator, LatePolicy, Output
from vigil.events import DeviceStatus, Event, Reading


class DeviceHealthState(msgspec.Struct):
    tenant: str = ""
    device: str = ""
    entity: str = ""
    last_seen: float = 0.0
    offline: bool = False
    battery: float | None = None
    battery_low: bool = False
    stuck: dict[str, bool] = {}
    repeat_value: dict[str, float] = {}
    repeat_since: dict[str, float] = {}
    repeat_count: dict[str, int] = {}


def _finding(
    outputs: list[Output], event: Event, time: float, kind: str, message: str, **data: Any
) -> None:
    outputs.append(
        Output(
            kind=kind,
            tenant=event.tenant,
            entity=event.entity,
            time=time,
            data={"device": event.device, **data},
            message=message,
            durable=True,
        )
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
        outputs: list[Output] = []
        finding = partial(_finding, outputs, event, time)
        went_offline = isinstance(event, DeviceStatus) and event.online is False
        if state.offline and not went_offline:
            state.offline = False
            finding(
                "device_back_online",
                f"{event.device} is reporting again after {_duration(time - state.last_seen)} "
                f"of silence.",
                silent_seconds=time - state.last_seen,
            )
        state.last_seen = max(state.last_seen, time)
        if went_offline and not state.offline:
            state.offline = True
            finding("device_offline", f"{event.device} reported that it is going offline.")

        if isinstance(event, DeviceStatus) and event.battery is not None:
            state.battery = event.battery
            if not state.battery_low and event.battery < self.low_battery:
                state.battery_low = True
                finding(
                    "battery_low",
                    f"Battery of {event.device} is at {event.battery:.0f}% "
                    f"(warning below {self.low_battery:.0f}%).",
                    battery=event.battery,
                )
            elif state.battery_low and event.battery >= self.battery_recovered:
                state.battery_low = False
                finding(
                    "battery_ok",
                    f"Battery of {event.device} is back to {event.battery:.0f}%.",
                    battery=event.battery,
                )

        if isinstance(event, Reading) and isinstance(event.value, float):
            self._track_repeats(state, event.device, event.metric, event.value, time, finding)
        return state, outputs

    def _track_repeats(
        self,
        state: DeviceHealthState,
        device: str,
        metric: str,
        value: float,
        time: float,
        finding: Callable[..., None],
    ) -> None:
        event_device = device
        if state.repeat_value.get(metric) != value:
            if state.stuck.get(metric):
                finding(
                    "sensor_unstuck",
                    f"{event_device} {metric} is changing again (now {value:g}).",
                    metric=metric,
                    value=value,
                )
            state.repeat_value[metric] = value
            state.repeat_since[metric] = time
            state.repeat_count[metric] = 1
            state.stuck[metric] = False
            return
        state.repeat_count[metric] += 1
        span = time - state.repeat_since[metric]
        if (
            not state.stuck.get(metric)
            and span >= self.stuck_after_seconds
            and state.repeat_count[metric] >= self.stuck_min_readings
        ):
            state.stuck[metric] = True
            finding(
                "sensor_stuck",
                f"{event_device} {metric} has read exactly {value:g} for {_duration(span)} "
                f"({state.repeat_count[metric]} readings in a row); it may be faulty.",
                metric=metric,
                value=value,
                seconds=span,
                readings=state.repeat_count[metric],
            )

    def next_wakeup(self, state: DeviceHealthState) -> float | None:
        if state.offline or not state.tenant:
            return None
        heartbeat = self.heartbeat(state.tenant, state.device)
        return None if heartbeat is None else state.last_seen + heartbeat

    def on_time(
        self, state: DeviceHealthState, now: float
    ) -> tuple[DeviceHealthState, list[Output]]:
        if state.offline:
            return state, []
        state.offline = True
        silent = now - state.last_seen
        heartbeat = self.heartbeat(state.tenant, state.device) or 0.0
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
