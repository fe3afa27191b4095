"""Per entity: the newest value of every sensor, how often it reports, and its recent trend.

This state is what pages show as "latest" and draw as sparklines, so the log
itself needs no per-entity index (which cost half the ingest rate).
"""

from __future__ import annotations

import math

import msgspec

from vigil.engine.operator import KeyedOperator, LatePolicy, Output
from vigil.events import Event, Reading

_MINUS_LN2 = -math.log(2)


class TrendBucket(msgspec.Struct, array_like=True, gc=False):
    """The numeric values of one bucket of time; stored as ``[start, total, count]``."""

    start: float
    total: float
    count: float = 1.0


class SensorValue(msgspec.Struct, gc=False):
    value: float | str | bool
    time: float
    count: int = 1
    rate_per_hour: float = 0.0
    """Exponentially weighted readings per hour; a sensor going quiet shows here first."""
    unit: str | None = None
    trend: list[TrendBucket] = []
    """Oldest first, at most ``trend_buckets``."""


class LastValueState(msgspec.Struct, gc=False):
    sensors: dict[str, SensorValue] = {}
    """Keyed by ``device/metric``."""


class LastValueTracker(KeyedOperator[LastValueState]):
    """The latest value, reporting rate and recent trend of every sensor of an entity.

    Emits a live ``reading`` update per reading, which is what pages show. A late
    reading is counted but does not replace a newer value.

    >>> from vigil.events import Reading
    >>> tracker = LastValueTracker(half_life_hours=1.0, trend_bucket_seconds=3600)
    >>> state = tracker.initial_state("home-1")
    >>> for seq, t in enumerate([0.0, 1800.0, 3600.0], start=1):
    ...     event = Reading(tenant="t", device="d", entity="home-1", seq=seq, time=t,
    ...                     metric="motion", value=float(seq))
    ...     state, outputs = tracker.process(state, event)
    >>> sensor = state.sensors["d/motion"]
    >>> sensor.count, round(sensor.rate_per_hour, 2)
    (3, 1.0)
    >>> tracker.trend(state.sensors["d/motion"])
    [(1800.0, 1.5), (5400.0, 3.0)]
    """

    name = "last_value"
    State = LastValueState
    late_policy = LatePolicy.PROCESS

    def __init__(
        self,
        half_life_hours: float = 6.0,
        trend_bucket_seconds: float = 600.0,
        trend_buckets: int = 36,
    ) -> None:
        if half_life_hours <= 0 or trend_bucket_seconds <= 0 or trend_buckets < 1:
            raise ValueError("half-life, bucket width and bucket count must be positive")
        self.half_life_hours = half_life_hours
        self.trend_bucket_seconds = trend_bucket_seconds
        self.trend_buckets = trend_buckets

    def key(self, event: Event) -> str | None:
        return event.entity if isinstance(event, Reading) else None

    def process(self, state: LastValueState, event: Event) -> tuple[LastValueState, list[Output]]:
        assert isinstance(event, Reading)
        time = event.timestamp
        value = event.value
        slot = f"{event.device}/{event.metric}"
        current = state.sensors.get(slot)
        late = False
        if current is None:
            current = state.sensors[slot] = SensorValue(value, time, unit=event.unit)
        elif time < current.time:
            current.count += 1
            late = True
        else:
            current.rate_per_hour = self._rate(current.rate_per_hour, time - current.time)
            current.value, current.time = value, time
            current.count += 1
            if event.unit is not None:
                current.unit = event.unit
        if not late and not isinstance(value, str):
            self._add_to_trend(current, time, float(value))
        output = Output(
            kind="reading",
            tenant=event.tenant,
            entity=event.entity,
            time=time,
            data={
                "device": event.device,
                "metric": event.metric,
                "value": value,
                "unit": current.unit,
                "late": late,
            },
        )
        return state, [output]

    def _add_to_trend(self, sensor: SensorValue, time: float, value: float) -> None:
        start = time - time % self.trend_bucket_seconds
        trend = sensor.trend
        if trend:
            last = trend[-1]
            if last.start == start:
                last.total += value
                last.count += 1
                return
        trend.append(TrendBucket(start, value))
        if len(trend) > self.trend_buckets:
            del trend[0]

    def trend(self, sensor: SensorValue) -> list[tuple[float, float]]:
        """(bucket middle, mean) pairs, oldest first."""
        half = self.trend_bucket_seconds / 2
        return [(b.start + half, b.total / b.count) for b in sensor.trend]

    def _rate(self, previous_rate: float, gap_seconds: float) -> float:
        gap_hours = max(gap_seconds, 1e-3) / 3600.0
        weight = math.exp(_MINUS_LN2 * gap_hours / self.half_life_hours)
        # An event after a gap of g hours is evidence of a rate of 1/g.
        return weight * previous_rate + (1 - weight) / gap_hours
