"""A coordinator's changes to a day's plan: lock, move, re-optimise the rest, add an
urgent visit, each with a list of what changed and why.

A coordinator knows things the solver does not (Mrs P. only lets Sam in), so they
can **lock** a visit to its carer and **move** a visit to another carer or time; a
move is made by inserting the visit into the new run and re-timing that run, and is
kept only if the independent checker accepts the whole plan, otherwise it is
refused with the checker's words. **Re-optimising** re-plans the rest of the day
with :func:`vigil.planning.replan.replan`: visits already started (start before
``at``) stay where they are, locked visits stay with their carer (and at their time
when a move pinned one), and every visit given to another carer costs, so little
else changes. Every change comes back as :class:`Note` rows a coordinator can read.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from vigil.errors import InvalidRequest
from vigil.planning.checker import Report, Violation, _check_route, check
from vigil.planning.export import clock, reason
from vigil.planning.model import Plan, PlanningError, Problem, Route, Stop, Visit
from vigil.planning.repair import insert
from vigil.planning.replan import Change, difference, replan
from vigil.planning.solver import Progress

URGENT_WITHIN = 2 * 3600
URGENT_DURATION = 30 * 60


@dataclass(frozen=True)
class Lock:
    """A visit kept with ``carer`` when re-optimising (and at ``start`` if given)."""

    visit: str
    carer: str
    start: int | None = None


@dataclass(frozen=True)
class Note:
    """One line of "what changed and why": ``what`` is moved, retimed, placed,
    unplaced, locked or unlocked; ``before`` and ``after`` read like "carer03 09:15"."""

    visit: str
    what: str
    before: str
    after: str
    why: str


class Refused(PlanningError, InvalidRequest):
    """A change that cannot be made as asked; ``violations`` are the checker's words."""

    def __init__(self, reason: str, violations: Iterable[str] = ()) -> None:
        self.reason = reason
        self.violations = tuple(violations)
        detail = f" ({'; '.join(self.violations)})" if self.violations else ""
        super().__init__(reason + detail)


_NUMBER = re.compile(r"(?<![\w.-])(\d+)(?![\w.-])")


def plain(violation: Violation) -> str:
    """The checker's message with its seconds as clock times ("back at 20:48") or, for
    working time, hours ("works 9:48 h, over 8:00 h")."""

    def as_clock(found: re.Match[str]) -> str:
        return clock(int(found.group(1)))

    def as_hours(found: re.Match[str]) -> str:
        return clock(int(found.group(1))) + " h"

    if violation.kind == "capacity":
        return violation.message
    return _NUMBER.sub(as_hours if violation.kind == "max_work" else as_clock, violation.message)


def started(plan: Plan, at: int) -> set[str]:
    """Visits that have started by ``at``: they stay with their carer and start."""
    return {s.visit for r in plan.routes for s in r.stops if s.start < at}


def partner(problem: Problem, visit_id: str) -> str | None:
    """The other half of a double-handed visit, if it is one."""
    for link in problem.links:
        if visit_id == link.first:
            return link.second
        if visit_id == link.second:
            return link.first
    return None


def _where(plan: Plan, visit_id: str) -> str:
    found = plan.assignment().get(visit_id)
    return "not placed" if found is None else f"{found[0]} {clock(found[1])}"


def lock(
    problem: Problem, plan: Plan, locks: tuple[Lock, ...], visit_id: str
) -> tuple[tuple[Lock, ...], list[Note]]:
    """Keep a placed visit (both halves of a double-handed one) with its carer."""
    problem.visit(visit_id)
    where = plan.assignment()
    if visit_id not in where:
        raise Refused(f"{visit_id} is not placed: move it to a carer to place and lock it")
    kept = {item.visit: item for item in locks}
    notes = []
    for visit in filter(None, (visit_id, partner(problem, visit_id))):
        carer = where[visit][0]
        old = kept.get(visit)
        kept[visit] = Lock(visit, carer, old.start if old and old.carer == carer else None)
        notes.append(
            Note(visit, "locked", _where(plan, visit), _where(plan, visit), f"locked to {carer}")
        )
    return tuple(sorted(kept.values(), key=lambda item: item.visit)), notes


