"""Outdoor temperature for the region: the weather every home's heating works against."""

from __future__ import annotations

import math

from vigil.sim.common import DAY, day_index, derive_rng, hour_of_day


class Weather:
    """Late-autumn UK weather: a daily mean that wanders between days, and a diurnal swing.

    A pure function of time (per-day means come from per-day seeds), so every
    home sees the same weather whatever order it asks in.

    >>> weather = Weather(seed=1)
    >>> -5.0 < weather.outdoor(1793577600.0) < 20.0
    True
    """

    __slots__ = ("_days", "mean", "seed")

    def __init__(self, seed: int, mean: float = 8.0) -> None:
        self.seed = seed
        self.mean = mean
        self._days: dict[int, float] = {}

    def daily_mean(self, day: int) -> float:
        value = self._days.get(day)
        if value is None:
            rng = derive_rng(self.seed, "weather", day)
            value = self.mean + rng.gauss(0.0, 2.5)
            if len(self._days) > 64:
                self._days.clear()
            self._days[day] = value
        return value

    def outdoor(self, time: float) -> float:
        """Degrees Celsius: daily means joined at noon, coldest around 03:00."""
        shifted = time - DAY / 2
        day = day_index(shifted)
        weight = (shifted - day * DAY) / DAY
        mean = (1 - weight) * self.daily_mean(day) + weight * self.daily_mean(day + 1)
        swing = -3.0 * math.cos(2 * math.pi * (hour_of_day(time) - 3.0) / 24.0)
        return mean + swing
