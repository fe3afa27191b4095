"""Labelled anomalies injected into copies of a recorded home's own days.

A benchmark of wellbeing alerts needs ground truth, and real homes rarely
provide it: the days a data set recorded are normal days. ``RecordedDays``
takes a home's devices and readings (Kasteren house A, Ordóñez A, or any home
replayed into Vigil) and makes a copy of one day in which something went wrong,
built only from what that home's own sensors do:

- ``not_up``: from the moment the resident got up that day nothing happens for six
  hours, and at least until 14:00 (they stayed in bed); the bed, if there is one,
  empties then;
- ``night_exit``: at night the resident leaves bed (the bed or bedroom sensor the
  home has), goes out of the front door, held open as long as this home's door
  usually is, and does not come back;
- ``night_bathroom``: on several nights in a row, extra bathroom visits, each a
  copy of one of this home's own bathroom visits moved to a quiet time of night;
- ``missed_meals``: no kitchen sensor fires from getting up to the day's end;
- ``bathroom_fall``: a daytime bathroom visit starts, and then nothing moves.

Each copy carries an ``Injection`` label: when it starts, the latest alert that
still counts as caught, and where the replay stops. The randomness (which
night-time minute, which visit is copied) comes from the ``random.Random`` given.

>>> import random
>>> from vigil.catalog import Device
>>> from vigil.events import Reading
>>> devices = [Device(tenant="t", id="h.fridge", entity="h", kind="contact",
...                   location="kitchen", metrics=("open",))]
>>> day = 86400.0 * 20000 + 4 * 3600          # 04:00 UTC on 2024-10-04
>>> events = [Reading(tenant="t", device="h.fridge", entity="h", seq=i + 1,
...                   time=day + 3600 * (4 + i), metric="open", value=1.0) for i in range(12)]
>>> home = RecordedDays(devices, events, "UTC")
>>> copy, label = home.inject("missed_meals", home.days()[0], random.Random(1))
>>> label.kind, len(copy)
('missed_meals', 0)
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Final

import msgspec

from vigil.care.localtime import at_hour, care_day, day_end, day_start, zone
from vigil.care.sensors import LIVING_ROOMS, Channel, channel_for
from vigil.catalog import Device
from vigil.events import Reading

KINDS: Final = ("not_up", "night_exit", "night_bathroom", "missed_meals", "bathroom_fall")
"""What can be injected into a recorded home."""

_MIN = 60.0
_HOUR = 3600.0


class Injection(msgspec.Struct, frozen=True, kw_only=True):
    """The label of one injected anomaly: it started at ``start``; an alert by
    ``deadline`` caught it; the replay of the copy stops at ``end``."""

    kind: str
    day: str
    start: float
    deadline: float
    end: float


_Made = tuple[Callable[[Reading], bool], list[Reading], "Injection"]
"""What a builder returns: which real readings go, which are added, the label."""


class RecordedDays:
    """A recorded home's readings, with what each device is (``vigil.care.sensors``).

    ``extra_visits`` and ``nights`` shape ``night_bathroom``; ``stay_in_bed_until``
    (local hour) shapes ``not_up``.
    """

    def __init__(
        self,
        devices: Sequence[Device],
        events: Sequence[Reading],
        time_zone: str,
        *,
        extra_visits: int = 4,
        nights: int = 3,
        stay_in_bed_until: float = 14.0,
    ) -> None:
        self.devices = {d.id: d for d in devices}
        self.channels: dict[str, Channel | None] = {
            d.id: channel_for(d.kind, d.location, d.id, d.metrics[0] if d.metrics else "x")
            for d in devices
        }
        self.events = sorted(events, key=lambda e: e.timestamp)
        self.tz = zone(time_zone)
        self.extra_visits = extra_visits
        self.nights = nights
        self.stay_in_bed_until = stay_in_bed_until

    # --- what the home shows ------------------------------------------------------------

    def days(self) -> list[date]:
        """Every care day with a reading, in order."""
        return sorted({care_day(e.timestamp, self.tz) for e in self.events})

    def _room(self, event: Reading) -> str:
        channel = self.channels.get(event.device)
        return channel.room if channel is not None else ""

    def _sort(self, event: Reading) -> str:
        channel = self.channels.get(event.device)
        return channel.sort if channel is not None else ""

    def _device(self, room: str, *sorts: str) -> str | None:
        for device, channel in sorted(self.channels.items()):
            if channel is not None and channel.room == room and channel.sort in sorts:
                return device
        return None

    def _between(self, start: float, end: float) -> list[Reading]:
        return [e for e in self.events if start <= e.timestamp < end]

    def wake(self, day: date) -> float | None:
        """When the resident got up on ``day`` as the sensors show it: the first kitchen,
        lounge or front-door reading after 05:00 (None if none before noon, or if the
        front door was used in the eight hours before it: coming home, not getting up)."""
        for event in self._between(at_hour(day, 5.0, self.tz), at_hour(day, 12.0, self.tz)):
            if self._room(event) in LIVING_ROOMS or self._sort(event) == "door":
                doors = [
                    e
                    for e in self._between(event.timestamp - 8 * _HOUR, event.timestamp + 1)
                    if self._sort(e) == "door"
                ]
                return None if doors else event.timestamp
        return None

    def _bedtime(self, day: date) -> float | None:
        """The last kitchen, lounge or front-door reading of ``day``'s evening."""
        evening = [
            e
            for e in self._between(at_hour(day, 19.0, self.tz), day_end(day, self.tz))
            if self._room(e) in LIVING_ROOMS or self._sort(e) == "door"
        ]
        return evening[-1].timestamp if evening else None

    def _door_seconds(self, device: str) -> list[float]:
        """How long this door stays open: each opening to the next closing."""
        spans, opened = [], None
        for event in self.events:
            if event.device != device:
                continue
            if event.value and opened is None:
                opened = event.timestamp
            elif not event.value and opened is not None:
                spans.append(event.timestamp - opened)
                opened = None
        return [s for s in spans if 0 < s < 600] or [5.0]

    def visits(self) -> list[list[Reading]]:
        """This home's bathroom visits: runs of whole sensor firings (a 1 and the 0 that
        ends it) in the bathroom and bedroom, each within three minutes of the last,
        with a bathroom one among them and none longer than 20 minutes. The bed is left
        out: ``_night_bathroom`` empties and fills it around each copy."""
        firings: list[tuple[Reading, Reading]] = []
        on: dict[str, Reading] = {}
        for event in self.events:
            if self._room(event) not in ("bathroom", "bedroom") or self._sort(event) == "bed":
                continue
            if event.value:
                on.setdefault(event.device, event)
            elif event.device in on:
                firings.append((on.pop(event.device), event))
        firings.sort(key=lambda pair: pair[0].timestamp)
        visits: list[list[tuple[Reading, Reading]]] = []
        for pair in firings:
            if visits and pair[0].timestamp - max(p[1].timestamp for p in visits[-1]) <= 180:
                visits[-1].append(pair)
            else:
                visits.append([pair])
        out = []
        for visit in visits:
            readings = sorted((r for pair in visit for r in pair), key=lambda e: e.timestamp)
            bathroom = any(self._room(e) == "bathroom" for e in readings)
            if bathroom and readings[-1].timestamp - readings[0].timestamp <= 20 * _MIN:
                out.append(readings)
        return out

    # --- copies -------------------------------------------------------------------------

    def inject(
        self, kind: str, day: date, rng: random.Random
    ) -> tuple[list[Reading], Injection] | None:
        """The home's readings with ``kind`` injected on ``day`` (up to the label's end),
        or None when that day cannot carry it (no getting up seen, out that night...)."""
        made = getattr(self, f"_{kind}")(day, rng)
        if made is None:
            return None
        removed, added, label = made
        kept = [e for e in self.events if not removed(e)]
        copy = sorted([*kept, *added], key=lambda e: e.timestamp)
        return _renumbered([e for e in copy if e.timestamp < label.end]), label

    def _not_up(self, day: date, rng: random.Random) -> _Made | None:
        wake = self.wake(day)
        if wake is None:
            return None
        until = max(at_hour(day, self.stay_in_bed_until, self.tz), wake + 6 * _HOUR)
        bed = self._device("bedroom", "bed")
        added = [self._reading(bed, until, 0.0)] if bed else []
        label = Injection(
            kind="not_up", day=str(day), start=wake, deadline=until, end=until + _HOUR
        )
        return _span(wake, until), added, label

    def _night_exit(self, day: date, rng: random.Random) -> _Made | None:
        door = self._device("hall", "door")
        if door is None or self.wake(day + timedelta(days=1)) is None:
            return None
        at = at_hour(day, rng.uniform(25.0, 27.5), self.tz)  # 01:00 to 03:30
        before = [e for e in self._between(at - 12 * _HOUR, at)]
        if not before or self._sort(before[-1]) == "door":
            return None  # out that night, as recorded
        if any(self._sort(e) == "door" for e in self._between(at - 3 * _HOUR, at)):
            return None
        added: list[Reading] = []
        bed = self._device("bedroom", "bed")
        if bed:
            added.append(self._reading(bed, at - 4 * _MIN, 0.0))
        inner = self._device("bedroom", "contact", "motion")
        if inner:
            added += [self._reading(inner, at - 2 * _MIN, 1.0)]
            added += [self._reading(inner, at - 2 * _MIN + rng.uniform(2, 8), 0.0)]
        held = rng.choice(self._door_seconds(door))
        added += [self._reading(door, at, 1.0), self._reading(door, at + held, 0.0)]
        label = Injection(
            kind="night_exit", day=str(day), start=at, deadline=at + 2 * _HOUR, end=at + 3 * _HOUR
        )
        return _span(at - 5 * _MIN, at + 3 * _HOUR), added, label

    def _night_bathroom(self, day: date, rng: random.Random) -> _Made | None:
        visits = self.visits()
        if not visits:
            return None
        added: list[Reading] = []
        bed = self._device("bedroom", "bed")
        first = None
        for night in range(self.nights):
            evening = day + timedelta(days=night)
            bedtime, wake = self._bedtime(evening), self.wake(evening + timedelta(days=1))
            if bedtime is None or wake is None or wake - bedtime < 5 * _HOUR:
                return None
            start, end = bedtime + 45 * _MIN, wake - 45 * _MIN
            step = (end - start) / self.extra_visits
            for i in range(self.extra_visits):
                at = start + step * (i + rng.uniform(0.2, 0.8))
                template = rng.choice(visits)
                shift = at - template[0].timestamp
                added += [msgspec.structs.replace(e, time=e.timestamp + shift) for e in template]
                if bed:  # out of bed for the visit, and back
                    added.append(self._reading(bed, at - rng.uniform(40, 120), 0.0))
                    back = template[-1].timestamp + shift + rng.uniform(40, 120)
                    added.append(self._reading(bed, back, 1.0))
                first = at if first is None else first
        assert first is not None
        last_wake = self.wake(day + timedelta(days=self.nights))
        assert last_wake is not None
        label = Injection(
            kind="night_bathroom",
            day=str(day),
            start=first,
            deadline=last_wake + 2 * _HOUR,
            end=last_wake + 2 * _HOUR,
        )
        return _span(0.0, 0.0), added, label

    def _missed_meals(self, day: date, rng: random.Random) -> _Made | None:
        start, end = day_start(day, self.tz), day_end(day, self.tz)
        if not any(self._room(e) == "kitchen" for e in self._between(start, end)):
            return None
        first = next(
            (e.timestamp for e in self._between(start, end) if self._room(e) == "kitchen"), start
        )
        label = Injection(
            kind="missed_meals",
            day=str(day),
            start=first,
            deadline=at_hour(day, 21.0, self.tz),
            end=end,
        )

        def kitchen(event: Reading) -> bool:  # only the kitchen's readings go
            return start <= event.timestamp < end and self._room(event) == "kitchen"

        return kitchen, [], label

    def _bathroom_fall(self, day: date, rng: random.Random) -> _Made | None:
        begin, until = at_hour(day, 10.0, self.tz), at_hour(day, 19.0, self.tz)
        starts = [v[0] for v in self.visits() if begin <= v[0].timestamp < until]
        starts = [e for e in starts if self._room(e) == "bathroom"]
        if not starts:
            return None
        entry = rng.choice(starts)
        at = entry.timestamp
        label = Injection(
            kind="bathroom_fall",
            day=str(day),
            start=at,
            deadline=at + 90 * _MIN,
            end=at + 3 * _HOUR,
        )
        return _span(at + 1e-3, at + 3 * _HOUR), [], label

    def _reading(self, device: str, time: float, value: float) -> Reading:
        """A reading of ``device`` as it sends them (its metric), at ``time``."""
        known = self.devices[device]
        return Reading(
            tenant=known.tenant,
            device=device,
            entity=known.entity,
            seq=0,
            time=round(time, 3),
            metric=known.metrics[0] if known.metrics else "x",
            value=value,
        )


def _span(start: float, end: float) -> Callable[[Reading], bool]:
    """Readings in [start, end) are removed."""
    return lambda event: start <= event.timestamp < end


def _renumbered(events: list[Reading]) -> list[Reading]:
    """Sequence numbers 1, 2, 3... per device again, as the device itself would send."""
    seqs: dict[str, int] = {}
    out = []
    for event in events:
        seqs[event.device] = seqs.get(event.device, 0) + 1
        out.append(msgspec.structs.replace(event, seq=seqs[event.device]))
    return out
