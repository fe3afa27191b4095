"""Re-planning during the day: keep what has started, honour locks, change little.

At time ``at`` every visit of the current plan that has already started (start
before ``at``) is frozen: same carer, same start, as the first part of that
carer's run, and breaks already begun stay where they were. Visits locked to a
carer stay with that carer. A carer who drops out takes no more visits. Visits
not yet started may move, but each move to another carer costs
:attr:`Weights.change`, and the search starts from the current plan, so the new
plan differs from the old one only where the change asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from vigil.planning.checker import check
from vigil.planning.model import Break, Link, Plan, Problem, Route, Visit
from vigil.planning.repair import repair
from vigil.planning.solver import Fixed, Progress, solve


@dataclass(frozen=True)
class Change:
    """What happened at time ``at``: carers out, visits added or cancelled."""

    at: int
    carers_out: tuple[str, ...] = ()
    added: tuple[Visit, ...] = ()
    added_links: tuple[Link, ...] = ()
    cancelled: tuple[str, ...] = ()


@dataclass(frozen=True)
class Difference:
    """How a new plan differs from the old one, in a coordinator's terms."""

    moved: tuple[tuple[str, str, str], ...]
    retimed: tuple[tuple[str, int, int], ...]
    newly_unassigned: tuple[str, ...]
    newly_planned: tuple[str, ...]


def replan(
    problem: Problem,
    plan: Plan,
    change: Change,
    locked: tuple[tuple[str, str], ...] = (),
    seconds: float = 5.0,
    change_weight: int = 600,
    progress: Progress | None = None,
) -> tuple[Problem, Plan]:
    """The problem as it stands after ``change``, and a new plan for it."""
    cancelled = set(change.cancelled)
    frozen = tuple(
        (stop.visit, route.carer, stop.start)
        for route in plan.routes
        for stop in route.stops
        if stop.start < change.at and stop.visit not in cancelled
    )
    frozen_carer = {visit_id: carer_id for visit_id, carer_id, _ in frozen}
    missed: set[str] = set()
    visits = []
    for visit in (*problem.visits, *change.added):
        if visit.id in cancelled:
            continue
        if visit.id not in frozen_carer and visit.earliest < change.at:
            if visit.latest < change.at and not visit.soft_latest:
                # Its window closed before now and it has not started: it stays in
                # the day, unplaced, so the plan says it was missed.
                missed.add(visit.id)
            else:
                # Nothing not yet started can start in the past.
                visit = replace(visit, earliest=change.at, latest=max(visit.latest, change.at))
        visits.append(visit)
    carers = []
    for carer in problem.carers:
        route = plan.route(carer.id)
        taken = route.breaks if route is not None and route.stops else ()
        breaks = []
        for index, rule in enumerate(carer.breaks):
            if index < len(taken) and taken[index] < change.at:
                breaks.append(Break(taken[index], taken[index], rule.duration))
            else:
                breaks.append(
                    Break(max(rule.earliest, change.at), max(rule.latest, change.at), rule.duration)
                )
        carers.append(replace(carer, breaks=tuple(breaks)))
    links = tuple(
        link
        for link in (*problem.links, *change.added_links)
        if link.first not in cancelled and link.second not in cancelled
    )
    weights = replace(problem.weights, change=change_weight)
    new_problem = replace(
        problem, visits=tuple(visits), carers=tuple(carers), links=links, weights=weights
    )
    out = set(change.carers_out)
    locks = {v: c for v, c in locked if c not in out}
    allowed: dict[str, set[str]] = {}
    for visit in new_problem.visits:
        if visit.id in frozen_carer:
            allowed[visit.id] = {frozen_carer[visit.id]}
        elif visit.id in missed:
            allowed[visit.id] = set()
        elif visit.id in locks:
            allowed[visit.id] = {locks[visit.id]}
        else:
            allowed[visit.id] = {
                c.id for c in new_problem.carers if c.can_do(visit) and c.id not in out
            }
    start = _start_plan(new_problem, plan, allowed)
    repaired = repair(
        new_problem,
        start,
        allowed,
        {visit_id: begin for visit_id, _, begin in frozen},
        start.unassigned,
    )
    if progress is not None:
        progress(
            f"re-plan at {change.at // 3600:02d}:{change.at % 3600 // 60:02d}: "
            f"{len(frozen)} visits started and kept, {len(start.unassigned)} to place, "
            f"{len(start.unassigned) - len(repaired.unassigned)} put back by insertion"
        )
    if not check(new_problem, repaired).kinds() <= {"unassigned"}:
        repaired = start  # never hand the search a start it would have to repair
    fixed = Fixed(
        frozen=frozen,
        locked=tuple(locks.items()),
        unavailable=change.carers_out,
        previous=plan,
        unplaceable=tuple(sorted(missed)),
        start=repaired,
    )
    new_plan = solve(new_problem, seconds, engine="ortools", fixed=fixed, progress=progress)
    if len(new_plan.unassigned) > len(repaired.unassigned):
        # The search may trade a placed visit for less travel only at the price of
        # an unassigned visit, which it never should; keep the repaired start then.
        new_plan = replace(repaired, solver="repair", seconds=new_plan.seconds)
    return new_problem, new_plan


