"""A small hand-made day that tests can reason about exactly.

Locations 0..5 on a line, 10 time units apart; carer A (car) has a hoist and
medication, carer B (car) a hoist, carer C walks and has no skills. Everything
starts at 0 and shifts end at 500.
"""

from __future__ import annotations

from dataclasses import replace

from vigil.planning import Break, Carer, Link, MatrixTravel, Plan, Problem, Route, Stop, Visit

LINE = [[abs(i - j) * 10 for j in range(6)] for i in range(6)]
WALK = [[abs(i - j) * 20 for j in range(6)] for i in range(6)]


def small_problem(**changes: object) -> Problem:
    visits = (
        Visit("v1", "p1", 1, 10, 60, 20, frozenset({"medication"})),
        Visit("v2", "p2", 2, 40, 120, 20),
        Visit("h1", "p3", 3, 100, 150, 30, frozenset({"hoist"})),
        Visit("h2", "p3", 3, 100, 150, 30, frozenset({"hoist"})),
        Visit("v3", "p4", 4, 25, 40, 10),
    )
    carers = (
        Carer(
            "A",
            0,
            0,
            0,
            500,
            frozenset({"hoist", "medication"}),
            max_work=400,
            breaks=(Break(200, 260, 30),),
        ),
        Carer("B", 0, 0, 0, 500, frozenset({"hoist"})),
        Carer("C", 5, 5, 0, 500, frozenset(), travel_mode="foot"),
    )
    problem = Problem(
        locations=tuple((float(i), 0.0) for i in range(6)),
        visits=visits,
        carers=carers,
        travel=MatrixTravel({"car": LINE, "foot": WALK}),
        links=(Link("h1", "h2", 0, 0),),
        name="small",
    )
    return replace(problem, **changes)


def good_plan() -> Plan:
    """A feasible plan for :func:`small_problem`, worked out by hand.

    A: leave 0, v1 at 10 (travel 10, done 30), v2 at 40 (done 60), h1 at 100 (done 130),
    home by 160, break at 200; B: h2 at 100 with A; C walks from 5 to v3 at 30 (20 each way).
    """
    return Plan(
        routes=(
            Route("A", (Stop("v1", 10), Stop("v2", 40), Stop("h1", 100)), (200,), 0, 260),
            Route("B", (Stop("h2", 100),), (), 70, 160),
            Route("C", (Stop("v3", 30),), (), 10, 60),
        )
    )
