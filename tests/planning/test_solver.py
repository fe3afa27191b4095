"""The solver's plans pass the independent checker, double-handed visits included."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.planning.helpers import small_problem
from vigil.planning import Link, PlanningError, Visit, check, greedy_plan, solve
from vigil.planning.scenario import council_day


def test_small_day_is_planned_feasibly_with_a_synchronised_pair() -> None:
    """Every visit is placed, the checker finds nothing wrong, and the two hoist
    visits start at the same moment with two different carers."""
    problem = small_problem()
    plan = solve(problem, seconds=1.0)
    report = check(problem, plan)
    assert report.violations == []
    assert plan.unassigned == ()
    where = plan.assignment()
    assert where["h1"][1] == where["h2"][1]
    assert where["h1"][0] != where["h2"][0]
    assert where["v1"][0] == "A"  # the only carer with medication


def test_delayed_pair_respects_min_and_max_delay() -> None:
    """A pair with a delay of 40 to 50 after the first visit is planned inside it."""
    problem = small_problem(links=(Link("h1", "h2", 40, 50),))
    visits = tuple(replace(v, latest=300) if v.id == "h2" else v for v in problem.visits)
    problem = replace(problem, visits=visits)
    plan = solve(problem, seconds=1.0)
    assert check(problem, plan).violations == []
    where = plan.assignment()
    assert 40 <= where["h2"][1] - where["h1"][1] <= 50


def test_solver_cost_matches_checker_cost() -> None:
    """The solver's own objective equals the checker's recomputation (travel only here)."""
    problem = small_problem()
    plan = solve(problem, seconds=1.0)
    assert plan.cost == check(problem, plan).cost


def test_visit_nobody_can_do_is_reported_not_fatal() -> None:
    """A visit needing a skill no carer has is left out and named, the rest planned."""
    problem = small_problem()
    odd = Visit("x", "p9", 2, 0, 400, 10, frozenset({"dialysis"}))
    problem = replace(problem, visits=(*problem.visits, odd))
    plan = solve(problem, seconds=1.0)
    assert plan.unassigned == ("x",)
    assert check(problem, plan).kinds() == {"unassigned"}


def test_pyvrp_engine_refuses_synchronised_problems() -> None:
    """PyVRP cannot tie two routes together, so asking it to is an error, not a fake."""
    with pytest.raises(PlanningError):
        solve(small_problem(), seconds=0.5, engine="pyvrp")


def test_plain_vrptw_goes_to_pyvrp_and_is_feasible() -> None:
    """Without links, skills, breaks or limits the problem is plain VRPTW and PyVRP plans it."""
    problem = small_problem(links=())
    visits = tuple(replace(v, skills=frozenset()) for v in problem.visits)
    carers = tuple(
        replace(c, skills=frozenset(), breaks=(), max_work=None, travel_mode="car")
        for c in problem.carers
    )
    problem = replace(problem, visits=visits, carers=carers)
    plan = solve(problem, seconds=0.5)
    assert plan.solver == "pyvrp"
    assert check(problem, plan).violations == []


def test_council_day_beats_greedy_without_breaking_rules() -> None:
    """On a small simulated day the optimiser places at least as many visits as the
    greedy baseline, with less travel per visit, and breaks no working-time rule."""
    problem = council_day(visits=60, carers=8, seed=3)
    base = greedy_plan(problem)
    plan = solve(problem, seconds=3.0)
    report, base_report = check(problem, plan), check(problem, base)
    assert report.kinds() <= {"unassigned"}
    assert base_report.kinds() <= {"unassigned"}
    assert len(plan.unassigned) <= len(base.unassigned)
    placed = len(problem.visits) - len(plan.unassigned)
    base_placed = len(problem.visits) - len(base.unassigned)
    assert report.travel / placed < base_report.travel / base_placed
    for link in problem.links:
        where = plan.assignment()
        if link.first in where:
            assert where[link.first][1] == where[link.second][1]
