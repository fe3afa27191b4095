"""Travel times between locations, per travel mode.

A planner needs one number per (mode, origin, destination). The default comes from
coordinates (straight-line distance times a detour factor, at a speed per mode); a
road router's export plugs in as a :class:`MatrixTravel`. Both satisfy
:class:`TravelTimes`, the one seam the solver and the checker use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from vigil.planning.model import TravelMode

#: Default speeds in metres per second: a car in town (about 30 km/h door to door)
#: and a carer on foot (about 4.7 km/h).
DEFAULT_SPEEDS: dict[str, float] = {"car": 8.3, "foot": 1.3}


@runtime_checkable
class TravelTimes(Protocol):
    """Integer travel times between location indices."""

    def matrix(self, mode: TravelMode) -> np.ndarray:
        """The full square matrix of travel times for a mode (int64)."""
        ...


class MatrixTravel:
    """Travel times given as one square matrix per mode (for example from a road router).

    >>> travel = MatrixTravel({"car": [[0, 5], [6, 0]]})
    >>> travel.time("car", 1, 0), travel.time("foot", 0, 1)
    (6, 5)
    """

    def __init__(self, matrices: Mapping[str, Sequence[Sequence[int]] | np.ndarray]) -> None:
        self.matrices = {mode: np.asarray(m, dtype=np.int64) for mode, m in matrices.items()}
        if not self.matrices:
            raise ValueError("MatrixTravel needs at least one matrix")
        self._fallback = next(iter(self.matrices.values()))

    def matrix(self, mode: TravelMode) -> np.ndarray:
        """The matrix for ``mode``; a mode without its own matrix uses the first one."""
        return self.matrices.get(mode, self._fallback)

    def time(self, mode: TravelMode, origin: int, destination: int) -> int:
        """Travel time from ``origin`` to ``destination``."""
        return int(self.matrix(mode)[origin, destination])


class CoordinateTravel:
    """Travel times from planar coordinates: distance x detour / speed, per mode.

    Coordinates are in metres (a local projection); times come out in ``unit``
    seconds, rounded up so a plan never assumes a carer is faster than they are.

    >>> travel = CoordinateTravel([(0.0, 0.0), (830.0, 0.0)], detour=1.0)
    >>> travel.time("car", 0, 1), travel.time("foot", 0, 1)
    (100, 639)
    """

    def __init__(
        self,
        locations: Sequence[tuple[float, float]],
        speeds: Mapping[str, float] | None = None,
        detour: float = 1.3,
        unit: float = 1.0,
    ) -> None:
        self.locations = [(float(x), float(y)) for x, y in locations]
        self.speeds = dict(speeds or DEFAULT_SPEEDS)
        self.detour = detour
        self.unit = unit
        self._cache: dict[str, np.ndarray] = {}

    def matrix(self, mode: TravelMode) -> np.ndarray:
        """The matrix for ``mode``, computed once."""
        if mode not in self._cache:
            xy = np.asarray(self.locations, dtype=float).reshape(-1, 2)
            metres = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
            seconds = metres * self.detour / self.speeds[mode] / self.unit
            self._cache[mode] = np.ceil(seconds - 1e-9).astype(np.int64)
        return self._cache[mode]

    def time(self, mode: TravelMode, origin: int, destination: int) -> int:
        """Travel time from ``origin`` to ``destination``."""
        return int(self.matrix(mode)[origin, destination])


def euclidean_matrix(
    locations: Sequence[tuple[float, float]], scale: float = 1.0, rounding: str = "floor"
) -> np.ndarray:
    """Scaled Euclidean distances as integers (``floor`` is the DIMACS convention)."""
    xy = np.asarray(locations, dtype=float).reshape(-1, 2)
    dist = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1]) * scale
    if rounding == "floor":
        return np.floor(dist + 1e-9).astype(np.int64)
    if rounding == "round":
        return np.rint(dist).astype(np.int64)
    raise ValueError(f"unknown rounding {rounding!r}")


def mode_time(travel: object, mode: TravelMode, origin: int, destination: int) -> int:
    """One travel time from any :class:`TravelTimes` (uses ``time`` when it has one)."""
    time = getattr(travel, "time", None)
    if time is not None:
        return int(time(mode, origin, destination))
    return int(travel.matrix(mode)[origin, destination])  # type: ignore[attr-defined]


__all__ = ["CoordinateTravel", "MatrixTravel", "TravelTimes", "euclidean_matrix", "mode_time"]
