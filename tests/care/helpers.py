"""A crafted home for care operator tests: its devices, a normal day, and a runner."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from vigil.care import CareMonitor
from vigil.engine.keyed import Emitted, KeyedRunner
from vigil.engine.operator import Output
from vigil.events import (
    Alarm,
    ConditionSignal,
    DeviceConfigured,
    DeviceStatus,
    EntityConfigured,
    LogEvent,
    Reading,
    Tick,
)
from vigil.testing import records

LONDON = ZoneInfo("Europe/London")
TENANT = "north-council"
HOME = "north-council.home-01"
ROOMS = ("bedroom", "bathroom", "kitchen", "lounge", "hall")


def at(day: date, hour: float) -> float:
    """Epoch seconds of ``hour`` (local, London; 25.5 is 01:30 the next day) on ``day``."""
    extra, hour = divmod(hour, 24.0)
    moment = datetime(day.year, day.month, day.day, tzinfo=LONDON) + timedelta(days=int(extra))
    whole = int(hour)
    local = datetime(moment.year, moment.month, moment.day, whole, tzinfo=LONDON)
    return (local + timedelta(seconds=round((hour - whole) * 3600))).timestamp()


@dataclass
class Home:
    """Events of one home, in any order; ``log`` sorts them and adds clock ticks."""

    start: float
    attributes: dict = field(default_factory=dict)
    events: list[LogEvent] = field(default_factory=list)
    heartbeat: float | None = 3600.0
    motion_rooms: tuple[str, ...] = ROOMS
    """Rooms with a motion sensor (Kasteren house A has none, Ordóñez A no hall or lounge)."""

    def __post_init__(self) -> None:
        self.seqs: dict[str, int] = {}
        self.quiet: list[tuple[str, float, float]] = []
        self.configure(self.start, **self.attributes)
        devices = [(f"motion-{room}", "motion", room, "motion") for room in self.motion_rooms]
        devices += [
            ("door-front", "contact", "hall", "contact"),
            ("door-fridge", "contact", "kitchen", "contact"),
            ("plug-kettle", "smart_plug", "kitchen", "power"),
            ("bed-pressure", "bed_pressure", "bedroom", "occupied"),
            ("temperature-lounge", "temperature", "lounge", "temperature"),
            ("pendant", "pendant", None, None),
        ]
        for name, kind, room, metric in devices:
            self.events.append(
                DeviceConfigured(
                    tenant=TENANT,
                    time=self.start,
                    device=f"{HOME}.{name}",
                    entity=HOME,
                    kind=kind,
                    heartbeat=self.heartbeat,
                    metrics=(metric,) if metric else (),
                    location=room,
                )
            )

    def configure(self, time: float, **attributes: object) -> None:
        self.events.append(
            EntityConfigured(
                tenant=TENANT,
                time=time,
                entity=HOME,
                kind="home",
                name="Home 01",
                attributes={"resident": "R-1001", **attributes},  # type: ignore[dict-item]
            )
        )

    def _seq(self, device: str) -> int:
        self.seqs[device] = self.seqs.get(device, 0) + 1
        return self.seqs[device]

    def reading(self, name: str, metric: str, value: float, time: float) -> None:
        device = f"{HOME}.{name}"
        self.events.append(
            Reading(
                tenant=TENANT,
                device=device,
                entity=HOME,
                seq=0,
                time=time,
                metric=metric,
                value=float(value),
            )
        )

    def motion(self, room: str, start: float, minutes: float = 0.0, every: float = 3.0) -> None:
        """Motion in ``room`` from ``start`` for ``minutes``, one detection every ``every``."""
        t = start
        while True:
            self.reading(f"motion-{room}", "motion", 1.0, t)
            t += every * 60
            if t > start + minutes * 60:
                break

    def door(self, time: float) -> None:
        self.reading("door-front", "contact", 1.0, time)
        self.reading("door-front", "contact", 0.0, time + 15)

    def kettle(self, time: float) -> None:
        self.reading("plug-kettle", "power", 2000.0, time)
        self.reading("plug-kettle", "power", 0.0, time + 180)

    def fridge(self, time: float) -> None:
        self.reading("door-fridge", "contact", 1.0, time)
        self.reading("door-fridge", "contact", 0.0, time + 20)

    def bed(self, occupied: bool, time: float) -> None:
        self.reading("bed-pressure", "occupied", 1.0 if occupied else 0.0, time)

    def temperature(self, value: float, time: float) -> None:
        self.reading("temperature-lounge", "temperature", value, time)

    def alarm(self, time: float, alarm: str = "pendant") -> None:
        self.events.append(
            Alarm(
                tenant=TENANT,
                device=f"{HOME}.pendant",
                entity=HOME,
                seq=0,
                time=time,
                alarm=alarm,
                detail="help button pressed",
            )
        )

    def status(self, name: str, time: float, online: bool | None = None) -> None:
        self.events.append(
            DeviceStatus(
                tenant=TENANT, device=f"{HOME}.{name}", entity=HOME, seq=0, time=time, online=online
            )
        )

    def offline(self, name: str, start: float, end: float) -> None:
        """``name`` sends nothing, not even its heartbeat, from ``start`` to ``end``."""
        self.quiet.append((f"{HOME}.{name}", start, end))

    def _silenced(self, event: LogEvent) -> bool:
        device = getattr(event, "device", None)
        return any(device == d and a <= event.timestamp < b for d, a, b in self.quiet)

    def _heartbeats(self, until: float) -> list[LogEvent]:
        """Every device's status every half hour, as real ones send, except when offline."""
        names = [f"motion-{room}" for room in self.motion_rooms]
        names += ["door-front", "door-fridge", "plug-kettle", "bed-pressure", "pendant"]
        statuses: list[LogEvent] = []
        t = self.start
        while t <= until:
            for name in names:
                device = f"{HOME}.{name}"
                if not any(d == device and a <= t < b for d, a, b in self.quiet):
                    statuses.append(
                        DeviceStatus(
                            tenant=TENANT, device=device, entity=HOME, seq=0, time=t, battery=90
                        )
                    )
            t += 1800
        return statuses

    # --- days -------------------------------------------------------------------------

    def morning(self, day: date, up: float = 7.5) -> None:
        """Bed empties at ``up`` - 20 min; bathroom; kitchen (kettle, fridge) at ``up``."""
        self.bed(False, at(day, up - 20 / 60))
        self.motion("bedroom", at(day, up - 19 / 60), 3)
        self.motion("bathroom", at(day, up - 15 / 60), 8, every=1)
        self.motion("kitchen", at(day, up), 20, every=2)
        self.kettle(at(day, up + 2 / 60))
        self.fridge(at(day, up + 5 / 60))

    def daytime(self, day: date, start: float, end: float, *, kitchen: bool = True) -> None:
        """Lounge from ``start`` to ``end`` with lunch, a cup of tea, dinner and bathroom trips."""
        meals = [(12.5, 25), (15.5, 10), (18.0, 35)] if kitchen else []
        breaks = [10.5, 14.0, 16.5, 20.0]
        t = start
        while t < end:
            meal = next((m for m in meals if m[0] <= t < m[0] + m[1] / 60), None)
            if meal is not None:
                self.motion("kitchen", at(day, t), meal[1], every=2)
                self.kettle(at(day, t + 0.05))
                self.fridge(at(day, t + 0.1))
                t += meal[1] / 60 + 0.05
                continue
            if any(b <= t < b + 0.1 for b in breaks):
                self.motion("hall", at(day, t))
                self.motion("bathroom", at(day, t + 0.01), 5, every=1)
                t += 0.15
                continue
            self.motion("lounge", at(day, t))
            t += 0.1

    def evening(self, day: date, bed: float = 22.5) -> None:
        self.motion("bathroom", at(day, bed - 0.2), 5, every=1)
        self.motion("bedroom", at(day, bed - 0.1), 4)
        self.bed(True, at(day, bed))

    def night(self, day: date, visits: list[float]) -> None:
        """Bathroom trips at the given hours of the night after ``day`` (25.0 = 01:00)."""
        for hour in visits:
            self.bed(False, at(day, hour))
            self.motion("bedroom", at(day, hour + 0.005))
            self.motion("bathroom", at(day, hour + 0.02), 4, every=1)
            self.motion("bedroom", at(day, hour + 0.1))
            self.bed(True, at(day, hour + 0.11))

    def normal_day(
        self,
        day: date,
        *,
        up: float = 7.5,
        bed: float = 22.5,
        visits: tuple[float, ...] = (27.0,),
        kitchen: bool = True,
    ) -> None:
        self.morning(day, up)
        self.daytime(day, up + 0.4, bed - 0.25, kitchen=kitchen)
        self.evening(day, bed)
        self.night(day, list(visits))

    # --- running ------------------------------------------------------------------------

    def log(
        self, until: float, tick_minutes: float = 5.0, ticks_until: float | None = None
    ) -> list[LogEvent]:
        events = list(self.events)
        if self.heartbeat is not None:
            events += self._heartbeats(until)
        quiet = self.quiet
        events = [
            e
            for e in events
            if not any(
                getattr(e, "device", None) == d and a <= e.timestamp < b for d, a, b in quiet
            )
        ]
        t = self.start
        while t <= (until if ticks_until is None else min(until, ticks_until)):
            events.append(Tick(tenant=TENANT, time=t))
            t += tick_minutes * 60
        events = [e for e in events if e.timestamp <= until]
        order = {Tick: 1}
        events.sort(key=lambda e: (e.timestamp, order.get(type(e), 0)))
        numbered: list[LogEvent] = []
        seqs: dict[str, int] = {}
        for event in events:
            device = getattr(event, "device", None)
            if isinstance(event, Reading | Alarm | DeviceStatus) and device is not None:
                seqs[device] = seqs.get(device, 0) + 1
                event = type(event)(**{**_fields(event), "seq": seqs[device]})
            numbered.append(event)
        return numbered

    def run(
        self, until: float, monitor: CareMonitor | None = None, ticks_until: float | None = None
    ) -> Run:
        runner = KeyedRunner(monitor or CareMonitor())
        emitted = runner.process(records(self.log(until, ticks_until=ticks_until)))
        return Run(emitted, runner)


def _fields(event: LogEvent) -> dict:
    return {name: getattr(event, name) for name in event.__struct_fields__}


@dataclass
class Run:
    emitted: list[Emitted]
    runner: KeyedRunner

    @property
    def signals(self) -> list[ConditionSignal]:
        return [e.output for e in self.emitted if isinstance(e.output, ConditionSignal)]

    def of(self, kind: str) -> list[ConditionSignal]:
        return [s for s in self.signals if s.kind == kind]

    def changes(self, kind: str) -> list[str]:
        return [s.change for s in self.of(kind)]

    @property
    def days(self) -> list[dict]:
        return [
            e.output.data
            for e in self.emitted
            if isinstance(e.output, Output) and e.output.kind == "care_day"
        ]

    @property
    def state(self):
        return self.runner.state_of(TENANT, HOME)


def local_clock(time: float) -> str:
    return datetime.fromtimestamp(time, LONDON).strftime("%H:%M")
