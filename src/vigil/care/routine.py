"""A person's routine: how likely each room and appliance is to be in use, per quarter-hour.

For each day type (weekday, weekend) and each of the 96 quarter-hours of the
local day, the probability that a channel (a room's motion, the fridge, the
front door) shows activity. A new home starts from population defaults; each
finished day moves the estimate towards what was seen, with weight
``1 / (prior_days + days seen)`` until that reaches ``1 / memory_days``: early
days personalise quickly, later ones forget slowly. Quarter-hours a sensor was
offline, or the resident was away, teach nothing.

Probabilities are kept as 16-bit fixed point (``bytes``), 192 bytes per channel
and day type, so a home's routine checkpoints in a few kilobytes.

>>> routine = Routine()
>>> round(probability(routine, "weekday", "kitchen", 8 * 4), 2)   # 08:00, population
0.3
>>> seen = {32}                                  # kitchen in use 08:00-08:15 only
>>> routine = learn(routine, "weekday", {"kitchen": seen}, observed=set(range(96)),
...                 channels=["kitchen"], prior_days=3, memory_days=21)
>>> round(probability(routine, "weekday", "kitchen", 32), 2), routine.days["weekday"]
(0.47, 1)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import msgspec
import numpy as np

from vigil.care.localtime import BINS

_SCALE = 65535.0


class Routine(msgspec.Struct, gc=False):
    days: dict[str, int] = {}
    """Days learned, per day type."""
    bins: dict[str, bytes] = {}
    """``'weekday:kitchen'`` -> 96 little-endian uint16 probabilities."""


def _hours(*spans: tuple[float, float, float], base: float) -> np.ndarray:
    """A 96-bin profile: ``base``, with ``(from_hour, to_hour, p)`` spans laid over it."""
    profile = np.full(BINS, base)
    for start, end, p in spans:
        profile[int(start * 4) : int(end * 4)] = p
    return profile


_POPULATION: dict[str, np.ndarray] = {
    "kitchen": _hours(
        (7.0, 9.5, 0.3), (12.0, 13.5, 0.35), (15.0, 16.0, 0.2), (17.0, 19.0, 0.35), base=0.08
    ),
    "lounge": _hours((9.0, 12.0, 0.7), (13.5, 17.0, 0.7), (19.0, 22.5, 0.7), base=0.4),
    "bathroom": _hours((7.0, 9.5, 0.35), (9.5, 22.5, 0.15), base=0.06),
    "bedroom": _hours((6.5, 9.0, 0.5), (21.5, 23.5, 0.5), base=0.08),
    "hall": _hours((7.0, 22.5, 0.3), base=0.05),
    "bed": _hours((6.5, 9.0, 0.3), (21.5, 23.5, 0.3), base=0.05),
    "front_door": _hours((9.0, 18.0, 0.06), base=0.005),
}
for _night in _POPULATION.values():
    _night[: 6 * 4] = np.minimum(_night[: 6 * 4], 0.08)
_KITCHEN_THINGS = _POPULATION["kitchen"] * 0.5
_ANY = _hours((7.0, 22.5, 0.9), base=0.15)
_OTHER = _hours((7.0, 22.5, 0.2), base=0.03)


def population(channel: str) -> np.ndarray:
    """The default profile for a channel nobody has learned yet."""
    channel = channel.removeprefix("@")  # a whole room: as its motion
    if channel == "any":
        return _ANY
    profile = _POPULATION.get(channel)
    if profile is not None:
        return profile
    if channel in ("fridge", "freezer", "kettle", "microwave") or "cupboard" in channel:
        return _KITCHEN_THINGS
    return _OTHER


def profile(routine: Routine, day_type: str, channel: str) -> np.ndarray:
    data = routine.bins.get(f"{day_type}:{channel}")
    if data is None:
        return population(channel)
    return np.frombuffer(data, dtype="<u2").astype(float) / _SCALE


def probability(routine: Routine, day_type: str, channel: str, bin_index: int) -> float:
    return float(profile(routine, day_type, channel)[bin_index % BINS])


def expected(routine: Routine, day_type: str, channel: str, bins: Iterable[int]) -> float:
    """How many of ``bins`` the channel is usually active in."""
    values = profile(routine, day_type, channel)
    return float(sum(values[b % BINS] for b in bins))


def learn(
    routine: Routine,
    day_type: str,
    active: Mapping[str, set[int] | list[int]],
    *,
    observed: set[int],
    channels: Iterable[str],
    prior_days: float,
    memory_days: float,
    skip: Iterable[str] = (),
) -> Routine:
    """The routine after one more day: ``active[channel]`` are the bins it was in use,
    ``observed`` the bins that were watched at all; channels in ``skip`` (a sensor
    that was offline) learn nothing from this day."""
    if not observed:
        return routine
    days = routine.days.get(day_type, 0)
    rate = max(1.0 / (prior_days + days + 1), 1.0 / memory_days)
    mask = np.zeros(BINS, dtype=bool)
    mask[sorted(observed)] = True
    skipped = set(skip)
    bins = dict(routine.bins)
    for channel in sorted(set(channels) - skipped):
        current = profile(routine, day_type, channel)
        seen = np.zeros(BINS)
        seen[sorted(b % BINS for b in active.get(channel, ()))] = 1.0
        updated = np.where(mask, current + rate * (seen - current), current)
        quantised = np.clip(np.rint(updated * _SCALE), 0, _SCALE).astype("<u2")
        bins[f"{day_type}:{channel}"] = quantised.tobytes()
    whole = len(observed) >= BINS // 2  # a part-day teaches its hours but is not a day learned
    return Routine(days={**routine.days, day_type: days + whole}, bins=bins)


def days_learned(routine: Routine) -> int:
    return sum(routine.days.values())
