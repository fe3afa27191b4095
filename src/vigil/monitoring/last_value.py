"""Per entity: the newest value of every sensor and how often it reports.

Each reading updates the ``latest_values`` projection that pages read; the
runtime publishes that row live for pages that are watching.
"""

from __future__ import annotations

import math

import msgspec

from vigil.engine.operator import Emission, KeyedOperator, LatePolicy
from vigil.engine.projection_rows import LatestValue
from vigil.events import LogEvent, Reading

_MINUS_LN2 = -math.log(2)


class SensorValue(msgspec.Struct, array_like=True, gc=False):
    value: float | str | bool
    time: float
    count: int = 1
    rate_per_hour: float = 0.0
    """Exponentially weighted readings per hour; a sensor going quiet shows here first."""
    unit: str | None = None


class LastValueState(msgspec.Struct, gc=False):
    sensors: dict[str, SensorValue] = {}
    """Keyed by ``device/metric``."""


class LastValueTracker(KeyedOperator[LastValueState]):
    """The latest value and reporting rate of every sensor of an entity.

    Emits a ``LatestValue`` row per reading (the runtime also publishes it live). A
    late reading is counted but does not replace a newer value, and emits nothing.

    >>> from vigil.events import Reading
    >>> tracker = LastValueTracker(half_life_hours=1.0)
    >>> state = tracker.initial_state("home-1")
    >>> for seq, t in enumerate([0.0, 1800.0, 3600.0], start=1):
    ...     event = Reading(tenant="t", device="d", entity="home-1", seq=seq, time=t,
    ...                     metric="motion", value=float(seq))
    ...     state, outputs = tracker.process(state, event)
    >>> sensor = state.sensors["d/motion"]
    >>> sensor.count, round(sensor.rate_per_hour, 2)
    (3, 1.0)
    >>> outputs[0].value, outputs[0].time
    (3.0, 3600.0)
    """

    name = "last_value"
    State = LastValueState
    late_policy = LatePolicy.PROCESS

    def __init__(self, half_life_hours: float = 6.0) -> None:
        if half_life_hours <= 0:
            raise ValueError("the half-life must be positive")
        self.half_life_hours = half_life_hours

    def key(self, event: LogEvent) -> str | None:
        return event.entity if type(event) is Reading else None

    def process(
        self, state: LastValueState, event: LogEvent
    ) -> tuple[LastValueState, list[Emission]]:
        assert type(event) is Reading
        time = event.timestamp
        value = event.value
        slot = f"{event.device}/{event.metric}"
        current = state.sensors.get(slot)
        if current is None:
            current = state.sensors[slot] = SensorValue(value, time, unit=event.unit)
        elif time < current.time:
            current.count += 1
            return state, []  # late: counted, but the newer value stays
        else:
            current.rate_per_hour = self._rate(current.rate_per_hour, time - current.time)
            current.value, current.time = value, time
            current.count += 1
            if event.unit is not None:
                current.unit = event.unit
        text = value if type(value) is str else None
        latest = LatestValue(
            tenant=event.tenant,
            entity=event.entity,
            device=event.device,
            metric=event.metric,
            value=None if text is not None else float(value),
            text=text,
            time=time,
            unit=current.unit,
        )
        return state, [latest]

    def _rate(self, previous_rate: float, gap_seconds: float) -> float:
        gap_hours = max(gap_seconds, 1e-3) / 3600.0
        weight = math.exp(_MINUS_LN2 * gap_hours / self.half_life_hours)
        # An event after a gap of g hours is evidence of a rate of 1/g.
        return weight * previous_rate + (1 - weight) / gap_hours
