"""The "nearest free carer" plan a coordinator makes by hand, as a baseline and a start.

Visits are taken in order of their earliest start; each goes to the qualified carer
who can be there soonest with the least travel (a double-handed visit to the best
pair of carers, starting when both can be there and the delay allows). Nothing is
ever moved once placed. The benchmark compares the optimiser with this, and the
OR-Tools solver starts its search from it: OR-Tools' own first-solution heuristics
insert one visit at a time and cannot place a synchronised pair.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vigil.planning.model import Carer, Link, Plan, Problem, Route, Stop, Visit


@dataclass
class _Run:
    carer: Carer
    location: int
    clock: int
    stops: list[Stop] = field(default_factory=list)
    breaks: list[int] = field(default_factory=list)
    depart: int | None = None


def greedy_plan(problem: Problem, runs: dict[str, _Run] | None = None) -> Plan:
    """Place every visit in time order on the nearest free qualified carer."""
    visits = {v.id: v for v in problem.visits}
    runs = runs or {c.id: _Run(c, c.start_location, c.shift_start) for c in problem.carers}
    placed = {s.visit for run in runs.values() for s in run.stops}
    linked: dict[str, Link] = {}
    for link in problem.links:
        linked[link.first] = linked[link.second] = link
    tasks: list[tuple[int, int, str]] = []
    for visit in problem.visits:
        if visit.id in placed:
            continue
        link = linked.get(visit.id)
        if link is not None and visit.id == link.second:
            continue
        tasks.append((visit.earliest, visit.latest, visit.id))
    unassigned: list[str] = []
    for _, _, visit_id in sorted(tasks):
        link = linked.get(visit_id)
        if link is None:
            if not _place_single(problem, runs, visits[visit_id]):
                unassigned.append(visit_id)
        elif not _place_pair(problem, runs, visits[link.first], visits[link.second], link):
            unassigned += [link.first, link.second]
    routes = []
    for run in runs.values():
        back = None
        if run.stops:
            last = visits[run.stops[-1].visit]
            home = problem.travel_time(run.carer.travel_mode, last.location, run.carer.end_location)
            back = run.clock + home
            for rule in run.carer.breaks[len(run.breaks) :]:
                start = max(run.clock, rule.earliest)
                run.breaks.append(start)
                if start <= back:  # taken on the way home
                    back += rule.duration
                    run.clock = start + rule.duration
        else:
            run.breaks = [rule.earliest for rule in run.carer.breaks]
        routes.append(Route(run.carer.id, tuple(run.stops), tuple(run.breaks), run.depart, back))
    return Plan(tuple(routes), tuple(unassigned), solver="greedy")


def _arrival(problem: Problem, run: _Run, visit: Visit) -> tuple[int, int, list[int]] | None:
    """Earliest start at ``visit`` for this run, travel to it, and breaks taken first."""
    carer = run.carer
    if not carer.can_do(visit):
        return None
    travel = problem.travel_time(carer.travel_mode, run.location, visit.location)
    clock = run.clock
    breaks: list[int] = []
    for rule in carer.breaks[len(run.breaks) :]:
        if (
            run.stops
            and clock + travel >= rule.earliest
            and max(clock, rule.earliest) <= rule.latest
        ):
            start = max(clock, rule.earliest)
            breaks.append(start)
            clock = start + rule.duration
        else:
            break
    pending = carer.breaks[len(run.breaks) + len(breaks) :]
    start = max(visit.earliest, clock + travel)
    if pending and run.stops and start > pending[0].latest:
        return None  # would miss a break
    return start, travel, breaks


def _fits(problem: Problem, run: _Run, visit: Visit, start: int, travel: int) -> bool:
    carer = run.carer
    if start > visit.latest and not visit.soft_latest:
        return False
    home = problem.travel_time(carer.travel_mode, visit.location, carer.end_location)
    back = start + visit.duration + home
    depart = run.depart if run.depart is not None else max(carer.shift_start, start - travel)
    if back > carer.shift_end:
        return False
    pending = sum(b.duration for b in carer.breaks[len(run.breaks) :])
    return carer.max_work is None or back + pending - depart <= carer.max_work


def _score(problem: Problem, visit: Visit, start: int, travel: int) -> float:
    late = max(0, start - visit.latest)
    weights = problem.weights
    return weights.travel * travel + max(weights.tardiness, 1) * late + 0.001 * start


def _commit(
    problem: Problem, run: _Run, visit: Visit, start: int, travel: int, breaks: list[int]
) -> None:
    if run.depart is None:
        run.depart = max(run.carer.shift_start, start - travel)
    run.breaks += breaks
    run.stops.append(Stop(visit.id, start))
    run.clock = start + visit.duration
    run.location = visit.location


def _place_single(problem: Problem, runs: dict[str, _Run], visit: Visit) -> bool:
    best = None
    for run in runs.values():
        found = _arrival(problem, run, visit)
        if found is None or not _fits(problem, run, visit, found[0], found[1]):
            continue
        score = _score(problem, visit, found[0], found[1])
        if best is None or score < best[0]:
            best = (score, run, found)
    if best is None:
        return False
    _, run, (start, travel, breaks) = best
    _commit(problem, run, visit, start, travel, breaks)
    return True


def _place_pair(
    problem: Problem, runs: dict[str, _Run], first: Visit, second: Visit, link: Link
) -> bool:
    options_a = [(r, _arrival(problem, r, first)) for r in runs.values()]
    options_b = [(r, _arrival(problem, r, second)) for r in runs.values()]
    best = None
    for run_a, found_a in options_a:
        if found_a is None:
            continue
        for run_b, found_b in options_b:
            if found_b is None or run_b is run_a:
                continue
            start_a = found_a[0]
            start_b = max(found_b[0], start_a + link.min_delay)
            start_a = max(start_a, start_b - link.max_delay)
            if not (
                _fits(problem, run_a, first, start_a, found_a[1])
                and _fits(problem, run_b, second, start_b, found_b[1])
            ):
                continue
            if found_a[2] and start_a > found_a[0]:
                continue  # keep breaks simple: no re-timing after a break
            score = _score(problem, first, start_a, found_a[1]) + _score(
                problem, second, start_b, found_b[1]
            )
            if best is None or score < best[0]:
                best = (score, run_a, run_b, start_a, start_b, found_a, found_b)
    if best is None:
        return False
    _, run_a, run_b, start_a, start_b, found_a, found_b = best
    _commit(problem, run_a, first, start_a, found_a[1], found_a[2])
    _commit(problem, run_b, second, start_b, found_b[1], found_b[2])
    return True


__all__ = ["greedy_plan"]
