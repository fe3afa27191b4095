"""An independent feasibility and cost check of a plan.

Written apart from the solver and sharing nothing with it but the model, so that a
plan is believed because it was checked, not because the solver said so. It walks
each carer's run in time order and reports every broken rule in words:

- every visit planned at most once, required visits planned, unknown ids rejected;
- skills and excluded carers;
- time windows (a soft latest start costs lateness instead);
- travel: each visit starts after the previous one ended plus the travel between;
- shifts: leave no earlier than the shift start, back no later than its end;
- breaks: each taken in its window, not during a visit, with room in its gap;
- maximum working time from leaving to getting back, and capacity;
- synchronised pairs: both planned or neither, by two carers, delay within bounds.

The objective is recomputed from scratch: travel, total and maximum lateness, and
the charges for visits left out.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from vigil.planning.model import Carer, Plan, Problem, Route, Visit


@dataclass(frozen=True)
class Violation:
    """One broken rule: its kind (a stable word for tests) and what happened."""

    kind: str
    message: str


@dataclass
class Report:
    """What the checker found: the violations and the recomputed objective."""

    violations: list[Violation] = field(default_factory=list)
    travel: int = 0
    tardiness: int = 0
    max_tardiness: int = 0
    unassigned_required: int = 0
    dropped_penalty: int = 0
    cost: int = 0
    starts: dict[str, int] = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        """True when no rule is broken."""
        return not self.violations

    def kinds(self) -> set[str]:
        """The kinds of violation found."""
        return {violation.kind for violation in self.violations}

    def add(self, kind: str, message: str) -> None:
        self.violations.append(Violation(kind, message))


def check(problem: Problem, plan: Plan) -> Report:
    """Check ``plan`` against ``problem`` and recompute its cost."""
    report = Report()
    visits = {visit.id: visit for visit in problem.visits}
    carers = {carer.id: carer for carer in problem.carers}
    where: dict[str, str] = {}
    for route in plan.routes:
        if route.carer not in carers:
            report.add("unknown", f"route for unknown carer {route.carer!r}")
            continue
        for stop in route.stops:
            if stop.visit not in visits:
                report.add("unknown", f"unknown visit {stop.visit!r} on {route.carer}")
            elif stop.visit in where:
                report.add("duplicate", f"visit {stop.visit} planned twice")
            else:
                where[stop.visit] = route.carer
                report.starts[stop.visit] = stop.start
    for visit_id in plan.unassigned:
        if visit_id in where:
            report.add("duplicate", f"visit {visit_id} both planned and left out")
    for visit in problem.visits:
        if visit.id in where:
            continue
        if visit.required:
            report.unassigned_required += 1
            report.add("unassigned", f"required visit {visit.id} is not planned")
        else:
            report.dropped_penalty += visit.drop_penalty
    seen_routes: set[str] = set()
    for route in plan.routes:
        carer = carers.get(route.carer)
        if carer is None:
            continue
        if route.carer in seen_routes:
            report.add("duplicate", f"carer {route.carer} has two routes")
        seen_routes.add(route.carer)
        _check_route(problem, carer, route, visits, report)
    _check_links(problem, where, report)
    weights = problem.weights
    report.cost = (
        weights.travel * report.travel
        + weights.tardiness * report.tardiness
        + weights.max_tardiness * report.max_tardiness
        + weights.unassigned * report.unassigned_required
        + report.dropped_penalty
    )
    return report


def _check_route(
    problem: Problem, carer: Carer, route: Route, visits: dict[str, Visit], report: Report
) -> None:
    stops = [stop for stop in route.stops if stop.visit in visits]
    if not stops:
        return
    mode = carer.travel_mode
    matrix = problem.travel.matrix(mode)  # type: ignore[attr-defined]
    # Positions along the run: the start location, each visit, the end location.
    places = [carer.start_location, *(visits[s.visit].location for s in stops), carer.end_location]
    legs = [int(matrix[a, b]) for a, b in itertools.pairwise(places)]
    report.travel += sum(legs)
    load = sum(visits[s.visit].demand for s in stops)
    if carer.capacity is not None and load > carer.capacity:
        report.add("capacity", f"{carer.id} carries {load}, over {carer.capacity}")
    for stop in stops:
        visit = visits[stop.visit]
        if not carer.can_do(visit):
            missing = sorted(visit.skills - carer.skills)
            why = f"lacks {', '.join(missing)}" if missing else "is excluded"
            report.add("skill", f"{carer.id} cannot do {visit.id}: {why}")
        if stop.start < visit.earliest:
            report.add("early", f"{visit.id} starts at {stop.start}, before {visit.earliest}")
        late = max(0, stop.start - visit.latest)
        if late and not visit.soft_latest:
            report.add("late", f"{visit.id} starts at {stop.start}, after {visit.latest}")
        report.tardiness += late
        report.max_tardiness = max(report.max_tardiness, late)
    depart = route.depart if route.depart is not None else stops[0].start - legs[0]
    last = visits[stops[-1].visit]
    back = route.back if route.back is not None else stops[-1].start + last.duration + legs[-1]
    if depart < carer.shift_start:
        report.add("shift", f"{carer.id} leaves at {depart}, before the shift starts")
    if back > carer.shift_end:
        report.add("shift", f"{carer.id} is back at {back}, after the shift ends")
    if carer.max_work is not None and back - depart > carer.max_work:
        report.add("max_work", f"{carer.id} works {back - depart}, over {carer.max_work}")
    # Gaps between consecutive busy moments; breaks must fit in one of them.
    gaps: list[tuple[int, int, int]] = [(carer.shift_start, depart, 0)]
    previous_end = depart
    for index, stop in enumerate(stops):
        gaps.append((previous_end, stop.start, legs[index]))
        previous_end = stop.start + visits[stop.visit].duration
    gaps.append((previous_end, back, legs[-1]))
    gaps.append((back, carer.shift_end, 0))
    _check_breaks(carer, route, gaps, report)


def _check_breaks(
    carer: Carer, route: Route, gaps: list[tuple[int, int, int]], report: Report
) -> None:
    used = [0] * len(gaps)
    if len(route.breaks) != len(carer.breaks):
        report.add("break", f"{carer.id} takes {len(route.breaks)} of {len(carer.breaks)} breaks")
    taken = route.breaks if len(route.breaks) == len(carer.breaks) else ()
    for rule, start in zip(carer.breaks, taken, strict=False):
        if not rule.earliest <= start <= rule.latest:
            report.add("break", f"{carer.id}'s break at {start} is outside its window")
        end = start + rule.duration
        for index, (gap_start, gap_end, _travel) in enumerate(gaps):
            if gap_start <= start and end <= gap_end:
                used[index] += rule.duration
                break
        else:
            report.add("break", f"{carer.id}'s break at {start} overlaps a visit or the shift end")
    for index, (gap_start, gap_end, travel) in enumerate(gaps):
        if gap_end - gap_start < travel:
            report.add(
                "travel", f"{carer.id} cannot travel in time between {gap_start} and {gap_end}"
            )
        elif gap_end - gap_start < travel + used[index]:
            report.add("break", f"{carer.id} has no time for the travel and break at {gap_start}")


def _check_links(problem: Problem, where: dict[str, str], report: Report) -> None:
    for link in problem.links:
        planned = (link.first in where, link.second in where)
        if planned == (False, False):
            continue
        if planned != (True, True):
            report.add("link_partial", f"only one of {link.first}, {link.second} is planned")
            continue
        if where[link.first] == where[link.second]:
            report.add("link_carer", f"{link.first} and {link.second} both by {where[link.first]}")
        delay = report.starts[link.second] - report.starts[link.first]
        if not link.min_delay <= delay <= link.max_delay:
            report.add(
                "link_delay",
                f"{link.second} starts {delay} after {link.first}, "
                f"not within [{link.min_delay}, {link.max_delay}]",
            )


__all__ = ["Report", "Violation", "check"]