def _start_plan(problem: Problem, plan: Plan, allowed: dict[str, set[str]]) -> Plan:
    """The old plan without what can no longer stay: visits cancelled, visits of carers
    now out that have not started, visits locked to someone else, and the partner of any
    double-handed visit that had to go."""
    keep = {
        stop.visit: route.carer
        for route in plan.routes
        for stop in route.stops
        if route.carer in allowed.get(stop.visit, set())
    }
    for link in problem.links:
        if (link.first in keep) != (link.second in keep):
            keep.pop(link.first, None)
            keep.pop(link.second, None)
    routes = []
    for carer in problem.carers:
        route = plan.route(carer.id) or Route(carer.id, ())
        stops = tuple(s for s in route.stops if keep.get(s.visit) == carer.id)
        if stops != route.stops:
            route = _retime_ends(problem, carer.id, route, stops)
        routes.append(route)
    unassigned = tuple(v.id for v in problem.visits if v.id not in keep)
    return Plan(tuple(routes), unassigned, solver="start")


def _retime_ends(problem: Problem, carer_id: str, route: Route, stops: tuple) -> Route:
    """A run with some visits taken out: the same starts, leaving and getting back
    around what is left."""
    if not stops:
        return Route(carer_id, (), route.breaks)
    carer = problem.carer(carer_id)
    first, last = problem.visit(stops[0].visit), problem.visit(stops[-1].visit)
    depart = stops[0].start - problem.travel_time(
        carer.travel_mode, carer.start_location, first.location
    )
    back = (
        stops[-1].start
        + last.duration
        + problem.travel_time(carer.travel_mode, last.location, carer.end_location)
    )
    for rule, taken in zip(carer.breaks, route.breaks, strict=False):
        if taken >= stops[-1].start + last.duration:
            back = max(back, taken + rule.duration)
    return Route(carer_id, stops, route.breaks, min(depart, route.depart or depart), back)


def difference(old: Plan, new: Plan, tolerance: int = 15 * 60) -> Difference:
    """Visits moved to another carer, re-timed by more than ``tolerance``, dropped or added."""
    before, after = old.assignment(), new.assignment()
    moved = tuple(
        (visit, before[visit][0], after[visit][0])
        for visit in sorted(before.keys() & after.keys())
        if before[visit][0] != after[visit][0]
    )
    retimed = tuple(
        (visit, before[visit][1], after[visit][1])
        for visit in sorted(before.keys() & after.keys())
        if abs(before[visit][1] - after[visit][1]) > tolerance
    )
    return Difference(
        moved=moved,
        retimed=retimed,
        newly_unassigned=tuple(sorted(set(before) - set(after))),
        newly_planned=tuple(sorted(set(after) - set(before))),
    )


__all__ = ["Change", "Difference", "difference", "replan"]
