"""Put visits back into a plan by cheapest feasible insertion, before the search starts.

When a carer drops out mid-morning their remaining visits have to go somewhere.
OR-Tools' local search can insert them, but on a 460-visit day every step it
takes re-times the whole day (0.2-0.5 s each on a shared core), so in a few
seconds it tries only a handful of moves and the dropped visits often stay out.
This module does the obvious thing first: each visit left out is tried in every
position of every qualified carer's run (after what has already started),
the run is re-timed, and the cheapest insertion that the independent checker
accepts is kept. A double-handed pair is placed at one start time on two runs.
Visits that are synchronised with another run, or already started, keep their
start time. The search then starts from the repaired plan.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, replace

from vigil.planning.checker import Report, _check_route
from vigil.planning.model import Carer, Link, Plan, Problem, Route, Stop, Visit

SLOT = 15 * 60


@dataclass(frozen=True)
class _Option:
    cost: int
    route: Route

    def start_of(self, visit_id: str) -> int:
        return next(s.start for s in self.route.stops if s.visit == visit_id)


def repair(
    problem: Problem,
    plan: Plan,
    allowed: dict[str, set[str]],
    started: dict[str, int],
    visit_ids: Iterable[str],
) -> Plan:
    """``plan`` with as many of ``visit_ids`` inserted as fit; ``allowed`` maps a visit
    to the carers who may take it; ``started`` visits (id -> start) keep their start and
    nothing is inserted before them."""
    visits = {v.id: v for v in problem.visits}
    carers = {c.id: c for c in problem.carers}
    links: dict[str, Link] = {}
    for link in problem.links:
        links[link.first] = links[link.second] = link
    routes = {r.carer: r for r in plan.routes}
    for carer in problem.carers:
        routes.setdefault(carer.id, Route(carer.id, ()))
    pinned = dict(started)
    done_started = set(started)
    for route in routes.values():
        for stop in route.stops:
            if stop.visit in links:
                pinned.setdefault(stop.visit, stop.start)
    placed = {s.visit for r in routes.values() for s in r.stops}
    done: set[str] = set()
    for visit_id in sorted(set(visit_ids) - placed, key=lambda v: visits[v].earliest):
        if visit_id in done or visit_id not in visits:
            continue
        link = links.get(visit_id)
        if link is None:
            best = _best(
                problem,
                carers,
                routes,
                visits[visit_id],
                allowed,
                pinned,
                done_started,
                None,
                set(),
            )
            if best is not None:
                routes[best.route.carer] = best.route
                done.add(visit_id)
            continue
        done |= {link.first, link.second}
        if link.first in placed or link.second in placed:
            continue
        found = _place_pair(problem, carers, routes, visits, link, allowed, pinned, done_started)
        if found is not None:
            for option in found:
                routes[option.route.carer] = option.route
            pinned[link.first] = found[0].start_of(link.first)
            pinned[link.second] = found[1].start_of(link.second)
    new_routes = tuple(routes[c.id] for c in problem.carers)
    now = {s.visit for r in new_routes for s in r.stops}
    return replace(
        plan,
        routes=new_routes,
        unassigned=tuple(v.id for v in problem.visits if v.id not in now),
        solver=plan.solver or "repair",
    )


def insert(
    problem: Problem,
    route: Route,
    visit: Visit,
    at: int | None,
    pinned: dict[str, int],
    started: set[str],
) -> Route | None:
    """``route`` with ``visit`` inserted where it adds least travel and the checker
    accepts the run (starting at ``at`` if given), or ``None``; ``pinned`` visits keep
    their start and nothing goes before the ``started`` ones."""
    carers = {route.carer: problem.carer(route.carer)}
    option = _best(
        problem,
        carers,
        {route.carer: route},
        visit,
        {visit.id: {route.carer}},
        pinned,
        started,
        at,
        set(),
    )
    return None if option is None else option.route


def _place_pair(
    problem, carers, routes, visits, link, allowed, pinned, started
) -> list[_Option] | None:
    first, second = visits[link.first], visits[link.second]
    best: tuple[int, list[_Option]] | None = None
    earliest = max(first.earliest, second.earliest - link.min_delay)
    latest = min(first.latest, second.latest - link.min_delay)
    for start in range(earliest, latest + 1, SLOT):
        a = _best(problem, carers, routes, first, allowed, pinned, started, start, set())
        if a is None:
            continue
        b = _best(
            problem,
            carers,
            routes,
            second,
            allowed,
            pinned,
            started,
            start + link.min_delay,
            {a.route.carer},
        )
        if b is None:
            continue
        if best is None or a.cost + b.cost < best[0]:
            best = (a.cost + b.cost, [a, b])
    return None if best is None else best[1]


def _best(
    problem: Problem,
    carers: dict[str, Carer],
    routes: dict[str, Route],
    visit: Visit,
    allowed: dict[str, set[str]],
    pinned: dict[str, int],
    started: set[str],
    at: int | None,
    excluded: set[str],
) -> _Option | None:
    """The cheapest feasible insertion of ``visit`` (at start ``at`` if given)."""
    visits = {v.id: v for v in problem.visits}
    best: _Option | None = None
    for carer_id in sorted(allowed.get(visit.id, set()) - excluded):
        carer = carers[carer_id]
        route = routes[carer_id]
        current = [visits[s.visit] for s in route.stops]
        base = _travel(problem, carer, current)
        start_at = 0
        while start_at < len(route.stops) and route.stops[start_at].visit in started:
            start_at += 1
        fixed = {s.visit: pinned[s.visit] for s in route.stops if s.visit in pinned}
        if at is not None:
            fixed[visit.id] = at
        for position in range(start_at, len(current) + 1):
            order = [*current[:position], visit, *current[position:]]
            extra = _travel(problem, carer, order) - base
            if best is not None and extra >= best.cost:
                continue
            timed = _timed(problem, carer, order, fixed)
            if timed is not None:
                best = _Option(extra, timed)
    return best


def _travel(problem: Problem, carer: Carer, order: list[Visit]) -> int:
    places = [carer.start_location, *(v.location for v in order), carer.end_location]
    return sum(problem.travel_time(carer.travel_mode, a, b) for a, b in itertools.pairwise(places))


def _timed(problem: Problem, carer: Carer, order: list[Visit], fixed: dict[str, int]):
    """The run in this order at the earliest times (fixed starts kept), with its breaks
    in the first gaps the checker accepts; ``None`` if no timing fits."""
    n = len(order)
    mode = carer.travel_mode
    places = [carer.start_location, *(v.location for v in order), carer.end_location]
    legs = [problem.travel_time(mode, a, b) for a, b in itertools.pairwise(places)]

    def forward(rules, positions) -> Route | None:
        stops: list[Stop] = []
        breaks: list[int] = []
        clock = carer.shift_start
        for j in range(n + 1):
            for rule, at in zip(rules, positions, strict=True):
                if at == j:
                    begin = max(rule.earliest, clock)
                    if begin > rule.latest:
                        return None
                    breaks.append(begin)
                    clock = begin + rule.duration
            if j == n:
                break
            visit = order[j]
            arrive = clock + legs[j]
            start = max(arrive, visit.earliest)
            if visit.id in fixed:
                if fixed[visit.id] < arrive:
                    return None
                start = fixed[visit.id]
            if start > visit.latest and not visit.soft_latest:
                return None
            stops.append(Stop(visit.id, start))
            clock = start + visit.duration
        depart = stops[0].start - legs[0]
        if positions and positions[0] == 0:
            depart = min(depart, breaks[0])
        back = clock + legs[-1]
        if back > carer.shift_end or depart < carer.shift_start:
            return None
        return Route(carer.id, tuple(stops), tuple(breaks), depart, back)

    if not order or forward((), ()) is None:
        return None  # breaks only make a run later
    visits = {v.id: v for v in order}
    for positions in itertools.combinations_with_replacement(range(n + 1), len(carer.breaks)):
        route = forward(carer.breaks, positions)
        if route is None:
            continue
        report = Report()
        _check_route(problem, carer, route, visits, report)
        if report.feasible:
            return route
    return None


__all__ = ["insert", "repair"]
