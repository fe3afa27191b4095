"""A resident's day, as the sensors in their home see it.

The plan runs from one waking to the next: get up, bathroom, breakfast, the day's
appointments (meals, a cup of tea, going out, a visitor) with lounge time and
bathroom breaks between them, bedtime, and the night's bathroom visits. Each
home has its own habits (``Resident``) and its own generator, so every day is a
little different and no two homes are alike.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from vigil.sim.anomalies import Anomaly
from vigil.sim.common import DAY, HOUR, MINUTE, day_start, poisson, weekday
from vigil.sim.devices import Item, Sensor

MOTION_HOLD_OFF = 30.0
"""A motion sensor reports at most once per this many seconds (PIR blind time)."""

ROOMS = ("bedroom", "bathroom", "kitchen", "lounge", "hall")


@dataclass(frozen=True, slots=True)
class Resident:
    """One resident's habits: the ground truth that routine-learning detectors try to recover."""

    pseudonym: str
    age: int
    lives_alone: bool
    wake_hour: float
    wake_spread_hours: float
    bed_hour: float
    night_visits: float
    out_chance: float
    visitor_chance: float
    cold_home: bool
    setpoint: float


@dataclass(slots=True)
class HomeSensors:
    """The devices a routine drives; optional ones are ``None`` when the home has none."""

    motion: dict[str, Sensor]
    front_door: Sensor
    fridge_door: Sensor
    kettle: Sensor
    bed: Sensor
    button: Sensor | None
    fall: Sensor | None


@dataclass(slots=True)
class Unit:
    """Everything the routine produced between two points in time.

    ``states`` are (time, "asleep" | "home" | "out") changes, for wearables.
    """

    end: float
    events: list[tuple[float, Item]]
    states: list[tuple[float, str]]


