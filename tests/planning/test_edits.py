"""A coordinator's lock, move and re-optimise: what stays, what moves, what is refused."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.planning.helpers import good_plan, small_problem
from vigil.planning import Plan, Problem, check, solve
from vigil.planning.codec import plan_from_json, plan_to_json, problem_from_json, problem_to_json
from vigil.planning.edits import (
    Lock,
    Refused,
    lock,
    move,
    partner,
    reoptimise,
    started,
    unlock,
    urgent_visit,
)
from vigil.planning.scenario import HOUR, council_day

AT = 10 * HOUR


@pytest.fixture(scope="module")
def day() -> tuple[Problem, Plan]:
    problem = council_day(visits=60, carers=8, seed=5)
    return problem, solve(problem, seconds=1.0)


def _carer_changes(old: Plan, new: Plan) -> int:
    """How many visits planned in both have another carer: the measure of "change little"."""
    before, after = old.assignment(), new.assignment()
    return sum(1 for v in before.keys() & after.keys() if before[v][0] != after[v][0])


def _single_later(problem: Problem, plan: Plan) -> list[tuple[str, str, int]]:
    """Placed visits after noon that are not double-handed: (visit, carer, start)."""
    return [
        (s.visit, r.carer, s.start)
        for r in plan.routes
        for s in r.stops
        if s.start >= 12 * HOUR and partner(problem, s.visit) is None
    ]


def _a_move(problem: Problem, plan: Plan) -> tuple[str, str, Plan, tuple[Lock, ...]]:
    """The first later single visit that some other carer can take."""
    for visit, carer, _ in _single_later(problem, plan):
        for other in (c.id for c in problem.carers if c.id != carer):
            try:
                moved, locks, _ = move(problem, plan, (), visit, other, None, AT)
            except Refused:
                continue
            return visit, other, moved, locks
    raise AssertionError("no visit of the fixture day can be moved")


def test_move_puts_the_visit_on_the_new_run_and_the_checker_accepts_it(day) -> None:
    """A moved visit is on the chosen carer's run, locked there, with a note that says
    the coordinator moved it; the plan passes the independent checker."""
    problem, plan = day
    visit, carer, moved, locks = _a_move(problem, plan)
    assert moved.assignment()[visit][0] == carer
    assert Lock(visit, carer) in locks
    assert check(problem, moved).kinds() <= {"unassigned"}
    assert _carer_changes(plan, moved) == 1


def test_reoptimise_keeps_locked_and_started_visits_and_changes_little(day) -> None:
    """After a lock and a move, re-optimising at 10:00 keeps every visit started before
    10:00 at its carer and start, the locked and the moved visit with their carers, and
    gives at most a few other visits another carer (a plan from scratch moves many)."""
    problem, plan = day
    visit, carer, moved, locks = _a_move(problem, plan)
    kept, kept_carer, _ = next(c for c in _single_later(problem, moved) if c[0] != visit)
    locks, _ = lock(problem, moved, locks, kept)
    new_problem, new, notes = reoptimise(problem, moved, locks, AT, seconds=1.0)
    after = new.assignment()
    begun = started(moved, AT)
    assert begun
    assert {v: after.get(v) for v in begun} == {v: moved.assignment()[v] for v in begun}
    assert after[visit][0] == carer
    assert after[kept][0] == kept_carer
    assert _carer_changes(moved, new) <= 3
    assert check(new_problem, new).kinds() <= {"unassigned"}
    assert {n.what for n in notes} <= {"moved", "retimed", "placed", "unplaced"}
    scratch = solve(problem, seconds=1.0)
    assert _carer_changes(moved, new) < _carer_changes(moved, scratch)


def test_a_move_with_a_time_is_pinned_through_reoptimising(day) -> None:
    """A visit moved to a carer at a time stays with that carer at that time when the
    rest is re-optimised."""
    problem, plan = day
    visit, carer, moved, _ = _a_move(problem, plan)
    start = moved.assignment()[visit][1]
    pinned, locks, _ = move(problem, plan, (), visit, carer, start, AT)
    assert Lock(visit, carer, start) in locks
    _, new, _ = reoptimise(problem, pinned, locks, AT, seconds=1.0)
    assert new.assignment()[visit] == (carer, start)


def test_moves_that_break_a_rule_are_refused_with_the_checkers_reason() -> None:
    """On the hand-made day: a medication visit to a carer without medication, a visit
    past its latest start, and half of a double-handed visit onto the carer who has the
    other half are each refused, naming the rule; a started visit cannot move at all."""
    problem, plan = small_problem(), good_plan()
    with pytest.raises(Refused, match="lacks medication"):
        move(problem, plan, (), "v1", "B", None, 0)
    with pytest.raises(Refused, match="after"):
        move(problem, plan, (), "v3", "B", 45, 0)
    with pytest.raises(Refused, match="both by B"):
        move(problem, plan, (), "h1", "B", None, 0)
    with pytest.raises(Refused, match="started"):
        move(problem, plan, (), "v1", "B", None, 20)
    with pytest.raises(Refused, match="has passed"):
        move(problem, plan, (), "v2", "B", 20, 30)


def test_a_move_that_fits_is_made_on_the_hand_made_day() -> None:
    """v2 moved from A to B at 40 fits B's run: the checker accepts the plan."""
    problem, plan = small_problem(), good_plan()
    moved, _locks, notes = move(problem, plan, (), "v2", "B", 40, 0)
    assert moved.assignment()["v2"] == ("B", 40)
    assert check(problem, moved).feasible
    assert [(n.visit, n.what) for n in notes] == [("v2", "moved")]


