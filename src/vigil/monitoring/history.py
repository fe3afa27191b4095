"""Downsampled history of every numeric sensor: what charts over days and weeks read.

Per series and resolution (1 min, 15 min, 1 h, 1 day by default) the operator
keeps the open bucket (count, min, max, sum) and writes it to the
``history_buckets`` projection once it closes -- when a reading falls in a later
bucket, or when the tenant's clock passes the bucket's end plus ``grace``
seconds. Only closed buckets are written, so the cost is one row per series per
bucket, however many readings it holds. A reading goes into the finest bucket
only; each coarser bucket is made of the finer ones folded into it as they
close. A reading for a finest bucket already written is counted as late and
left out.
"""

from __future__ import annotations

import msgspec

from vigil.engine.operator import Emission, KeyedOperator, LatePolicy
from vigil.engine.projection_rows import HistoryBucket
from vigil.events import LogEvent, Reading

RESOLUTIONS: tuple[int, ...] = (60, 900, 3600, 86400)


class Bucket(msgspec.Struct, array_like=True, gc=False):
    start: float
    count: int
    min: float
    max: float
    sum: float


class Series(msgspec.Struct, array_like=True, gc=False):
    device: str
    metric: str
    open: list[Bucket | None]
    """One per resolution, in the operator's order; None once closed and not reopened."""
    floor: list[float]
    """Per resolution: readings before this time belong to buckets already written."""


class HistoryState(msgspec.Struct, gc=False):
    tenant: str = ""
    entity: str = ""
    series: dict[str, Series] = {}
    wake: float | None = None
    late: int = 0


class Downsampler(KeyedOperator[HistoryState]):
    """Closed buckets of count/min/max/sum per sensor and resolution.

    >>> from vigil.events import Reading
    >>> op = Downsampler(resolutions=(60,), grace=0.0)
    >>> state = op.initial_state("e")
    >>> rows = []
    >>> for seq, (t, v) in enumerate([(0.0, 1.0), (30.0, 3.0), (61.0, 5.0)], start=1):
    ...     event = Reading(tenant="t", device="d", entity="e", seq=seq, time=t,
    ...                     metric="temp", value=v)
    ...     state, out = op.process(state, event)
    ...     rows += out
    >>> [(r.start, r.count, r.min, r.max, r.sum) for r in rows]
    [(0.0, 2, 1.0, 3.0, 4.0)]
    """

    name = "history"
    State = HistoryState
    late_policy = LatePolicy.PROCESS

    def __init__(self, resolutions: tuple[int, ...] = RESOLUTIONS, grace: float = 60.0) -> None:
        if not resolutions or any(r <= 0 for r in resolutions):
            raise ValueError("resolutions must be positive numbers of seconds")
        self.resolutions = tuple(sorted(resolutions))
        self.grace = grace

    def key(self, event: LogEvent) -> str | None:
        if type(event) is Reading and type(event.value) is float:
            return event.entity
        return None

    def process(self, state: HistoryState, event: LogEvent) -> tuple[HistoryState, list[Emission]]:
        # Only the finest bucket sees each reading; a coarser one is the sum of the
        # finer buckets folded into it as they close. That keeps the cost of a reading
        # one bucket update, not one per resolution.
        assert type(event) is Reading
        value = event.value
        assert type(value) is float
        time = event.timestamp
        if not state.tenant:
            state.tenant, state.entity = event.tenant, event.entity
        slot = f"{event.device}/{event.metric}"
        series = state.series.get(slot)
        if series is None:
            count = len(self.resolutions)
            series = state.series[slot] = Series(
                event.device, event.metric, [None] * count, [0.0] * count
            )
        resolution = self.resolutions[0]
        start = time - time % resolution
        bucket = series.open[0]
        if bucket is not None and start == bucket.start:  # the common case
            bucket.count += 1
            bucket.sum += value
            if value < bucket.min:
                bucket.min = value
            elif value > bucket.max:
                bucket.max = value
            return state, []
        if time < series.floor[0] or (bucket is not None and start < bucket.start):
            state.late += 1  # its finest bucket is already written
            return state, []
        closed: list[Emission] = []
        if bucket is not None:
            self._close(state, series, 0, closed)
        series.open[0] = Bucket(start, 1, value, value, value)
        self._wake_for(state, start + resolution)
        return state, closed

    def _close(self, state: HistoryState, series: Series, index: int, out: list[Emission]) -> None:
        """Write the open bucket at ``index`` and fold it into the next coarser one."""
        bucket = series.open[index]
        assert bucket is not None
        out.append(self._row(state, series, index, bucket))
        series.open[index] = None
        series.floor[index] = bucket.start + self.resolutions[index]
        coarser = index + 1
        if coarser == len(self.resolutions):
            return
        resolution = self.resolutions[coarser]
        start = bucket.start - bucket.start % resolution
        target = series.open[coarser]
        if target is not None and start > target.start:
            self._close(state, series, coarser, out)
            target = None
        if target is None:
            series.open[coarser] = Bucket(start, bucket.count, bucket.min, bucket.max, bucket.sum)
            self._wake_for(state, start + resolution)
        else:
            target.count += bucket.count
            target.sum += bucket.sum
            target.min = min(target.min, bucket.min)
            target.max = max(target.max, bucket.max)

    def _wake_for(self, state: HistoryState, end: float) -> None:
        wake = end + self.grace
        if state.wake is None or wake < state.wake:
            state.wake = wake

    def _row(
        self, state: HistoryState, series: Series, index: int, bucket: Bucket
    ) -> HistoryBucket:
        return HistoryBucket(
            tenant=state.tenant,
            entity=state.entity,
            device=series.device,
            metric=series.metric,
            resolution=self.resolutions[index],
            start=bucket.start,
            count=bucket.count,
            min=bucket.min,
            max=bucket.max,
            sum=bucket.sum,
        )

    def next_wakeup(self, state: HistoryState) -> float | None:
        return state.wake

    def on_time(self, state: HistoryState, now: float) -> tuple[HistoryState, list[Emission]]:
        closed: list[Emission] = []
        for series in state.series.values():
            for index, resolution in enumerate(self.resolutions):  # finest first: it folds
                bucket = series.open[index]
                if bucket is not None and bucket.start + resolution + self.grace <= now:
                    self._close(state, series, index, closed)
        state.wake = None
        for series in state.series.values():
            for index, resolution in enumerate(self.resolutions):
                bucket = series.open[index]
                if bucket is not None:
                    self._wake_for(state, bucket.start + resolution)
        return state, closed