class Routine:
    """Plans a resident's days one at a time, carrying on where the last one stopped."""

    def __init__(
        self,
        resident: Resident,
        sensors: HomeSensors,
        rng: random.Random,
        *,
        pendant_per_day: float,
        fall_per_day: float,
        anomalies: tuple[Anomaly, ...] = (),
    ) -> None:
        self.anomalies = anomalies
        self.resident = resident
        self.sensors = sensors
        self.rng = rng
        self.pendant_per_day = pendant_per_day
        self.fall_per_day = fall_per_day
        self._last_motion = dict.fromkeys(sensors.motion, -math.inf)
        self._room = "bedroom"
        self._events: list[tuple[float, Item]] = []
        self._states: list[tuple[float, str]] = []

    # -- units -------------------------------------------------------------------------------

    def first_night(self, start: float) -> Unit:
        """From the region's start (assumed night) to the first waking."""
        wake = self._wake_time(day_start(start + 6 * HOUR))
        if wake <= start:
            wake = start + self.rng.uniform(5 * MINUTE, 30 * MINUTE)
        self._emit(start, self.sensors.bed.reading("occupied", 1.0))
        self._state(start, "asleep")
        self._night(start, wake)
        return self._flush(wake)

    def day(self, wake: float) -> Unit:
        """From waking (bed empties) to the next waking."""
        rng, res, s = self.rng, self.resident, self.sensors
        midnight = day_start(wake)
        self._state(wake, "home")
        self._emit(wake, s.bed.reading("occupied", 0.0))
        self._room = "bedroom"
        t = self._stay("bedroom", wake, rng.uniform(2, 10) * MINUTE, 90)
        t = self._stay("bathroom", t, rng.uniform(5, 15) * MINUTE, 60)
        t = self._meal(t, rng.uniform(15, 35) * MINUTE, kettle=0.92)

        bedtime = midnight + rng.gauss(res.bed_hour, 0.4) * HOUR
        bedtime -= (1.0 - self._vigour(wake)) * HOUR  # and to bed earlier
        bedtime = max(bedtime, t + 8 * HOUR)
        plans = self._appointments(midnight)
        for fall in self._of("bathroom_fall"):  # a fall happens whatever the plans were
            if t <= fall.start < bedtime:
                plans = [p for p in plans if not (p[0] < fall.end and p[0] + p[2] > fall.start)]
        for at, kind, length in plans:
            at = max(at, t)
            if at + length >= bedtime - 30 * MINUTE:
                continue
            t = self._idle(t, at)
            t = self._appointment(kind, max(at, t), length)
        self._alarms(wake, bedtime)
        t = self._idle(t, bedtime)
        t = self._stay("bathroom", t, rng.uniform(4, 10) * MINUTE, 60)
        t = self._stay("bedroom", t, rng.uniform(3, 12) * MINUTE, 90)
        self._emit(t, s.bed.reading("occupied", 1.0))
        self._state(t, "asleep")
        next_wake = self._wake_time(midnight + DAY)
        next_wake = max(next_wake, t + 5 * HOUR)
        self._night(t, next_wake)
        return self._flush(next_wake)

    def _flush(self, end: float) -> Unit:
        unit = Unit(end=round(end, 3), events=self._events, states=self._states)
        self._events, self._states = [], []
        return unit

    # -- plans -------------------------------------------------------------------------------

    def _wake_time(self, midnight: float) -> float:
        res = self.resident
        hour = res.wake_hour + (0.3 if weekday(midnight) >= 5 else 0.0)
        spread = res.wake_spread_hours
        hour += max(-2 * spread, min(2 * spread, self.rng.gauss(0.0, spread)))
        wake = midnight + hour * HOUR
        wake += (1.0 - self._vigour(wake)) * HOUR  # slowing down: up later
        for anomaly in self._of("not_up", "night_exit"):
            if anomaly.covers(wake) or (
                anomaly.kind == "night_exit" and anomaly.end > wake > anomaly.start
            ):
                wake = max(wake, anomaly.end + 10 * MINUTE)  # still in bed / not back
        return wake

    def _of(self, *kinds: str) -> list[Anomaly]:
        return [a for a in self.anomalies if a.kind in kinds]

    def _vigour(self, t: float) -> float:
        """1 normally; less during and after a decline (``Anomaly.vigour``)."""
        vigour = 1.0
        for anomaly in self._of("decline"):
            vigour = min(vigour, anomaly.vigour(t))
        return vigour

    def _appointments(self, midnight: float) -> list[tuple[float, str, float]]:
        """Today's fixed points: (time, kind, length in seconds), in time order."""
        rng, res = self.rng, self.resident
        at = [
            (rng.gauss(12.6, 0.5), "lunch", rng.uniform(15, 40)),
            (rng.gauss(15.5, 0.5), "tea" if rng.random() < 0.75 else "", rng.uniform(5, 12)),
            (rng.gauss(17.9, 0.5), "dinner", rng.uniform(25, 50)),
            (rng.gauss(20.5, 0.4), "drink" if rng.random() < 0.4 else "", rng.uniform(4, 10)),
        ]
        out = rng.random() < res.out_chance * self._vigour(midnight)
        out_at, out_len = rng.uniform(9.5, 14.0), rng.uniform(60, 210)
        visit = rng.random() < res.visitor_chance
        visit_at, visit_len = rng.uniform(13.5, 16.5), rng.uniform(30, 90)
        plans = [(h, kind, length) for h, kind, length in at if kind]
        if out:
            out_end = out_at + out_len / 60
            plans = [p for p in plans if not out_at - 0.5 < p[0] < out_end + 0.25]
            plans.append((out_at, "out", out_len))
        if visit and not (out and out_at - 1.5 < visit_at < out_at + out_len / 60 + 0.5):
            plans = [p for p in plans if not visit_at - 0.3 < p[0] < visit_at + visit_len / 60]
            plans.append((visit_at, "visit", visit_len))
        plans.sort()
        return [(midnight + h * HOUR, kind, length * MINUTE) for h, kind, length in plans]

    def _appointment(self, kind: str, at: float, length: float) -> float:
        rng = self.rng
        if kind == "out":
            return self._out(at, length)
        if kind == "visit":
            return self._visit(at, length)
        kettle = {"lunch": 0.6, "tea": 0.95, "dinner": 0.35, "drink": 0.8}[kind]
        fridge = kind in ("lunch", "dinner") or rng.random() < 0.3
        return self._meal(at, length, kettle=kettle, fridge=fridge)

    def _alarms(self, wake: float, bedtime: float) -> None:
        """Pendant presses and falls happen while the resident is up and about."""
        rng, s = self.rng, self.sensors
        press, press_at = rng.random(), rng.uniform(wake, bedtime)
        fall, fall_at = rng.random(), rng.uniform(wake, bedtime)
        if s.button is not None and press < self.pendant_per_day:
            self._emit(press_at, s.button.alarm("pendant", detail="help button pressed"))
        if s.fall is not None and fall < self.fall_per_day:
            self._emit(fall_at, s.fall.alarm("fall", detail="fall detected"))

    # -- activities ----------------------------------------------------------------------------

    def _idle(self, t: float, until: float) -> float:
        """Lounge time, with a bathroom break every couple of hours and the odd kitchen trip."""
        rng = self.rng
        gap = 240.0 if self.resident.lives_alone else 150.0
        while until - t > 2 * MINUTE:
            stint = min(until - t, rng.uniform(0.75, 2.5) * HOUR / self._vigour(t))
            fall = next((a for a in self._of("bathroom_fall") if t <= a.start < t + stint), None)
            if fall is not None:  # into the bathroom, one detection, then nothing
                t = self._stay("lounge", t, fall.start - t, gap)
                self._stay("bathroom", t, 1.0, 60)
                t = max(t, fall.end)
                continue
            t = self._stay("lounge", t, stint, gap)
            if until - t < 12 * MINUTE:
                break
            if rng.random() < 0.7:
                t = self._stay("bathroom", t, rng.uniform(3, 8) * MINUTE, 60)
            else:
                t = self._meal(t, rng.uniform(2, 6) * MINUTE, kettle=0.0, fridge=rng.random() < 0.5)
        return max(t, until)

    def _meal(self, t: float, length: float, *, kettle: float, fridge: bool = True) -> float:
        rng, s = self.rng, self.sensors
        if any(a.covers(t) for a in self._of("missed_meals")):
            return self._stay("lounge", t, length, 240.0)  # no meal, no drink
        t = self._go("kitchen", t)
        end = t + length
        self._motion("kitchen", t, end, 60)
        if fridge:
            closed = -math.inf
            openings = sorted(
                rng.uniform(t, max(t, end - 60)) for _ in range(1 + poisson(rng, 0.8))
            )
            for opened in openings:
                if opened < closed + 5:
                    continue
                closed = opened + rng.uniform(5, 40)
                self._emit(opened, s.fridge_door.reading("contact", 1.0))
                self._emit(closed, s.fridge_door.reading("contact", 0.0))
        if rng.random() < kettle:
            on = t + rng.uniform(10, min(300.0, max(20.0, length / 2)))
            self._emit(on, s.kettle.reading("power", round(rng.gauss(2000, 60), 1), "W"))
            self._emit(on + rng.uniform(150, 240), s.kettle.reading("power", 0.0, "W"))
        return end

    def _out(self, at: float, length: float) -> float:
        t = self._go("hall", at)
        self._door(t)
        self._state(t, "out")
        self._room = "out"
        back = t + length
        self._door(back)
        self._state(back, "home")
        self._room = "hall"
        self._motion("hall", back + 5, back + 60, 30)
        return back + 60

    def _visit(self, at: float, length: float) -> float:
        """A visitor: the door twice, more movement, a kettle or two."""
        rng = self.rng
        t = self._go("hall", at)
        self._door(t)
        t = self._stay("lounge", t + 20, length * 0.4, 45)
        t = self._meal(t, rng.uniform(5, 10) * MINUTE, kettle=0.9, fridge=rng.random() < 0.5)
        t = self._stay("lounge", t, length * 0.5, 45)
        t = self._go("hall", t)
        self._door(t)
        return t + 30

    def _night(self, in_bed: float, wake: float) -> None:
        """Bathroom visits between going to bed and waking; the bed empties for each."""
        rng, s = self.rng, self.sensors
        visits = poisson(rng, self.resident.night_visits)
        earliest, latest = in_bed + 30 * MINUTE, wake - 30 * MINUTE
        if latest <= earliest:
            return
        exit_ = next((a for a in self._of("night_exit") if in_bed < a.start < wake), None)
        if exit_ is not None:
            latest = min(latest, exit_.start - 30 * MINUTE)
            self._night_exit(exit_)
        times = sorted(rng.uniform(earliest, latest) for _ in range(visits))
        infection = next((a for a in self._of("night_bathroom") if a.covers(in_bed)), None)
        if infection is not None:  # more trips, spread through the night
            count = visits + infection.extra
            step = (latest - earliest) / count
            times = [earliest + step * (i + 0.5) for i in range(count)]
        free_from = earliest
        for at in times:
            if at < free_from:
                continue
            self._emit(at, s.bed.reading("occupied", 0.0))
            self._room = "bedroom"
            t = self._stay("bedroom", at, rng.uniform(20, 60), 30)
            t = self._stay("bathroom", t, rng.uniform(3, 8) * MINUTE, 45)
            t = self._stay("bedroom", t, rng.uniform(20, 60), 30)
            self._emit(t, s.bed.reading("occupied", 1.0))
            free_from = t + 20 * MINUTE

    def _night_exit(self, anomaly: Anomaly) -> None:
        """Up in the night and out of the front door; back (to bed) at the anomaly's end."""
        s = self.sensors
        self._emit(anomaly.start - 3 * MINUTE, s.bed.reading("occupied", 0.0))
        self._room = "bedroom"
        self._motion("bedroom", anomaly.start - 170, anomaly.start - 120, 30)
        t = self._go("hall", anomaly.start - 60)
        self._motion("hall", t, t + 30, 30)
        self._door(anomaly.start)
        self._state(anomaly.start, "out")
        back = anomaly.end
        self._door(back)
        self._state(back, "asleep")
        self._room = "hall"
        self._motion("hall", back + 5, back + 60, 30)
        t = self._stay("bedroom", back + 60, 2 * MINUTE, 30)
        self._emit(t, s.bed.reading("occupied", 1.0))

    # -- primitives ----------------------------------------------------------------------------

    def _stay(self, room: str, t: float, length: float, gap: float) -> float:
        t = self._go(room, t)
        self._motion(room, t, t + length, gap)
        return t + length

    def _go(self, room: str, t: float) -> float:
        """Walk to a room, through the hall (which sees it) unless already there or coming in."""
        if room == self._room:
            return t
        if self._room not in ("hall", "out"):
            self._motion("hall", t, t + 1, 30)
            if room != "hall":
                t += self.rng.uniform(4, 12)
        self._room = room
        return t

    def _motion(self, room: str, t: float, end: float, gap: float) -> None:
        """Detections from ``t`` to ``end``: at most one per hold-off, spaced about ``gap``."""
        rng, sensor, last = self.rng, self.sensors.motion[room], self._last_motion[room]
        events = self._events
        gap /= self._vigour(t)  # moving less: fewer detections
        while t < end:
            if t - last >= MOTION_HOLD_OFF:
                events.append((round(t, 3), sensor.reading("motion", 1.0)))
                last = t
            t += MOTION_HOLD_OFF + rng.expovariate(1.0 / gap)
        self._last_motion[room] = last

    def _door(self, t: float) -> None:
        door = self.sensors.front_door
        self._emit(t, door.reading("contact", 1.0))
        self._emit(t + self.rng.uniform(6, 25), door.reading("contact", 0.0))

    def _emit(self, t: float, item: Item) -> None:
        self._events.append((round(t, 3), item))

    def _state(self, t: float, state: str) -> None:
        self._states.append((round(t, 3), state))