def unlock(
    problem: Problem, plan: Plan, locks: tuple[Lock, ...], visit_id: str
) -> tuple[tuple[Lock, ...], list[Note]]:
    """Let re-optimising move a visit (and its partner) again."""
    problem.visit(visit_id)
    gone = {visit_id, partner(problem, visit_id)}
    notes = [
        Note(item.visit, "unlocked", _where(plan, item.visit), _where(plan, item.visit), "unlocked")
        for item in locks
        if item.visit in gone
    ]
    return tuple(item for item in locks if item.visit not in gone), notes


def move(
    problem: Problem,
    plan: Plan,
    locks: tuple[Lock, ...],
    visit_id: str,
    carer_id: str,
    start: int | None,
    at: int,
) -> tuple[Plan, tuple[Lock, ...], list[Note]]:
    """The plan with ``visit_id`` on ``carer_id``'s run (at ``start`` if given), locked
    there; raises :class:`Refused` with the checker's reasons if that breaks a rule.

    A double-handed visit moves as one: its partner keeps its carer and moves to the
    same time. Without a time the visit goes where it adds least travel."""
    problem.visit(visit_id)
    problem.carer(carer_id)
    where = plan.assignment()
    begun = started(plan, at)
    other = partner(problem, visit_id)
    for v in filter(None, (visit_id, other)):
        if v in begun:
            raise Refused(f"{v} started at {clock(where[v][1])} and stays with {where[v][0]}")
    if start is not None and start < at:
        raise Refused(f"{clock(start)} has passed (now {clock(at)}): a visit moves only later")
    if other is not None and start is None and visit_id in where:
        start = where[visit_id][1]  # a new carer for one half keeps the pair together
    moves: dict[str, tuple[str, int | None]] = {visit_id: (carer_id, start)}
    if other is not None and other in where and start is not None:
        link = next(k for k in problem.links if visit_id in (k.first, k.second))
        delay = link.min_delay if visit_id == link.first else -link.min_delay
        moves[other] = (where[other][0], start + delay)
    candidate = _moved(problem, plan, moves, begun, fit=True) or _moved(
        problem, plan, moves, begun, fit=False
    )
    if candidate is None:
        candidate = _naive(problem, plan, moves)
    report = check(problem, candidate)
    broken = [plain(v) for v in report.violations if v.kind != "unassigned"]
    if broken:
        raise Refused(f"{visit_id} cannot go to {carer_id}", broken)
    new_locks = {item.visit: item for item in locks}
    after = candidate.assignment()
    for v, (carer, when) in moves.items():
        new_locks[v] = Lock(v, carer, after[v][1] if when is not None else None)
    why = {visit_id: "moved by the coordinator"}
    if other is not None:
        why[other] = f"double-handed with {visit_id}: moved with it"
    notes = explain(
        problem,
        plan,
        candidate,
        why=why,
        default=f"re-timed to make room for {visit_id}",
        tolerance=5 * 60,
    )
    return candidate, tuple(sorted(new_locks.values(), key=lambda item: item.visit)), notes


def _without(problem: Problem, route: Route, visit_id: str) -> Route:
    """A run with one visit taken out: the others keep their starts. Leaving and
    getting back close in around what is left if the checker accepts that run, else
    they stay as they were (a break may need the room the visit left)."""
    stops = tuple(s for s in route.stops if s.visit != visit_id)
    tight = _ends(problem, replace(route, stops=stops))
    report = Report()
    visits = {v.id: v for v in problem.visits}
    _check_route(problem, problem.carer(route.carer), tight, visits, report)
    if report.feasible or not stops:
        return tight
    return replace(route, stops=stops)


def _ends(problem: Problem, route: Route) -> Route:
    """Leaving and getting back around the run's visits and breaks as they stand."""
    if not route.stops:
        return Route(route.carer, (), route.breaks)
    carer = problem.carer(route.carer)
    first, last = problem.visit(route.stops[0].visit), problem.visit(route.stops[-1].visit)
    depart = route.stops[0].start - problem.travel_time(
        carer.travel_mode, carer.start_location, first.location
    )
    back = (
        route.stops[-1].start
        + last.duration
        + problem.travel_time(carer.travel_mode, last.location, carer.end_location)
    )
    for rule, taken in zip(carer.breaks, route.breaks, strict=False):
        depart = min(depart, taken)
        back = max(back, taken + rule.duration)
    return Route(route.carer, route.stops, route.breaks, depart, back)


