"""Re-planning keeps started visits and locks, and moves little else."""

from __future__ import annotations

import pytest

from vigil.planning import Visit, check, solve
from vigil.planning.replan import Change, difference, replan
from vigil.planning.scenario import HOUR, council_day


@pytest.fixture(scope="module")
def day():
    problem = council_day(visits=60, carers=8, seed=5)
    return problem, solve(problem, seconds=3.0)


def _busiest(plan) -> str:
    return max(plan.routes, key=lambda r: sum(1 for s in r.stops if s.start >= 10 * HOUR)).carer


def test_carer_out_keeps_started_visits_and_gets_nothing_new(day) -> None:
    """After a carer drops out at 10:00: every visit started before 10:00 keeps its carer
    and start; the carer out gets no visit starting later; the plan passes the checker."""
    problem, plan = day
    out = _busiest(plan)
    after, new = replan(problem, plan, Change(at=10 * HOUR, carers_out=(out,)), seconds=2.0)
    started = {
        s.visit: (r.carer, s.start) for r in plan.routes for s in r.stops if s.start < 10 * HOUR
    }
    assert started, "the fixture should have visits before 10:00"
    now = new.assignment()
    assert {v: now.get(v) for v in started} == started
    assert all(s.start < 10 * HOUR for s in new.route(out).stops)
    assert check(after, new).kinds() <= {"unassigned"}


def test_locked_visit_stays_with_its_carer(day) -> None:
    """A visit locked to a carer stays with that carer after re-planning."""
    problem, plan = day
    later = [(s.visit, r.carer) for r in plan.routes for s in r.stops if s.start >= 12 * HOUR]
    visit_id, carer_id = later[0]
    out = next(r.carer for r in plan.routes if r.carer != carer_id and r.stops)
    _, new = replan(
        problem,
        plan,
        Change(at=10 * HOUR, carers_out=(out,)),
        locked=((visit_id, carer_id),),
        seconds=2.0,
    )
    assert new.assignment()[visit_id][0] == carer_id


def test_urgent_visit_is_added_and_little_else_moves(day) -> None:
    """An urgent welfare visit added at 10:00 is planned, and most of the other
    visits keep their carer."""
    problem, plan = day
    client = problem.visits[0]
    urgent = Visit("urgent", client.client, client.location, 10 * HOUR, 11 * HOUR, 20 * 60)
    after, new = replan(problem, plan, Change(at=10 * HOUR, added=(urgent,)), seconds=2.0)
    assert "urgent" in new.assignment()
    assert check(after, new).kinds() <= {"unassigned"}
    diff = difference(plan, new)
    assert len(diff.moved) <= len(problem.visits) // 4
    assert "urgent" in diff.newly_planned
