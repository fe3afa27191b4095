"""What a recorded data set becomes: a catalog, a replayable event stream and its labels.

Recorded ADL data sets describe each sensor firing as an interval; Vigil's wire
schema is a stream of readings. ``build_home`` turns intervals into a 1.0 reading
at the start and a 0.0 reading at the end, so a replay travels exactly the path
a live binary sensor would, and keeps the activity labels for evaluating routine
learning against ground truth.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import msgspec

from vigil.catalog import AttributeValue, Catalog, Device, Entity, Tenant
from vigil.errors import ConfigurationError
from vigil.events import Event, Reading

DAY: Final = 86_400.0

KIND_METRICS: Final[dict[str, str]] = {
    "motion": "motion",
    "contact": "open",
    "pressure": "occupied",
    "flush": "flush",
    "power": "power_on",
}
"""Device kind -> the binary metric its readings carry (1.0 while firing, else 0.0)."""

_IDENTIFIER = re.compile(r"^[A-Za-z0-9_.:\-]+$")


class Activity(msgspec.Struct, kw_only=True, frozen=True):
    """One ground-truth label: what the resident was doing from ``start`` to ``end``."""

    label: str
    start: float
    end: float


class RecordedHome(msgspec.Struct, kw_only=True):
    """A recorded home ready to replay: who it belongs to, what it sent, what really happened.

    ``events`` are sorted by time with ``seq`` 1, 2, 3... per device;
    ``activities`` are sorted by start. All times are epoch seconds.
    """

    catalog: Catalog
    events: list[Event]
    activities: list[Activity]

    @property
    def entity(self) -> Entity:
        """The one home the data set describes."""
        return self.catalog.entities[0]

    def shifted(self, shift_to: float, *, keep_time_of_day: bool = False) -> RecordedHome:
        """The same home moved in time so its last event lands at ``shift_to``.

        With ``keep_time_of_day`` the move is a whole number of days (so a 07:00
        wake-up stays at 07:00 UTC) and the last event lands at or before ``shift_to``.
        """
        if not self.events:
            return self
        move = time_shift(self.events[-1].timestamp, shift_to, keep_time_of_day=keep_time_of_day)
        events: list[Event] = [
            msgspec.structs.replace(e, time=move(e.timestamp)) for e in self.events
        ]
        activities = [
            Activity(label=a.label, start=move(a.start), end=move(a.end)) for a in self.activities
        ]
        return RecordedHome(catalog=self.catalog, events=events, activities=activities)


@dataclass(frozen=True, slots=True)
class Sensor:
    """A sensor as the data set names it, mapped to a Vigil device kind and room."""

    name: str
    kind: str
    location: str | None


@dataclass(frozen=True, slots=True)
class Interval:
    """One data line: ``sensor`` fired from ``start`` to ``end`` (epoch seconds)."""

    sensor: str
    start: float
    end: float


def time_shift(last: float, shift_to: float, *, keep_time_of_day: bool) -> Callable[[float], float]:
    """A function moving times so that ``last`` goes to ``shift_to``.

    Computed as ``shift_to - (last - t)`` rather than ``t + delta`` so the last
    event lands *exactly* on ``shift_to`` despite float rounding.

    >>> time_shift(100.0, 1000.5, keep_time_of_day=False)(100.0)
    1000.5
    >>> time_shift(DAY + 60, 10 * DAY, keep_time_of_day=True)(DAY + 60)
    777660.0
    """
    if not keep_time_of_day:
        return lambda t: shift_to - (last - t)
    delta = math.floor((shift_to - last) / DAY) * DAY
    if last + delta > shift_to:  # the division rounded up across a day boundary
        delta -= DAY
    return lambda t: t + delta


def slug(name: str) -> str:
    """A device-id-safe form of a sensor name: ``'ToiletFlush'`` -> ``'toilet-flush'``.

    >>> slug("Hall-Bathroom door"), slug("ToiletFlush"), slug("Spare_Time/TV")
    ('hall-bathroom-door', 'toilet-flush', 'spare-time-tv')
    """
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name.strip())
    return re.sub(r"[^a-z0-9]+", "-", spaced.lower()).strip("-")


def utc_seconds(year: int, month: int, day: int, hh: int, mm: int, ss: int) -> float:
    """Epoch seconds of a zone-less timestamp, read as UTC (the files give local time)."""
    return datetime(year, month, day, hh, mm, ss, tzinfo=UTC).timestamp()


def check_identifier(value: str, what: str) -> None:
    """Fail early, naming the culprit, instead of on first ingest of the catalog."""
    if not _IDENTIFIER.match(value) or len(value) > 128:
        raise ConfigurationError(f"{what} {value!r} must match {_IDENTIFIER.pattern}")


def build_home(
    *,
    tenant: str,
    entity: str,
    entity_name: str,
    attributes: dict[str, AttributeValue],
    sensors: Sequence[Sensor],
    intervals: Iterable[Interval],
    activities: Iterable[Activity],
    shift_to: float | None = None,
    keep_time_of_day: bool = False,
) -> RecordedHome:
    """Assemble the catalog and the event stream from parsed intervals.

    Order at equal times is total and stable: by time, then a device's end that
    coincides with its own next start (so it reads 0 then 1 and stays on), then
    starts before ends (a zero-length firing still reads 1 then 0), then device
    id, then file order.
    """
    check_identifier(tenant, "tenant")
    check_identifier(entity, "entity")
    ids: dict[str, str] = {}
    for sensor in sensors:
        device_id = f"{entity}.{slug(sensor.name)}"
        check_identifier(device_id, "device")
        if device_id in ids.values():
            raise ConfigurationError(f"two sensors map to device id {device_id!r}")
        ids[sensor.name] = device_id
    kinds = {s.name: s.kind for s in sensors}

    spans = list(intervals)
    starts = {(s.sensor, s.start) for s in spans}
    keyed: list[tuple[tuple[float, int, str, int], str, float]] = []
    for index, span in enumerate(spans):
        device_id = ids[span.sensor]
        restarts = span.end > span.start and (span.sensor, span.end) in starts
        keyed.append(((span.start, 1, device_id, index), span.sensor, 1.0))
        keyed.append(((span.end, 0 if restarts else 2, device_id, index), span.sensor, 0.0))
    keyed.sort(key=lambda item: item[0])

    seqs = dict.fromkeys(ids.values(), 0)
    events: list[Event] = []
    for (time, _, device_id, _), sensor, value in keyed:
        seqs[device_id] += 1
        metric = KIND_METRICS[kinds[sensor]]
        events.append(
            Reading(
                tenant=tenant,
                device=device_id,
                entity=entity,
                seq=seqs[device_id],
                time=time,
                metric=metric,
                value=value,
            )
        )

    devices = tuple(
        sorted(
            (
                Device(
                    tenant=tenant,
                    id=ids[s.name],
                    entity=entity,
                    kind=s.kind,
                    location=s.location,
                    metrics=(KIND_METRICS[s.kind],),
                )
                for s in sensors
            ),
            key=lambda d: d.id,
        )
    )
    catalog = Catalog(
        tenants=(Tenant(id=tenant, name=tenant, kind="council"),),
        entities=(
            Entity(tenant=tenant, id=entity, kind="home", name=entity_name, attributes=attributes),
        ),
        devices=devices,
    )
    labels = sorted(activities, key=lambda a: (a.start, a.end, a.label))
    home = RecordedHome(catalog=catalog, events=events, activities=labels)
    if shift_to is not None:
        home = home.shifted(shift_to, keep_time_of_day=keep_time_of_day)
    return home
