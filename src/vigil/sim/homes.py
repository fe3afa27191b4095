"""Homes with Technology-Enabled Care: the devices a TEC service installs, and what they send.

A ``Home`` owns its catalog entries, its sensors and one event source. The
resident's movements come from ``routine``; this module adds what runs on a
clock regardless: status heartbeats, room temperatures following the heating and
the weather, and wearable readings.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from vigil.catalog import Device, Entity
from vigil.sim.anomalies import Anomaly
from vigil.sim.common import HOUR, MINUTE, derive_rng, hour_of_day
from vigil.sim.config import RegionConfig
from vigil.sim.devices import Batch, Item, Sensor, status_phase
from vigil.sim.faults import FaultPlan, battery
from vigil.sim.routine import ROOMS, HomeSensors, Resident, Routine
from vigil.sim.weather import Weather


def resident_for(rng: random.Random, number: int) -> Resident:
    """Habits drawn once per home: early and late risers, restless and sound sleepers."""
    cold = rng.random() < 0.2
    return Resident(
        pseudonym=f"R-{number:04d}",
        age=int(rng.triangular(65, 98, 82)),
        lives_alone=rng.random() < 0.75,
        wake_hour=rng.uniform(6.75, 8.5),
        wake_spread_hours=rng.uniform(0.25, 0.5),
        bed_hour=rng.uniform(21.5, 23.5),
        night_visits=rng.choice((0.3, 0.7, 1.0, 1.5, 2.5)),
        out_chance=rng.uniform(0.15, 0.6),
        visitor_chance=rng.uniform(0.1, 0.4),
        cold_home=cold,
        setpoint=round(rng.uniform(16.0, 18.0) if cold else rng.uniform(19.5, 21.5), 1),
    )


@dataclass(slots=True)
class _Clocked:
    """A device reporting on a fixed interval; ``value`` carries model state (a temperature)."""

    sensor: Sensor
    interval: float
    due: float
    value: float = 0.0
    offset: float = 0.0


class Home:
    """One home: its entity, devices and the source of everything they send.

    ``heating`` is (on, off, on, off) in hours of the day: a morning and an evening period.
    """

    def __init__(
        self,
        config: RegionConfig,
        weather: Weather,
        entity: Entity,
        resident: Resident,
        *,
        rng: random.Random,
        heating: tuple[float, float, float, float],
    ) -> None:
        self.config = config
        self.weather = weather
        self.entity = entity
        self.resident = resident
        self.heating = heating
        self.devices: list[Device] = []
        self.sensors: list[Sensor] = []
        self._rng = rng
        self._statuses: list[_Clocked] = []
        self._temperatures: list[_Clocked] = []
        self._wearable: _Clocked | None = None
        self._signals: dict[str, float] = {}
        self.cold_spells: tuple[Anomaly, ...] = ()
        """Injected heating failures (``vigil.sim.anomalies``)."""

    def add(
        self,
        name: str,
        kind: str,
        location: str | None,
        metrics: tuple[str, ...],
        *,
        status_every: float,
        report_every: float | None = None,
        powered: bool = False,
        numeric: bool = False,
    ) -> Sensor:
        """Register a device; it heartbeats every ``status_every`` seconds (silent at most 2x)."""
        cfg, device_id = self.config, f"{self.entity.id}.{name}"
        rng = derive_rng(cfg.seed, "device", device_id)
        heartbeat = 2 * min(status_every, report_every or math.inf)
        device = Device(
            tenant=self.entity.tenant,
            id=device_id,
            entity=self.entity.id,
            kind=kind,
            location=location,
            metrics=metrics,
            heartbeat=heartbeat,
        )
        sensor = Sensor(
            device,
            start=cfg.start,
            faults=FaultPlan(cfg.seed, device_id, cfg.faults, stuck_capable=numeric),
            battery=None if powered else battery(cfg.seed, device_id, cfg.faults),
        )
        self.devices.append(device)
        self.sensors.append(sensor)
        self._statuses.append(
            _Clocked(sensor, status_every, cfg.start + status_phase(rng, status_every))
        )
        if powered:
            self._signals[device_id] = round(rng.uniform(-75, -50), 0)
        if report_every is not None:
            clock = _Clocked(sensor, report_every, cfg.start + status_phase(rng, report_every))
            if numeric:
                clock.offset = -1.0 if location == "bedroom" else 0.0
                clock.value = self.resident.setpoint - 1.5 + clock.offset
                self._temperatures.append(clock)
            else:
                self._wearable = clock
        return sensor

    # -- the source ------------------------------------------------------------------------------

    def source(self, routine: Routine) -> Iterator[Batch]:
        """Everything the home sends, a routine unit (waking to waking) at a time."""
        unit = routine.first_night(self.config.start)
        begin, state = self.config.start, "asleep"
        while True:
            events = unit.events
            state = self._clocked(events, begin, unit.end, unit.states, state)
            events.sort(key=_time)
            yield from _batches(events)
            begin = unit.end
            unit = routine.day(begin)

    def _clocked(
        self,
        events: list[tuple[float, Item]],
        begin: float,
        end: float,
        states: list[tuple[float, str]],
        state: str,
    ) -> str:
        """Heartbeats, temperatures and wearable readings due in [begin, end)."""
        for clock in self._statuses:
            signal = self._signals.get(clock.sensor.id)
            while clock.due < end:
                t = round(clock.due, 3)
                events.append((t, clock.sensor.status(t, signal_dbm=signal)))
                clock.due += clock.interval
        for clock in self._temperatures:
            while clock.due < end:
                t = round(clock.due, 3)
                events.append(
                    (t, clock.sensor.reading("temperature", self._temperature(clock, t), "degC"))
                )
                clock.due += clock.interval
        wearable = self._wearable
        index = 0
        while wearable is not None and wearable.due < end:
            t = round(wearable.due, 3)
            while index < len(states) and states[index][0] <= t:
                state = states[index][1]
                index += 1
            events.extend(self._wearable_readings(wearable.sensor, t, state))
            wearable.due += wearable.interval
        return states[-1][1] if states else state

    def _temperature(self, clock: _Clocked, t: float) -> float:
        """A first-order room: towards the setpoint while heating, else outdoors plus a gain."""
        res, rng = self.resident, self._rng
        hour = hour_of_day(t)
        on1, off1, on2, off2 = self.heating
        heating = on1 <= hour < off1 or on2 <= hour < off2
        outdoor = self.weather.outdoor(t)
        if any(spell.covers(t) for spell in self.cold_spells):
            target, tau = outdoor + 2.0 + clock.offset, 4.0 * HOUR  # the heating has failed
        elif heating:
            target, tau = res.setpoint + clock.offset, 1.0 * HOUR
        else:
            target = outdoor + (5.0 if res.cold_home else 8.0) + clock.offset
            tau = (4.0 if res.cold_home else 8.0) * HOUR
        clock.value += (target - clock.value) * (1.0 - math.exp(-clock.interval / tau))
        clock.value += rng.gauss(0.0, 0.05)
        reported = round(clock.value + rng.gauss(0.0, 0.08), 1)
        return clock.sensor.hold_if_stuck(t, reported)

    def _wearable_readings(self, sensor: Sensor, t: float, state: str) -> list[tuple[float, Item]]:
        rng = self._rng
        if state == "asleep":
            rate, steps = rng.gauss(57, 3), max(0.0, round(rng.gauss(2, 4)))
        elif state == "out":
            rate, steps = rng.gauss(88, 6), max(0.0, round(rng.gauss(900, 250)))
        else:
            rate, steps = rng.gauss(72, 5), max(0.0, round(rng.gauss(110, 60)))
        return [
            (t, sensor.reading("heart_rate", float(round(rate)), "bpm")),
            (t, sensor.reading("steps", float(steps), "steps")),
        ]


def build_home(
    config: RegionConfig, weather: Weather, tenant: str, council: int, index: int
) -> tuple[Home, Routine]:
    """A home and its resident's routine.

    Ids and the resident's pseudonym (``R-1003``: council 1, home 3) depend only on
    the council and the home's position, so growing the region renames nobody.
    """
    rng = derive_rng(config.seed, "home", tenant, index)
    resident = resident_for(rng, (council + 1) * 1000 + index + 1)
    has_wearable, has_fall, has_pendant = rng.random() < 0.3, rng.random() < 0.3, rng.random() < 0.7
    second_thermometer = rng.random() < 0.5
    entity = Entity(
        tenant=tenant,
        id=f"{tenant}.home-{index + 1:02d}",
        kind="home",
        name=f"Home {index + 1:02d}",
        attributes={
            "resident": resident.pseudonym,
            "age": resident.age,
            "lives_alone": resident.lives_alone,
            "wearable": has_wearable,
            "fall_detector": has_fall,
            "pendant": has_pendant and not has_fall,
        },
    )
    shift = rng.uniform(-0.5, 0.5)
    home = Home(
        config,
        weather,
        entity,
        resident,
        rng=derive_rng(config.seed, "clock", entity.id),
        heating=(6.5 + shift, 9.5 + shift, 16.0 + shift, 22.5 + shift / 2),
    )

    def binary(name: str, kind: str, room: str, metric: str) -> Sensor:
        every = round(rng.uniform(15, 60)) * MINUTE
        return home.add(name, kind, room, (metric,), status_every=every)

    motion = {room: binary(f"motion-{room}", "motion", room, "motion") for room in ROOMS}
    front = binary("door-front", "contact", "hall", "contact")
    fridge = binary("door-fridge", "contact", "kitchen", "contact")
    kettle = home.add(
        "plug-kettle", "smart_plug", "kitchen", ("power",), status_every=30 * MINUTE, powered=True
    )
    bed = binary("bed-pressure", "bed_pressure", "bedroom", "occupied")
    for room in ("lounge", "bedroom") if second_thermometer else ("lounge",):
        every = round(rng.uniform(10, 15)) * MINUTE
        home.add(
            f"temperature-{room}",
            "temperature",
            room,
            ("temperature",),
            status_every=HOUR,
            report_every=every,
            numeric=True,
        )
    if has_wearable:
        home.add(
            "wearable",
            "wearable",
            None,
            ("heart_rate", "steps"),
            status_every=HOUR,
            report_every=15 * MINUTE,
        )
    button: Sensor | None = None
    fall: Sensor | None = None
    if has_fall:
        button = fall = home.add("fall-detector", "fall_detector", None, (), status_every=HOUR)
    elif has_pendant:
        button = home.add("pendant", "pendant", None, (), status_every=HOUR)
    sensors = HomeSensors(motion, front, fridge, kettle, bed, button, fall)
    mine = tuple(a for a in config.anomalies if a.entity == entity.id)
    home.cold_spells = tuple(a for a in mine if a.kind == "cold_spell")
    routine = Routine(
        resident,
        sensors,
        derive_rng(config.seed, "routine", entity.id),
        pendant_per_day=config.pendant_per_day,
        fall_per_day=config.fall_per_day,
        anomalies=mine,
    )
    return home, routine


def _time(entry: tuple[float, Item]) -> float:
    return entry[0]


def _batches(events: list[tuple[float, Item]]) -> Iterator[Batch]:
    """Group time-sorted events into batches of equal time."""
    if not events:
        return
    time, items = events[0][0], [events[0][1]]
    for t, item in events[1:]:
        if t == time:
            items.append(item)
        else:
            yield time, items
            time, items = t, [item]
    yield time, items
