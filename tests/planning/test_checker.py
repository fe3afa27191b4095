"""The independent checker accepts a correct plan and rejects each broken rule once."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.planning.helpers import good_plan, small_problem
from vigil.planning import Break, Carer, Link, Plan, Route, Stop, check


def _with_route(plan: Plan, route: Route) -> Plan:
    return replace(plan, routes=tuple(route if r.carer == route.carer else r for r in plan.routes))


def test_hand_made_plan_is_feasible_and_costed_exactly() -> None:
    """The plan worked out by hand passes, and the travel is recomputed leg by leg:
    A 0-1-2-3-0 = 60, B 0-3-0 = 60, C walks 5-4-5 = 40."""
    report = check(small_problem(), good_plan())
    assert report.violations == []
    assert (report.travel, report.tardiness, report.max_tardiness) == (160, 0, 0)
    assert report.cost == 160


BROKEN = {
    "early": lambda p: _with_route(p, Route("C", (Stop("v3", 20),), (), 0, 50)),
    "late": lambda p: _with_route(p, Route("C", (Stop("v3", 50),), (), 30, 80)),
    "travel": lambda p: _with_route(
        p, Route("A", (Stop("v1", 10), Stop("v2", 31), Stop("h1", 100)), (200,), 0, 260)
    ),
    "shift": lambda p: _with_route(p, Route("B", (Stop("h2", 100),), (), 70, 600)),
    "break": lambda p: _with_route(
        p, Route("A", (Stop("v1", 10), Stop("v2", 40), Stop("h1", 100)), (120,), 0, 260)
    ),
    "link_delay": lambda p: _with_route(p, Route("B", (Stop("h2", 110),), (), 70, 170)),
    "link_partial": lambda p: replace(_with_route(p, Route("B", (), ())), unassigned=("h2",)),
    "unassigned": lambda p: replace(_with_route(p, Route("C", (), ())), unassigned=("v3",)),
    "duplicate": lambda p: _with_route(
        p, Route("B", (Stop("h2", 100), Stop("v2", 140)), (), 70, 180)
    ),
    "unknown": lambda p: _with_route(p, Route("C", (Stop("zz", 20),), (), 0, 40)),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_each_broken_rule_is_reported_by_kind(kind: str) -> None:
    """Breaking one rule of the hand-made plan is reported with exactly that kind."""
    report = check(small_problem(), BROKEN[kind](good_plan()))
    assert kind in report.kinds(), report.violations
    assert not report.feasible


def test_link_by_one_carer_is_rejected() -> None:
    """Both halves of a double-handed visit by the same carer is not double-handed."""
    problem = small_problem(links=(Link("v1", "v2", 0, 300),))
    assert check(problem, good_plan()).kinds() == {"link_carer"}


def test_max_work_is_enforced() -> None:
    """A run longer than the carer's maximum working time is rejected."""
    problem = small_problem()
    short = tuple(replace(c, max_work=100) if c.id == "A" else c for c in problem.carers)
    report = check(replace(problem, carers=short), good_plan())
    assert report.kinds() == {"max_work"}


def test_capacity_is_enforced() -> None:
    """Demand over a carer's capacity is rejected (vehicle-routing instances use it)."""
    problem = small_problem()
    visits = tuple(replace(v, demand=5) for v in problem.visits)
    carers = tuple(replace(c, capacity=10) for c in problem.carers)
    report = check(replace(problem, visits=visits, carers=carers), good_plan())
    assert report.kinds() == {"capacity"}


def test_soft_latest_costs_lateness_instead_of_failing() -> None:
    """With soft latest starts a late visit is feasible and its lateness is summed and maxed."""
    problem = small_problem()
    visits = tuple(replace(v, soft_latest=True) for v in problem.visits)
    plan = BROKEN["late"](good_plan())
    report = check(replace(problem, visits=visits), plan)
    assert report.feasible, report.violations
    assert (report.tardiness, report.max_tardiness) == (10, 10)


def test_break_missing_is_rejected() -> None:
    """A carer who works without taking their break is rejected."""
    plan = _with_route(
        good_plan(), Route("A", (Stop("v1", 10), Stop("v2", 40), Stop("h1", 100)), (), 0, 260)
    )
    assert check(small_problem(), plan).kinds() == {"break"}


def test_break_needs_room_for_travel_too() -> None:
    """A break squeezed between two visits must leave time for the travel between them."""
    problem = small_problem()
    carers = (
        Carer("A", 0, 0, 0, 500, frozenset({"hoist", "medication"}), breaks=(Break(30, 60, 20),)),
        *problem.carers[1:],
    )
    plan = _with_route(
        good_plan(), Route("A", (Stop("v1", 10), Stop("v2", 50), Stop("h1", 100)), (30,), 0, 160)
    )
    assert check(replace(problem, carers=carers), plan).kinds() == {"break"}


def test_missing_skill_is_rejected() -> None:
    """A visit that needs a hoist, given to a carer without one, is rejected."""
    problem = small_problem()
    visits = tuple(
        replace(v, skills=frozenset({"hoist"})) if v.id == "v3" else v for v in problem.visits
    )
    report = check(replace(problem, visits=visits), good_plan())
    assert report.kinds() == {"skill"}


def test_excluded_carer_is_rejected() -> None:
    """A carer the client has asked not to see is rejected even with every skill."""
    problem = small_problem()
    visits = tuple(
        replace(v, excluded_carers=frozenset({"C"})) if v.id == "v3" else v for v in problem.visits
    )
    assert check(replace(problem, visits=visits), good_plan()).kinds() == {"skill"}
