"""Time arithmetic and seeding shared by every model of the synthetic region.

Event time is plain epoch seconds in UTC; the region's clock never reads the
wall clock. Days start at 00:00 UTC (the demo region is in the UK, on GMT in
the November weeks it starts in).
"""

from __future__ import annotations

import random

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0


def derive_rng(seed: int, *parts: object) -> random.Random:
    """A generator private to one home, machine, device or day.

    Seeding from the region seed and the thing's own name means adding a home
    does not change what any other home does. String seeds are hashed with
    SHA-512 by ``random``, so this is stable across runs, processes and platforms
    (``PYTHONHASHSEED`` plays no part).
    """
    return random.Random(":".join([str(seed), *map(str, parts)]))


def day_index(time: float) -> int:
    """Whole days since the Unix epoch: the key for per-day seeded plans."""
    return int(time // DAY)


def day_start(time: float) -> float:
    return (time // DAY) * DAY


def weekday(time: float) -> int:
    """Monday is 0, as in ``datetime.weekday``; 1970-01-01 was a Thursday."""
    return (int(time // DAY) + 3) % 7


def hour_of_day(time: float) -> float:
    return (time % DAY) / HOUR


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means (< 10) the models use."""
    if mean <= 0:
        return 0
    limit = 2.718281828459045**-mean
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


SHIFT_START_HOUR = 6.0
SHIFT_END_HOUR = 22.0
"""Two eight-hour shifts, 06:00-14:00 and 14:00-22:00, Monday to Friday."""


def on_shift(time: float) -> bool:
    """Whether the plant is staffed: weekdays from the first shift's start to the second's end."""
    return weekday(time) < 5 and SHIFT_START_HOUR <= hour_of_day(time) < SHIFT_END_HOUR


def shift_end(time: float) -> float:
    """When the working day that contains ``time`` ends."""
    return day_start(time) + SHIFT_END_HOUR * HOUR


def next_shift_start(time: float) -> float:
    """The first shift start strictly after ``time``."""
    candidate = day_start(time) + SHIFT_START_HOUR * HOUR
    while candidate <= time or weekday(candidate) >= 5:
        candidate += DAY
    return candidate
