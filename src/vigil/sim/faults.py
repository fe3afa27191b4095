"""Sensor faults: weak batteries, devices dropping offline, sensors stuck on one value.

Every fault is planned per device per day from its own seeded generator, as a
pure function of time, so any model can ask "is this device offline / stuck at
time t?" in any order and get the same answer. The same number of random draws
is made whatever the probabilities, so raising a probability only adds faults:
it never moves the ones that were already there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import msgspec

from vigil.sim.common import DAY, HOUR, day_index, derive_rng

if TYPE_CHECKING:
    from vigil.sim.devices import Batch, Sensor, Source

Window = tuple[float, float]
LOW_BATTERY = 15.0
"""Percent below which a battery counts as low, as most TEC platforms flag it."""


class FaultConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How often things go wrong. Probabilities; set one to 1.0 to force that fault.

    ``low_battery`` is the share of battery devices fitted with a weak battery
    that drains below 15% within days; ``offline`` and ``stuck`` are chances
    per device per day (``stuck`` only for numeric sensors such as temperature).
    """

    low_battery: float = 0.03
    offline: float = 0.01
    offline_hours: tuple[float, float] = (2.0, 8.0)
    stuck: float = 0.01
    stuck_hours: tuple[float, float] = (3.0, 12.0)

    def __post_init__(self) -> None:
        for name in ("low_battery", "offline", "stuck"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"FaultConfig.{name} must be a probability in [0, 1]")
        for name in ("offline_hours", "stuck_hours"):
            low, high = getattr(self, name)
            if not 0.0 < low <= high < 24.0:
                raise ValueError(f"FaultConfig.{name} must satisfy 0 < low <= high < 24")


def battery(seed: int, device: str, config: FaultConfig) -> tuple[float, float]:
    """Initial percent and drain in percent per day for one battery device."""
    rng = derive_rng(seed, "battery", device)
    weak, initial, drain = rng.random(), rng.uniform(45.0, 100.0), rng.uniform(0.02, 0.15)
    weak_initial, weak_drain = rng.uniform(16.0, 22.0), rng.uniform(2.5, 4.0)
    if weak < config.low_battery:
        return weak_initial, weak_drain
    return initial, drain


class FaultPlan:
    """The offline and stuck windows of one device, planned a day at a time."""

    __slots__ = ("_days", "config", "device", "seed", "stuck_capable")

    def __init__(self, seed: int, device: str, config: FaultConfig, *, stuck_capable: bool) -> None:
        self.seed = seed
        self.device = device
        self.config = config
        self.stuck_capable = stuck_capable
        self._days: dict[int, tuple[Window | None, Window | None]] = {}

    @property
    def can_go_offline(self) -> bool:
        return self.config.offline > 0.0

    def day(self, day: int) -> tuple[Window | None, Window | None]:
        """(offline window, stuck window) on a day; each lies within that day."""
        plan = self._days.get(day)
        if plan is None:
            plan = self._plan(day)
            if len(self._days) > 16:
                self._days.clear()
            self._days[day] = plan
        return plan

    def _plan(self, day: int) -> tuple[Window | None, Window | None]:
        rng = derive_rng(self.seed, "fault", self.device, day)
        cfg = self.config
        draws = [rng.random() for _ in range(6)]
        offline = _window(day, draws[0:3], cfg.offline, cfg.offline_hours)
        stuck = _window(day, draws[3:6], cfg.stuck, cfg.stuck_hours)
        return offline, stuck if self.stuck_capable else None

    def offline_after(self, time: float) -> Window:
        """The offline window containing or after ``time`` today, else an empty one at midnight."""
        offline, _ = self.day(day_index(time))
        if offline is not None and offline[1] > time:
            return offline
        midnight = (day_index(time) + 1) * DAY
        return midnight, midnight

    def offline_at(self, time: float) -> bool:
        offline, _ = self.day(day_index(time))
        return offline is not None and offline[0] <= time < offline[1]

    def stuck_window(self, time: float) -> Window | None:
        _, stuck = self.day(day_index(time))
        if stuck is not None and stuck[0] <= time < stuck[1]:
            return stuck
        return None


def _window(
    day: int, draws: list[float], probability: float, hours: tuple[float, float]
) -> Window | None:
    chance, length, position = draws
    if chance >= probability:
        return None
    duration = (hours[0] + (hours[1] - hours[0]) * length) * HOUR
    begin = day * DAY + position * (DAY - duration)
    return round(begin, 3), round(begin + duration, 3)


def returns(sensors: Iterable[Sensor], start: float) -> Source:
    """A device coming back after an offline window says so: ``DeviceStatus(online=True)``.

    One source for every device in the region, a day at a time; it yields an
    empty batch at each midnight so it never searches far ahead.
    """
    plans = [(s, s.faults) for s in sensors if s.faults is not None and s.faults.can_go_offline]
    if not plans:
        return
    day = day_index(start)
    while True:
        due: list[tuple[float, int, Sensor]] = []
        for order, (sensor, plan) in enumerate(plans):
            offline, _ = plan.day(day)
            if offline is not None and offline[1] >= start:
                due.append((offline[1], order, sensor))
        due.sort(key=lambda entry: (entry[0], entry[1]))
        batch: Batch | None = None
        for time, _, sensor in due:
            if batch is not None and batch[0] == time:
                batch[1].append(sensor.status(time, online=True))
                continue
            if batch is not None:
                yield batch
            batch = (time, [sensor.status(time, online=True)])
        if batch is not None:
            yield batch
        day += 1
        yield day * DAY, []