def test_lock_and_unlock_take_both_halves_of_a_double_handed_visit() -> None:
    """Locking h1 locks h2 with its own carer; unlocking either frees both."""
    problem, plan = small_problem(), good_plan()
    locks, _ = lock(problem, plan, (), "h1")
    assert set(locks) == {Lock("h1", "A"), Lock("h2", "B")}
    assert unlock(problem, plan, locks, "h2")[0] == ()
    with pytest.raises(Refused, match="not placed"):
        lock(problem, replace(plan, routes=plan.routes[:2]), (), "v3")


def test_an_urgent_visit_is_placed_and_explained(day) -> None:
    """An urgent welfare visit added at 10:00 to a client of the day is planned within two
    hours, and the change list says why it is there."""
    problem, plan = day
    urgent = urgent_visit(problem, problem.visits[0].client, AT)
    why = {urgent.id: "urgent welfare visit: no movement since 22:45"}
    _, new, notes = reoptimise(problem, plan, (), AT, 1.0, added=(urgent,), why_added=why)
    _carer, start = new.assignment()[urgent.id]
    assert AT <= start <= AT + 2 * HOUR
    note = next(n for n in notes if n.visit == urgent.id)
    assert (note.what, note.why) == ("placed", why[urgent.id])
    with pytest.raises(Refused, match="no visit today"):
        urgent_visit(problem, "nobody", AT)


def test_problem_and_plan_survive_encoding(day) -> None:
    """A stored problem and plan read back equal, and the checker finds the same cost."""
    problem, plan = day
    again = problem_from_json(problem_to_json(problem))
    assert again.visits == problem.visits and again.carers == problem.carers
    assert again.links == problem.links
    assert plan_from_json(plan_to_json(plan)) == plan
    assert check(again, plan).cost == check(problem, plan).cost


def _dropping(visit: str, times: int):  # type: ignore[no-untyped-def]
    """``replan`` that leaves ``visit`` out of its first ``times`` results, as a search
    cut short under load can."""
    from vigil.planning import edits

    calls: list[float] = []
    real = edits.replan

    def replan(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs["seconds"])
        new_problem, new_plan = real(*args, **kwargs)
        if len(calls) <= times:
            routes = tuple(
                replace(r, stops=tuple(s for s in r.stops if s.visit != visit))
                for r in new_plan.routes
            )
            new_plan = replace(new_plan, routes=routes)
        return new_problem, new_plan

    return replan, calls


def test_a_locked_visit_the_search_dropped_is_searched_for_again(day, monkeypatch) -> None:
    from vigil.planning import edits

    problem, plan = day
    visit, carer, moved, locks = _a_move(problem, plan)
    replan, calls = _dropping(visit, times=1)
    monkeypatch.setattr(edits, "replan", replan)
    _, new, _ = reoptimise(problem, moved, locks, AT, seconds=0.5)
    assert calls == [0.5, 1.0]  # once more, with twice the time
    assert new.assignment()[visit][0] == carer


def test_a_locked_visit_that_cannot_be_kept_refuses_the_change(day, monkeypatch) -> None:
    from vigil.planning import edits

    problem, plan = day
    visit, _, moved, locks = _a_move(problem, plan)
    replan, _ = _dropping(visit, times=2)
    monkeypatch.setattr(edits, "replan", replan)
    with pytest.raises(Refused, match="could not keep every locked visit") as refused:
        reoptimise(problem, moved, locks, AT, seconds=0.5)
    assert refused.value.violations == (f"{visit} would not be placed",)