def _moved(
    problem: Problem,
    plan: Plan,
    moves: dict[str, tuple[str, int | None]],
    begun: set[str],
    fit: bool,
) -> Plan | None:
    """Each moved visit inserted into its new run, or ``None``. With ``fit`` every
    visit already on that run keeps its start; otherwise only paired and started
    visits do, and the rest of the run may be re-timed."""
    routes = {r.carer: r for r in plan.routes}
    for visit_id in moves:
        for carer_id, route in routes.items():
            if any(s.visit == visit_id for s in route.stops):
                routes[carer_id] = _without(problem, route, visit_id)
    paired = {v for link in problem.links for v in (link.first, link.second)}
    for visit_id, (carer_id, start) in moves.items():
        route = routes[carer_id]
        pinned = {
            s.visit: s.start for s in route.stops if fit or s.visit in paired or s.visit in begun
        }
        placed = insert(problem, route, problem.visit(visit_id), start, pinned, begun)
        if placed is None:
            return None
        routes[carer_id] = placed
    return _with_routes(problem, plan, routes)


def _naive(problem: Problem, plan: Plan, moves: dict[str, tuple[str, int | None]]) -> Plan:
    """The move as asked, without looking for a fit: what the checker is shown when no
    fit exists, so the refusal names the rule it breaks."""
    routes = {r.carer: r for r in plan.routes}
    where = plan.assignment()
    for visit_id, (carer_id, start) in moves.items():
        for owner, route in routes.items():
            if any(s.visit == visit_id for s in route.stops):
                routes[owner] = _without(problem, route, visit_id)
        when = start if start is not None else where.get(visit_id, (None, None))[1]
        if when is None:
            when = problem.visit(visit_id).earliest
        route = routes[carer_id]
        stops = tuple(sorted((*route.stops, Stop(visit_id, when)), key=lambda s: s.start))
        routes[carer_id] = _ends(problem, replace(route, stops=stops))
    return _with_routes(problem, plan, routes)


def _with_routes(problem: Problem, plan: Plan, routes: dict[str, Route]) -> Plan:
    ordered = tuple(routes[r.carer] for r in plan.routes)
    placed = {s.visit for r in ordered for s in r.stops}
    return replace(
        plan,
        routes=ordered,
        unassigned=tuple(v.id for v in problem.visits if v.id not in placed),
        solver="coordinator",
    )


