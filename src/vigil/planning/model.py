"""The planning model: visits, carers, synchronised pairs, and the plan that answers them.

The solver, the independent checker and the readers share only this module, so a
bug in the solver cannot hide behind a matching bug in the checker.

Times and travel are plain integers in one unit chosen by whoever builds the
problem (seconds since midnight for a council day; the benchmarks scale the
published instances to integers). Everything is immutable and plain, so a
problem or a plan can be logged, compared and serialised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from vigil.errors import VigilError

TravelMode = Literal["car", "foot"]


class PlanningError(VigilError):
    """The problem cannot be planned as given (an unknown id, an impossible lock)."""


@dataclass(frozen=True)
class Visit:
    """One carer's part of a care visit: where, when it may start, how long, what skills.

    ``latest`` is the latest start. When ``soft_latest`` is true a later start is
    allowed and costs its lateness (tardiness), as in the Mankowska instances;
    otherwise it is a hard limit. An optional visit may be left out at ``drop_penalty``.
    """

    id: str
    client: str
    location: int
    earliest: int
    latest: int
    duration: int
    skills: frozenset[str] = frozenset()
    soft_latest: bool = False
    required: bool = True
    drop_penalty: int = 0
    preferred_carers: frozenset[str] = frozenset()
    excluded_carers: frozenset[str] = frozenset()
    demand: int = 0


@dataclass(frozen=True)
class Link:
    """Two visits by two different carers: ``start(second) - start(first)`` lies in
    ``[min_delay, max_delay]``; ``0, 0`` is a simultaneous double-handed visit."""

    first: str
    second: str
    min_delay: int = 0
    max_delay: int = 0


@dataclass(frozen=True)
class Break:
    """A rest break of ``duration`` that must start in ``[earliest, latest]`` of the shift."""

    earliest: int
    latest: int
    duration: int


@dataclass(frozen=True)
class Carer:
    """A carer's day: shift, home base, skills, how they travel, how long they may work.

    ``max_work`` bounds the time from leaving the start location to reaching the end
    location (travel, visits, waiting and breaks all count, as the working-time rules do).
    """

    id: str
    start_location: int
    end_location: int
    shift_start: int
    shift_end: int
    skills: frozenset[str] = frozenset()
    travel_mode: TravelMode = "car"
    max_work: int | None = None
    breaks: tuple[Break, ...] = ()
    capacity: int | None = None

    def can_do(self, visit: Visit) -> bool:
        """Whether this carer has the visit's skills and is not excluded from it."""
        return visit.skills <= self.skills and self.id not in visit.excluded_carers


@dataclass(frozen=True)
class Weights:
    """What a plan costs: travel, total and maximum lateness, and left-out visits.

    ``unassigned`` is charged for a required visit left out (a plan with one is never
    feasible, but the solver reports it rather than failing outright); ``change`` is
    charged in re-planning for each visit moved to another carer than before.
    """

    travel: int = 1
    tardiness: int = 1
    max_tardiness: int = 0
    unassigned: int = 1_000_000
    change: int = 0


@dataclass(frozen=True)
class Problem:
    """One day to plan: locations, visits, carers, synchronised pairs, travel and weights.

    ``travel`` is any :class:`vigil.planning.travel.TravelTimes`.
    """

    locations: tuple[tuple[float, float], ...]
    visits: tuple[Visit, ...]
    carers: tuple[Carer, ...]
    travel: object
    links: tuple[Link, ...] = ()
    weights: Weights = Weights()
    name: str = ""

    def visit(self, visit_id: str) -> Visit:
        """The visit of that id (raises :class:`PlanningError` for an unknown id)."""
        try:
            return self._visits_by_id()[visit_id]
        except KeyError as err:
            raise PlanningError(f"no visit {visit_id!r} in problem {self.name!r}") from err

    def carer(self, carer_id: str) -> Carer:
        """The carer of that id (raises :class:`PlanningError` for an unknown id)."""
        for carer in self.carers:
            if carer.id == carer_id:
                return carer
        raise PlanningError(f"no carer {carer_id!r} in problem {self.name!r}")

    def travel_time(self, mode: TravelMode, origin: int, destination: int) -> int:
        """Travel time between two locations for a travel mode."""
        return self.travel.time(mode, origin, destination)  # type: ignore[attr-defined]

    def _visits_by_id(self) -> dict[str, Visit]:
        cache = self.__dict__.get("_by_id")
        if cache is None:
            cache = {visit.id: visit for visit in self.visits}
            object.__setattr__(self, "_by_id", cache)
        return cache


@dataclass(frozen=True)
class Stop:
    """A planned visit on a carer's run: which visit and when it starts."""

    visit: str
    start: int


@dataclass(frozen=True)
class Route:
    """One carer's run: the visits in order, the breaks taken (start times, in the
    order of the carer's :attr:`Carer.breaks`), and when they leave and get back."""

    carer: str
    stops: tuple[Stop, ...]
    breaks: tuple[int, ...] = ()
    depart: int | None = None
    back: int | None = None


@dataclass(frozen=True)
class Plan:
    """A solution: a route per carer and the visits left out, with the solver's own cost."""

    routes: tuple[Route, ...]
    unassigned: tuple[str, ...] = ()
    cost: float | None = None
    solver: str = ""
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default=())

    def route(self, carer_id: str) -> Route | None:
        """The route of that carer, if the plan has one."""
        for route in self.routes:
            if route.carer == carer_id:
                return route
        return None

    def assignment(self) -> dict[str, tuple[str, int]]:
        """Visit id -> (carer id, start) for every planned visit."""
        return {
            stop.visit: (route.carer, stop.start) for route in self.routes for stop in route.stops
        }
