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

from vigil.planning.model import Break, Link, Plan, Problem, Visit
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
    frozen_ids = {visit_id for visit_id, _, _ in frozen}
    visits = []
    for visit in (*problem.visits, *change.added):
        if visit.id in cancelled:
            continue
        if visit.id not in frozen_ids and visit.earliest < change.at:
            # Nothing not yet started can start in the past.
            visit = replace(visit, earliest=change.at, latest=max(visit.latest, change.at))
            if (
                not visit.soft_latest
                and visit.latest == change.at
                and visit.earliest > visit.latest
            ):
                continue
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
    fixed = Fixed(frozen=frozen, locked=locked, unavailable=change.carers_out, previous=plan)
    new_plan = solve(new_problem, seconds, engine="ortools", fixed=fixed, progress=progress)
    return new_problem, new_plan


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