def reoptimise(
    problem: Problem,
    plan: Plan,
    locks: tuple[Lock, ...],
    at: int,
    seconds: float,
    added: tuple[Visit, ...] = (),
    out: tuple[str, ...] = (),
    why_added: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> tuple[Problem, Plan, list[Note]]:
    """Re-plan what has not started, keeping locks (and pinned times), changing little.

    Raises :class:`Refused` if the result fails the independent check."""
    pins = {item.visit: item.start for item in locks if item.start is not None}
    solver_problem = replace(
        problem,
        visits=tuple(
            replace(v, earliest=pins[v.id], latest=pins[v.id]) if v.id in pins else v
            for v in problem.visits
        ),
    )
    held = {item.visit for item in locks if item.carer not in out} & set(plan.assignment())
    for attempt in range(2):  # a short search can drop a locked visit: once more, longer
        new_problem, new_plan = replan(
            solver_problem,
            plan,
            Change(at=at, carers_out=out, added=added),
            locked=tuple((item.visit, item.carer) for item in locks),
            seconds=seconds * (attempt + 1),
            progress=progress,
        )
        dropped = sorted(held - set(new_plan.assignment()))
        if not dropped:
            break
    else:
        raise Refused(
            "re-optimising could not keep every locked visit on its carer; nothing changed",
            [f"{visit} would not be placed" for visit in dropped],
        )
    original = {v.id: v for v in problem.visits}
    new_problem = replace(
        new_problem,
        visits=tuple(_from(original[v.id], at) if v.id in pins else v for v in new_problem.visits),
    )
    report = check(new_problem, new_plan)
    broken = [plain(v) for v in report.violations if v.kind != "unassigned"]
    if broken:
        raise Refused("the re-optimised plan failed the independent check; nothing changed", broken)
    why = dict(why_added or {})
    notes = explain(new_problem, plan, new_plan, why=why, out=out, locks=locks)
    return new_problem, new_plan, notes


def _from(visit: Visit, at: int) -> Visit:
    """A pinned visit's own window back, as re-planning at ``at`` leaves windows."""
    if visit.earliest < at:
        return replace(visit, earliest=at, latest=max(visit.latest, at))
    return visit


def urgent_visit(
    problem: Problem,
    client: str,
    at: int,
    within: int = URGENT_WITHIN,
    duration: int = URGENT_DURATION,
) -> Visit:
    """A required welfare visit to ``client`` starting within ``within`` of ``at``."""
    home = next((v.location for v in problem.visits if v.client == client), None)
    if home is None:
        raise Refused(f"{client} has no visit today, so the plan does not know where they live")
    taken = {v.id for v in problem.visits}
    number = 1
    while f"urgent-{client}-{number}" in taken:
        number += 1
    return Visit(f"urgent-{client}-{number}", client, home, at, at + within, duration)


def _run_travel(problem: Problem, route: Route | None) -> int:
    if route is None or not route.stops:
        return 0
    carer = problem.carer(route.carer)
    places = [
        carer.start_location,
        *(problem.visit(s.visit).location for s in route.stops),
        carer.end_location,
    ]
    return sum(problem.travel_time(carer.travel_mode, a, b) for a, b in itertools.pairwise(places))


def explain(
    problem: Problem,
    old: Plan,
    new: Plan,
    why: dict[str, str] | None = None,
    default: str = "",
    out: tuple[str, ...] = (),
    locks: tuple[Lock, ...] = (),
    tolerance: int = 15 * 60,
) -> list[Note]:
    """What differs from ``old`` to ``new``, a line per visit, with the reason:
    ``why`` names the cause of some visits' change; carers out, locks and the runs'
    travel explain the rest. Starts that moved by ``tolerance`` or less are not listed."""
    why = why or {}
    diff = difference(old, new, tolerance=tolerance)
    locked = {item.visit: item.carer for item in locks}
    known = {v.id for v in problem.visits}

    def travel_change(carer: str) -> int:
        before = _run_travel(problem, _known(old, carer, known))
        return round((_run_travel(problem, new.route(carer)) - before) / 60)

    notes: list[Note] = []
    moved = set()
    for visit, before, after in diff.moved:
        moved.add(visit)
        if visit in why:
            reason_ = why[visit]
        elif before in out:
            reason_ = f"{before} is off today"
        elif locked.get(visit) == after:
            reason_ = f"locked to {after}"
        else:
            reason_ = (
                f"re-optimised: travel {travel_change(after):+d} min on {after}'s run, "
                f"{travel_change(before):+d} min on {before}'s"
            )
        notes.append(Note(visit, "moved", _where(old, visit), _where(new, visit), reason_))
    for visit, _, _ in diff.retimed:
        if visit in moved:
            continue
        carer = new.assignment()[visit][0]
        reason_ = why.get(visit) or default or f"re-timed with the other changes on {carer}'s run"
        notes.append(Note(visit, "retimed", _where(old, visit), _where(new, visit), reason_))
    for visit in diff.newly_planned:
        reason_ = why.get(visit) or f"now fits on {new.assignment()[visit][0]}'s run"
        notes.append(Note(visit, "placed", "not placed", _where(new, visit), reason_))
    added = sorted(set(new.unassigned) - set(old.unassigned) - set(old.assignment()))
    for visit in (*diff.newly_unassigned, *added):
        found = reason(problem, new, problem.visit(visit), out)
        reason_ = f"{why[visit]}; not placed: {found}" if visit in why else found
        notes.append(Note(visit, "unplaced", _where(old, visit), "not placed", reason_))
    return notes


def _known(plan: Plan, carer: str, known: set[str]) -> Route | None:
    """A carer's old run without visits the day no longer has."""
    route = plan.route(carer)
    if route is None:
        return None
    return replace(route, stops=tuple(s for s in route.stops if s.visit in known))


__all__ = [
    "Lock",
    "Note",
    "Refused",
    "explain",
    "lock",
    "move",
    "partner",
    "plain",
    "reoptimise",
    "started",
    "unlock",
    "urgent_visit",
]
