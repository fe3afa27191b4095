"""One care day of a home as lanes of time spans: rooms, doors, appliances, bed, out.

Pure: it reads the history buckets of the day (1-minute ones while they are kept,
else 15-minute ones) and, once the day has closed, the quarter-hours the care
operator counted as out of the home (its ``care_day`` record). A room is in use
in a bucket with motion; a door or cupboard in a bucket with a change; the bed
and appliances hold their state between readings (carried forward from the
readings before the day began), so a night in bed is one span, not two ticks.

Buckets keep count, min, max and sum, not the order of readings: a bucket with
both states is drawn in use, and the state after it is the one before, flipped
when it held an odd number of readings (each reading of a bed or plug is a change).

>>> from vigil.care.sensors import Channel
>>> from vigil.engine.projection_rows import HistoryBucket
>>> b = lambda t, v: HistoryBucket(tenant="t", entity="h", device="h.bed",
...     metric="occupied", resolution=60, start=t, count=1, min=v, max=v, sum=v)
>>> bed = {("h.bed", "occupied"): Channel("bed", "bedroom", "bed")}
>>> [lane.spans for lane in lanes(bed, [b(-600.0, 1.0), b(3000.0, 0.0)], 0.0, 7200.0)]
[[(0.0, 3000.0)]]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, tzinfo

from vigil.care.heatmap import Slot, activity, room_key
from vigil.care.localtime import DAY_STARTS_AT, at_hour
from vigil.care.sensors import Channel
from vigil.engine.projection_rows import HistoryBucket

Span = tuple[float, float]

OUT_AFTER_SECONDS = 15 * 60.0
"""Silence after the front door that the estimate for a day not yet closed calls out."""
SORT_ORDER = ("room", "bed", "door", "appliance", "out")


@dataclass(frozen=True)
class Lane:
    """One row of the timeline: when a room, door, appliance or bed was in use."""

    key: str
    label: str
    sort: str
    """room, bed, door, appliance or out."""
    spans: list[Span] = field(default_factory=list)
    events: int = 0
    note: str = ""

    @property
    def seconds(self) -> float:
        return sum(b - a for a, b in self.spans)


def merge(spans: Iterable[Span], gap: float = 0.0) -> list[Span]:
    """Spans sorted, those that touch (or are ``gap`` apart) joined.

    >>> merge([(5.0, 6.0), (0.0, 2.0), (2.0, 3.0)])
    [(0.0, 3.0), (5.0, 6.0)]
    """
    out: list[Span] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1] + gap:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def clip(spans: Iterable[Span], start: float, end: float) -> list[Span]:
    return [(max(a, start), min(b, end)) for a, b in spans if b > start and a < end]


def lane_of(channel: Channel) -> tuple[str, str, str]:
    """(key, label, sort) of the lane a channel is drawn in: motion by room."""
    if channel.sort == "motion":
        return f"room:{channel.room}", channel.room.capitalize(), "room"
    if channel.sort == "bed":
        return "bed", "Bed", "bed"
    label = channel.name.replace("_", " ").capitalize()
    if channel.sort == "appliance":
        return channel.name, label, "appliance"
    return channel.name, label, "door"


def held(buckets: Sequence[HistoryBucket], on: Callable[[float], bool], until: float) -> list[Span]:
    """Spans a two-state sensor (bed, plug) was on, from its buckets in time order."""
    spans: list[Span] = []
    state, since = False, 0.0
    for bucket in buckets:
        end = bucket.start + bucket.resolution
        low, high = on(bucket.min), on(bucket.max)
        if low and high:
            if not state:
                state, since = True, bucket.start
        elif not low and not high:
            if state:
                spans.append((since, bucket.start))
                state = False
        else:  # both states in one bucket: in use through it
            if not state:
                since = bucket.start
            after = (not state) if bucket.count % 2 else state
            if not after:
                spans.append((since, end))
            state = after
    if state and since < until:
        spans.append((since, until))
    return spans


def _on(channel: Channel, metric: str) -> Callable[[float], bool]:
    limit = 5.0 if metric == "power" else 0.5
    return lambda value: value > limit


def lanes(
    channels: Mapping[Slot, Channel],
    buckets: Iterable[HistoryBucket],
    start: float,
    end: float,
    *,
    until: float | None = None,
) -> list[Lane]:
    """The device lanes of ``[start, end)``; ``buckets`` may begin before ``start``
    (the readings that say whether the bed was occupied as the day began).
    ``until`` is now, for a day not over: a state still on is drawn up to it."""
    until = end if until is None else min(until, end)
    by_slot: dict[Slot, list[HistoryBucket]] = {}
    for bucket in sorted(buckets, key=lambda b: b.start):
        if (bucket.device, bucket.metric) in channels:
            by_slot.setdefault((bucket.device, bucket.metric), []).append(bucket)
    spans: dict[str, list[Span]] = {}
    events: dict[str, int] = {}
    info: dict[str, tuple[str, str]] = {}
    for slot, channel in channels.items():
        if channel.sort == "temperature":
            continue
        key, label, sort = lane_of(channel)
        info[key] = (label, sort)
        spans.setdefault(key, [])
        series = by_slot.get(slot, [])
        inside = [b for b in series if start <= b.start < end]
        events[key] = events.get(key, 0) + sum(activity(b, channel) for b in inside)
        if sort in ("bed", "appliance"):
            spans[key] += held(series, _on(channel, slot[1]), until)
        else:
            spans[key] += [
                (b.start, b.start + b.resolution) for b in inside if activity(b, channel)
            ]
    result = [
        Lane(key, info[key][0], info[key][1], clip(merge(spans[key]), start, end), events[key])
        for key in spans
    ]
    return sorted(result, key=lambda lane: (SORT_ORDER.index(lane.sort), _room_or(lane)))


def _room_or(lane: Lane) -> tuple[int, str]:
    if lane.sort == "room":
        return room_key(lane.key.removeprefix("room:"))
    return (0, lane.label)


def out_from_bins(bins: Iterable[int], day: date, tz: tzinfo) -> list[Span]:
    """The quarter-hours (of the local clock) the care operator counted as out,
    as spans of the care day ``day``.

    >>> from vigil.care.localtime import zone
    >>> spans = out_from_bins([40, 41, 42], date(2025, 1, 6), zone("UTC"))
    >>> [(b - a) / 60 for a, b in spans]
    [45.0]
    """
    spans = []
    for b in bins:
        hour = b / 4 + (24 if b < DAY_STARTS_AT * 4 else 0)
        moment = at_hour(day, hour, tz)
        spans.append((moment, moment + 900.0))
    return merge(spans)


def estimate_out(device_lanes: Sequence[Lane], until: float) -> list[Span]:
    """For a day not yet closed: out from a front-door change until the next sign of
    anyone in the home, when that is more than 15 minutes later. Only in homes with
    motion sensors (without, a quiet home may be someone sitting still).

    >>> door = Lane("front_door", "Front door", "door", [(600.0, 660.0)])
    >>> hall = Lane("room:hall", "Hall", "room", [(540.0, 600.0), (4200.0, 4260.0)])
    >>> estimate_out([door, hall], 7200.0)
    [(660.0, 4200.0)]
    """
    if not any(lane.sort == "room" for lane in device_lanes):
        return []
    doors = [span for lane in device_lanes if lane.key == "front_door" for span in lane.spans]
    others = sorted(a for lane in device_lanes if lane.key != "front_door" for a, _ in lane.spans)
    out = []
    for _, left in doors:
        seen = next((a for a in others if a >= left), until)
        door_again = next((a for a, _ in doors if a >= left), until)
        back = min(seen, door_again, until)
        if back - left > OUT_AFTER_SECONDS:
            out.append((left, back))
    return merge(out)
