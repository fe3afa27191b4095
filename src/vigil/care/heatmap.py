"""The activity heatmap: per room, care day and local hour, how often someone was active.

Pure: it reads the hourly history buckets the ``Downsampler`` keeps for every sensor
(count, min, max, sum) -- nothing from an operator's memory -- and the channel each
sensor feeds (``vigil.care.sensors``). Hours are the home's local clock hours and
days are care days (04:00 to 04:00), so the night sits after the evening before it.

>>> from vigil.care.localtime import zone
>>> from vigil.care.sensors import Channel
>>> from vigil.engine.projection_rows import HistoryBucket
>>> tz = zone("UTC")
>>> kitchen = Channel("kitchen", "kitchen", "motion")
>>> rows = [HistoryBucket(tenant="t", entity="h", device="h.m", metric="motion",
...     resolution=3600, start=86400.0 + 8 * 3600, count=3, min=1.0, max=1.0, sum=3.0)]
>>> grid = build({("h.m", "motion"): kitchen}, rows, tz, date(1970, 1, 2), days=1)
>>> grid.rooms, grid.cell("kitchen", date(1970, 1, 2), 8), grid.total("kitchen")
(['kitchen'], 3, 3)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo

from vigil.care.localtime import DAY_STARTS_AT, care_day, local
from vigil.care.sensors import Channel
from vigil.engine.projection_rows import HistoryBucket

HOURS: tuple[int, ...] = tuple((DAY_STARTS_AT + i) % 24 for i in range(24))
"""The columns in care-day order: 04:00 first, 03:00 last."""
ROOM_ORDER: tuple[str, ...] = ("bedroom", "bathroom", "kitchen", "lounge", "hall", "other")
"""Rooms in the order people walk a home in the morning; others follow by name."""

Slot = tuple[str, str]
"""(device, metric): one sensor series."""


def activity(bucket: HistoryBucket, channel: Channel) -> int:
    """Times a bucket shows a person doing something.

    Motion: detections (the ones of a 0/1 sensor, else every reading); doors,
    cupboards, the bed and seats: every change; an appliance: the times it was
    switched on (half the readings of a plug that went above 5 W); temperature: none.

    >>> from vigil.engine.projection_rows import HistoryBucket as B
    >>> b = lambda n, lo, hi, s: B(tenant="t", entity="h", device="d", metric="power",
    ...     resolution=3600, start=0.0, count=n, min=lo, max=hi, sum=s)
    >>> activity(b(4, 0.0, 2000.0, 4000.0), Channel("kettle", "kitchen", "appliance"))
    2
    >>> activity(b(5, 0.0, 1.0, 2.0), Channel("hall", "hall", "motion"))
    2
    >>> activity(b(3, 18.0, 19.0, 55.0), Channel("temperature_hall", "hall", "temperature"))
    0
    """
    sort = channel.sort
    if sort == "temperature":
        return 0
    if sort == "motion":
        return round(bucket.sum) if bucket.min >= 0.0 and bucket.max <= 1.0 else bucket.count
    if sort == "appliance":
        if bucket.metric == "power":
            return (bucket.count + 1) // 2 if bucket.max > 5.0 else 0
        return round(bucket.sum) if bucket.max <= 1.0 else bucket.count
    return bucket.count


def room_key(room: str) -> tuple[int, str]:
    return (ROOM_ORDER.index(room) if room in ROOM_ORDER else len(ROOM_ORDER), room)


@dataclass(frozen=True)
class Heatmap:
    """Counts per (room, care day, local hour 0-23); days oldest first."""

    rooms: list[str]
    days: list[date]
    counts: dict[tuple[str, date, int], int] = field(default_factory=dict)

    def cell(self, room: str, day: date, hour: int) -> int:
        return self.counts.get((room, day, hour), 0)

    def total(self, room: str) -> int:
        return sum(n for (r, _, _), n in self.counts.items() if r == room)

    def peak(self, room: str) -> int:
        return max((n for (r, _, _), n in self.counts.items() if r == room), default=0)

    def busiest_hour(self, room: str, day: date) -> int | None:
        """The local hour of the day with most activity in the room (None if quiet)."""
        best = max(HOURS, key=lambda hour: self.cell(room, day, hour))
        return best if self.cell(room, day, best) else None


def build(
    channels: Mapping[Slot, Channel],
    buckets: Iterable[HistoryBucket],
    tz: tzinfo,
    last_day: date,
    *,
    days: int,
) -> Heatmap:
    """The heatmap of the ``days`` care days up to ``last_day``.

    Only hourly buckets of sensors with an activity channel count; a room appears
    when one of its sensors can show activity, even on a quiet day. An hour that
    occurs twice (the autumn clock change) holds both.
    """
    first = last_day - timedelta(days=days - 1)
    counts: dict[tuple[str, date, int], int] = {}
    for bucket in buckets:
        channel = channels.get((bucket.device, bucket.metric))
        if channel is None or bucket.resolution != 3600:
            continue
        n = activity(bucket, channel)
        if not n:
            continue
        day = care_day(bucket.start, tz)
        if not first <= day <= last_day:
            continue
        key = (channel.room, day, local(bucket.start, tz).hour)
        counts[key] = counts.get(key, 0) + n
    rooms = {c.room for c in channels.values() if c.sort != "temperature"}
    return Heatmap(
        rooms=sorted(rooms, key=room_key),
        days=[first + timedelta(days=i) for i in range(days)],
        counts=counts,
    )
