"""Carer visit planning: the model, travel times, solver, independent checker, re-planning.

Domain-independent of the web and the store: a :class:`Problem` in, a :class:`Plan`
out, and :func:`check` to believe it. See docs/planning.md.
"""

from vigil.planning.checker import Report, Violation, check
from vigil.planning.greedy import greedy_plan
from vigil.planning.model import (
    Break,
    Carer,
    Link,
    Plan,
    PlanningError,
    Problem,
    Route,
    Stop,
    Visit,
    Weights,
)
from vigil.planning.replan import Change, Difference, difference, replan
from vigil.planning.solver import Fixed, solve
from vigil.planning.travel import CoordinateTravel, MatrixTravel, TravelTimes

__all__ = [
    "Break",
    "Carer",
    "Change",
    "CoordinateTravel",
    "Difference",
    "Fixed",
    "Link",
    "MatrixTravel",
    "Plan",
    "PlanningError",
    "Problem",
    "Report",
    "Route",
    "Stop",
    "TravelTimes",
    "Violation",
    "Visit",
    "Weights",
    "check",
    "difference",
    "greedy_plan",
    "replan",
    "solve",
]
