"""Solve a planning problem: OR-Tools routing for the full care model, PyVRP for plain VRPTW.

Why two engines (measured, see docs/planning.md): PyVRP's hybrid genetic search is
clearly the stronger VRPTW solver (on Solomon it lands within about 1% of the
best known in seconds, where OR-Tools' guided local search is a few per cent
away), but it has no way to tie the start times of two visits on two different
routes. OR-Tools' routing library does: every visit's start is a cumul variable of
a time dimension, so a double-handed visit becomes two visit nodes whose cumuls are
constrained (``start(b) - start(a)`` in ``[min, max]``) and whose vehicles must
differ; the constraint solver propagates these across routes during its local
search, so the synchronisation is genuine, not repaired afterwards. OR-Tools also
has shift windows, per-vehicle travel modes, break intervals, span limits (maximum
working time), soft latest starts (lateness), locks for visits already started,
and warm starts from a previous plan, all of which a care plan needs.

So :func:`solve` uses PyVRP when the problem is plain VRPTW (one travel mode; no
links, breaks, skills, soft windows or working-time limits) and OR-Tools
otherwise; ``engine`` forces one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from vigil.planning.checker import check
from vigil.planning.greedy import greedy_plan
from vigil.planning.model import Plan, PlanningError, Problem, Route, Stop
from vigil.planning.repair import repair

Engine = Literal["auto", "ortools", "pyvrp"]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Fixed:
    """What re-planning must keep: visits frozen at a carer and start (already started
    or done, as a prefix of that carer's run), visits locked to a carer, carers out,
    and the previous plan to stay close to."""

    frozen: tuple[tuple[str, str, int], ...] = ()
    locked: tuple[tuple[str, str], ...] = ()
    unavailable: tuple[str, ...] = ()
    previous: Plan | None = None
    unplaceable: tuple[str, ...] = ()
    """Visits no carer may take (their time window closed before the re-plan)."""
    start: Plan | None = None
    """Where the search starts (default: ``previous``, else the greedy plan)."""


def solve(
    problem: Problem,
    seconds: float = 10.0,
    engine: Engine = "auto",
    fixed: Fixed | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> Plan:
    """Plan ``problem`` within about ``seconds`` of search."""
    if engine == "auto":
        engine = "pyvrp" if fixed is None and _plain_vrptw(problem) else "ortools"
    if engine == "pyvrp":
        if not _plain_vrptw(problem) or fixed is not None:
            raise PlanningError("PyVRP handles plain VRPTW only; use engine='ortools'")
        return _solve_pyvrp(problem, seconds, seed)
    return _solve_ortools(problem, seconds, fixed or Fixed(), progress)


def _plain_vrptw(problem: Problem) -> bool:
    return (
        len({c.travel_mode for c in problem.carers}) == 1
        and not problem.links
        and all(not c.breaks and c.max_work is None and not c.skills for c in problem.carers)
        and all(
            not v.skills and not v.soft_latest and not v.excluded_carers for v in problem.visits
        )
        and problem.weights.max_tardiness == 0
    )


def _solve_ortools(
    problem: Problem, seconds: float, fixed: Fixed, progress: Progress | None
) -> Plan:
    """Required visits are first mandatory (OR-Tools then never trades a synchronised
    pair for its penalty); only if no plan exists are they made droppable, so the
    plan says which visits could not be placed rather than failing."""
    began = time.perf_counter()
    start = fixed.start or fixed.previous
    if start is None:
        start = greedy_plan(problem)
        if start.unassigned:
            # The greedy plan only ever appends to a run; inserting what it left out
            # into the middle of runs places many more before the slow search starts.
            allowed = {
                v.id: {
                    c.id for c in problem.carers if c.can_do(v) and c.id not in fixed.unavailable
                }
                for v in problem.visits
            }
            repaired = repair(problem, start, allowed, {}, start.unassigned)
            if check(problem, repaired).kinds() <= {"unassigned"}:
                start = repaired
    if progress is not None:
        progress(
            f"start plan: {sum(len(r.stops) for r in start.routes)} visits placed, "
            f"{len(start.unassigned)} not"
        )
    droppable = bool(start.unassigned) or fixed.previous is not None
    try:
        return _ortools_once(problem, seconds, fixed, progress, droppable, began, start)
    except PlanningError:
        if droppable:
            raise
        if progress is not None:
            progress("no plan with every visit placed; trying with visits left out")
        left = max(1.0, seconds - (time.perf_counter() - began))
        return _ortools_once(problem, left, fixed, progress, True, began, start)


def _ortools_once(
    problem: Problem,
    seconds: float,
    fixed: Fixed,
    progress: Progress | None,
    droppable: bool,
    began: float,
    initial_plan: Plan,
) -> Plan:
    visits, carers = problem.visits, problem.carers
    n_visits, n_carers = len(visits), len(carers)
    index_of = {visit.id: i for i, visit in enumerate(visits)}
    carer_of = {carer.id: k for k, carer in enumerate(carers)}
    # Nodes: the visits, then each carer's start, then each carer's end.
    place = np.array(
        [v.location for v in visits]
        + [c.start_location for c in carers]
        + [c.end_location for c in carers],
        dtype=np.int64,
    )
    service = np.array([v.duration for v in visits] + [0] * (2 * n_carers), dtype=np.int64)
    starts = [n_visits + k for k in range(n_carers)]
    ends = [n_visits + n_carers + k for k in range(n_carers)]
    manager = pywrapcp.RoutingIndexManager(len(place), n_carers, starts, ends)
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()
    horizon = max(c.shift_end for c in carers) + max((v.duration for v in visits), default=0)
    horizon = max(horizon, max((v.latest for v in visits), default=0)) * 2 + 1

    travel_cb: dict[str, int] = {}
    transit_cb: dict[str, int] = {}
    for mode in sorted({c.travel_mode for c in carers}):
        travel = problem.travel.matrix(mode)[np.ix_(place, place)]  # type: ignore[attr-defined]
        travel_cb[mode] = routing.RegisterTransitMatrix((travel * problem.weights.travel).tolist())
        transit_cb[mode] = routing.RegisterTransitMatrix((travel + service[:, None]).tolist())
    for k, carer in enumerate(carers):
        routing.SetArcCostEvaluatorOfVehicle(travel_cb[carer.travel_mode], k)
    routing.AddDimensionWithVehicleTransits(
        [transit_cb[c.travel_mode] for c in carers], horizon, horizon, False, "time"
    )
    clock = routing.GetDimensionOrDie("time")

    frozen_at = {visit_id: carer_id for visit_id, carer_id, _ in fixed.frozen}
    # A lock to a carer who is now out is released: whoever locked it did not know.
    locked_to = {v: c for v, c in fixed.locked if c in carer_of and c not in fixed.unavailable}
    unplaceable = set(fixed.unplaceable)
    allowed_of: dict[str, set[int]] = {}
    for i, visit in enumerate(visits):
        index = manager.NodeToIndex(i)
        latest = horizon if visit.soft_latest else visit.latest
        clock.CumulVar(index).SetRange(visit.earliest, max(visit.earliest, latest))
        if visit.soft_latest and problem.weights.tardiness:
            clock.SetCumulVarSoftUpperBound(index, visit.latest, problem.weights.tardiness)
        if visit.id in frozen_at:
            allowed = [carer_of[frozen_at[visit.id]]]
        elif visit.id in unplaceable:
            allowed = []
        elif visit.id in locked_to:
            allowed = [carer_of[locked_to[visit.id]]]
        else:
            allowed = [
                k for k, c in enumerate(carers) if c.can_do(visit) and c.id not in fixed.unavailable
            ]
        allowed_of[visit.id] = set(allowed)
        _allow(routing, index, allowed, n_carers)
        if not allowed and visit.required:
            routing.AddDisjunction([index], int(problem.weights.unassigned))
        elif not visit.required or droppable:
            penalty = problem.weights.unassigned if visit.required else visit.drop_penalty
            routing.AddDisjunction([index], int(penalty))
    break_vars: dict[int, list] = {}
    for k, carer in enumerate(carers):
        clock.CumulVar(routing.Start(k)).SetRange(carer.shift_start, carer.shift_end)
        clock.CumulVar(routing.End(k)).SetRange(carer.shift_start, carer.shift_end)
        if carer.max_work is not None:
            clock.SetSpanUpperBoundForVehicle(carer.max_work, k)
        if carer.breaks:
            transits = [0] * routing.Size()
            for index in range(routing.Size()):
                transits[index] = int(service[manager.IndexToNode(index)])
            intervals = [
                solver.FixedDurationIntervalVar(
                    b.earliest, b.latest, b.duration, False, f"b{k}_{j}"
                )
                for j, b in enumerate(carer.breaks)
            ]
            clock.SetBreakIntervalsOfVehicle(intervals, k, transits)
            break_vars[k] = intervals
        routing.AddVariableMaximizedByFinalizer(clock.CumulVar(routing.Start(k)))
        routing.AddVariableMinimizedByFinalizer(clock.CumulVar(routing.End(k)))

    for link in problem.links:
        a, b = manager.NodeToIndex(index_of[link.first]), manager.NodeToIndex(index_of[link.second])
        ca, cb = clock.CumulVar(a), clock.CumulVar(b)
        solver.Add(cb >= ca + link.min_delay)
        solver.Add(cb <= ca + link.max_delay)
        solver.Add(routing.ActiveVar(a) == routing.ActiveVar(b))
        different = solver.IsDifferentVar(routing.VehicleVar(a), routing.VehicleVar(b))
        solver.Add(different + (1 - routing.ActiveVar(a)) >= 1)

    capacities = [c.capacity for c in carers]
    if any(cap is not None for cap in capacities):
        demand = [v.demand for v in visits] + [0] * (2 * n_carers)
        bound = [cap if cap is not None else sum(demand) for cap in capacities]
        load = routing.RegisterUnaryTransitVector(demand)
        routing.AddDimensionWithVehicleCapacity(load, 0, bound, True, "load")

    if problem.weights.change and fixed.previous is not None:
        _penalise_changes(problem, routing, manager, fixed.previous, index_of)

    locks: list[list[int]] = [[] for _ in carers]
    for visit_id, carer_id, start in sorted(fixed.frozen, key=lambda f: (f[1], f[2])):
        index = manager.NodeToIndex(index_of[visit_id])
        routing.ActiveVar(index).SetValue(1)
        clock.CumulVar(index).SetValue(start)
        locks[carer_of[carer_id]].append(index)
    for k, chain in enumerate(locks):
        # Started visits are a fixed prefix of the carer's run.
        for a, b in zip([routing.Start(k), *chain], chain, strict=False):
            solver.Add(routing.NextVar(a) == b)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(max(1, int(seconds * 1000)))
    if progress is not None:
        found = [0]

        def report() -> None:
            found[0] += 1
            if found[0] in (1, 2, 5) or found[0] % 25 == 0:
                progress(f"solution {found[0]}: cost {routing.CostVar().Value():,}")

        routing.AddAtSolutionCallback(report)

    routing.CloseModelWithParameters(params)
    solution = None
    restoring = time.perf_counter()
    initial = routing.ReadAssignmentFromRoutes(
        _start_routes(problem, manager, fixed, initial_plan, index_of, carer_of, allowed_of),
        True,
    )
    restore_seconds = time.perf_counter() - restoring
    if initial is not None:
        # ReadAssignmentFromRoutes has just timed the start plan (the routes fixed,
        # every start time, break and slack found by the finalizer). The local search
        # does that same work again as its first step and for every neighbour it
        # tries, but under ``lns_time_limit`` (100 ms by default). On a 460-visit day
        # with breaks and synchronised pairs one such pass takes 0.2-0.3 s, so the
        # search gave up on the start plan at once (status ROUTING_FAIL), the
        # warm-start retry failed the same way, and the plan came from an
        # empty start, half the visits unassigned. Give each pass room to finish.
        lns = min(max(0.1, 4 * restore_seconds), max(0.1, seconds / 2))
        params.lns_time_limit.FromMilliseconds(int(lns * 1000))
        if progress is not None:
            progress(
                f"start plan accepted (restored in {restore_seconds:.2f} s; "
                f"{lns:.2f} s allowed per search step)"
            )
        kept = _extract(problem, routing, manager, clock, break_vars, initial, 0.0)
        solution = routing.SolveFromAssignmentWithParameters(initial, params)
        if solution is None:
            # The search reported nothing (out of time, or it could not rebuild the
            # start plan): the start plan itself is a valid assignment, so keep it.
            if progress is not None:
                progress("no better plan found in time; keeping the start plan")
            return replace(kept, seconds=time.perf_counter() - began)
    else:
        if progress is not None:
            progress("the start plan does not fit the model; OR-Tools builds its own")
        solution = routing.SolveWithParameters(params)
    if solution is None:
        raise PlanningError(
            f"OR-Tools found no plan for {problem.name!r} (status {routing.status()})"
        )
    return _extract(
        problem, routing, manager, clock, break_vars, solution, time.perf_counter() - began
    )


def _allow(routing, index: int, vehicles: list[int], n_carers: int) -> None:
    """Restrict a visit to some carers (``SetAllowedVehiclesForIndex``'s span argument
    does not bind in OR-Tools 9.15's Python wrapper, so remove the others' values)."""
    others = [k for k in range(n_carers) if k not in set(vehicles)]
    if others:
        routing.VehicleVar(index).RemoveValues(others)


def _penalise_changes(problem, routing, manager, previous: Plan, index_of) -> None:
    """A per-carer count of visits that carer takes over from someone else, charged
    through that carer's span cost: the cheapest way to make 'change little' a cost."""
    before = {visit: carer for visit, (carer, _) in previous.assignment().items()}
    vectors = []
    for carer in problem.carers:
        vector = [0] * (len(problem.visits) + 2 * len(problem.carers))
        for visit_id, owner in before.items():
            if owner != carer.id and visit_id in index_of:
                vector[index_of[visit_id]] = 1
        vectors.append(routing.RegisterUnaryTransitVector(vector))
    routing.AddDimensionWithVehicleTransits(vectors, 0, len(problem.visits) + 1, True, "changes")
    changes = routing.GetDimensionOrDie("changes")
    changes.SetSpanCostCoefficientForAllVehicles(problem.weights.change)


def _start_routes(
    problem, manager, fixed: Fixed, start: Plan, index_of, carer_of, allowed_of
) -> list[list[int]]:
    """The start plan as OR-Tools routes: a visit is left out where its carer may no
    longer take it (the carer is out and it has not started, it is now locked to
    someone else, it can no longer be placed), and so is the partner of any
    double-handed visit left out, since OR-Tools rejects a start plan with half a pair
    (``ReadAssignmentFromRoutes`` returns ``None``)."""
    keep: dict[str, str] = {}
    for route in start.routes:
        if route.carer not in carer_of:
            continue
        for stop in route.stops:
            if stop.visit in index_of and carer_of[route.carer] in allowed_of[stop.visit]:
                keep[stop.visit] = route.carer
    for link in problem.links:
        if (link.first in keep) != (link.second in keep):
            keep.pop(link.first, None)
            keep.pop(link.second, None)
    routes: list[list[int]] = [[] for _ in problem.carers]
    for route in start.routes:
        for stop in route.stops:
            if keep.get(stop.visit) == route.carer:
                routes[carer_of[route.carer]].append(manager.NodeToIndex(index_of[stop.visit]))
    return routes


def _extract(problem, routing, manager, clock, break_vars, solution, seconds: float) -> Plan:
    visits = problem.visits
    planned: set[str] = set()
    routes = []
    for k, carer in enumerate(problem.carers):
        stops = []
        index = routing.Start(k)
        depart = solution.Min(clock.CumulVar(index))
        index = solution.Value(routing.NextVar(index))
        while not routing.IsEnd(index):
            visit = visits[manager.IndexToNode(index)]
            stops.append(Stop(visit.id, solution.Min(clock.CumulVar(index))))
            planned.add(visit.id)
            index = solution.Value(routing.NextVar(index))
        back = solution.Min(clock.CumulVar(index))
        breaks: list[int] = []
        if carer.breaks:
            for interval in break_vars.get(k, []):
                breaks.append(solution.StartValue(interval))
        if not stops:
            depart = back = None
        routes.append(Route(carer.id, tuple(stops), tuple(breaks), depart, back))
    unassigned = tuple(v.id for v in visits if v.id not in planned)
    return Plan(tuple(routes), unassigned, float(solution.ObjectiveValue()), "ortools", seconds)


def _solve_pyvrp(problem: Problem, seconds: float, seed: int) -> Plan:
    import pyvrp
    from pyvrp.stop import MaxRuntime

    began = time.perf_counter()
    carers, visits = problem.carers, problem.visits
    depots = sorted({c.start_location for c in carers} | {c.end_location for c in carers})
    depot_of = {loc: d for d, loc in enumerate(depots)}
    matrix = problem.travel.matrix(carers[0].travel_mode)  # type: ignore[attr-defined]
    groups: dict[tuple[int, int, int, int, int], list[str]] = {}
    unbounded = sum(v.demand for v in visits)
    for carer in carers:
        capacity = carer.capacity if carer.capacity is not None else unbounded
        key = (
            carer.start_location,
            carer.end_location,
            carer.shift_start,
            carer.shift_end,
            capacity,
        )
        groups.setdefault(key, []).append(carer.id)
    data = pyvrp.ProblemData(
        locations=[pyvrp.Location(x=x, y=y) for x, y in problem.locations],
        clients=[
            pyvrp.Client(
                location=v.location,
                service_duration=v.duration,
                tw_early=v.earliest,
                tw_late=v.latest,
                delivery=[v.demand],
                required=v.required,
                prize=0 if v.required else v.drop_penalty,
            )
            for v in visits
        ],
        depots=[pyvrp.Depot(location=loc) for loc in depots],
        vehicle_types=[
            pyvrp.VehicleType(
                num_available=len(ids),
                start_depot=depot_of[start],
                end_depot=depot_of[end],
                tw_early=early,
                tw_late=late,
                capacity=[capacity],
                unit_distance_cost=problem.weights.travel,
            )
            for (start, end, early, late, capacity), ids in groups.items()
        ],
        distance_matrices=[matrix],
        duration_matrices=[matrix],
    )
    result = pyvrp.solve(data, stop=MaxRuntime(seconds), seed=seed, display=False)
    if not result.best.is_feasible():
        raise PlanningError(f"PyVRP found no feasible plan for {problem.name!r}")
    pool = [list(ids) for ids in groups.values()]
    routes = []
    for route in result.best.routes():
        carer_id = pool[route.vehicle_type()].pop(0)
        stops = tuple(
            Stop(visits[activity.idx].id, int(activity.start_time))
            for activity in route.schedule()
            if activity.is_client()
        )
        routes.append(Route(carer_id, stops, (), int(route.start_time()), int(route.end_time())))
    routes += [Route(carer_id, ()) for ids in pool for carer_id in ids]
    planned = {s.visit for r in routes for s in r.stops}
    unassigned = tuple(v.id for v in visits if v.id not in planned)
    seconds_used = time.perf_counter() - began
    return Plan(tuple(routes), unassigned, float(result.cost()), "pyvrp", seconds_used)


__all__ = ["Engine", "Fixed", "solve"]
