"""A problem and a plan as plain JSON values, and back, so a day's plan can be stored.

Stored plans must survive a restart exactly: the problem (with the windows and breaks
a re-plan has already narrowed) is kept with the plan, not rebuilt, because the day
may have gained urgent visits since it was first planned. Travel is stored by how it
is made (coordinates and speeds) or as its matrices.
"""

from __future__ import annotations

from typing import Any

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
from vigil.planning.travel import CoordinateTravel, MatrixTravel

Json = dict[str, Any]


def _visit(visit: Visit) -> Json:
    return {
        **visit.__dict__,
        "skills": sorted(visit.skills),
        "preferred_carers": sorted(visit.preferred_carers),
        "excluded_carers": sorted(visit.excluded_carers),
    }


def _carer(carer: Carer) -> Json:
    return {
        **carer.__dict__,
        "skills": sorted(carer.skills),
        "breaks": [b.__dict__ for b in carer.breaks],
    }


def _travel(travel: object) -> Json:
    if isinstance(travel, CoordinateTravel):
        return {
            "kind": "coordinates",
            "speeds": travel.speeds,
            "detour": travel.detour,
            "unit": travel.unit,
        }
    if isinstance(travel, MatrixTravel):
        return {"kind": "matrix", "matrices": {m: a.tolist() for m, a in travel.matrices.items()}}
    raise PlanningError(f"cannot store travel times of type {type(travel).__name__}")


def problem_to_json(problem: Problem) -> Json:
    """The problem as plain values (lists, dicts, numbers, strings)."""
    return {
        "name": problem.name,
        "locations": [list(p) for p in problem.locations],
        "visits": [_visit(v) for v in problem.visits],
        "carers": [_carer(c) for c in problem.carers],
        "links": [link.__dict__ for link in problem.links],
        "weights": problem.weights.__dict__,
        "travel": _travel(problem.travel),
    }


def problem_from_json(body: Json) -> Problem:
    """The problem :func:`problem_to_json` wrote."""
    locations = tuple((float(x), float(y)) for x, y in body["locations"])
    travel_body = body["travel"]
    travel: object
    if travel_body["kind"] == "coordinates":
        travel = CoordinateTravel(
            locations, travel_body["speeds"], travel_body["detour"], travel_body["unit"]
        )
    else:
        travel = MatrixTravel(travel_body["matrices"])
    visits = tuple(
        Visit(
            **{
                **v,
                "skills": frozenset(v["skills"]),
                "preferred_carers": frozenset(v["preferred_carers"]),
                "excluded_carers": frozenset(v["excluded_carers"]),
            }
        )
        for v in body["visits"]
    )
    carers = tuple(
        Carer(
            **{
                **c,
                "skills": frozenset(c["skills"]),
                "breaks": tuple(Break(**b) for b in c["breaks"]),
            }
        )
        for c in body["carers"]
    )
    return Problem(
        locations=locations,
        visits=visits,
        carers=carers,
        travel=travel,
        links=tuple(Link(**link) for link in body["links"]),
        weights=Weights(**body["weights"]),
        name=body["name"],
    )


def plan_to_json(plan: Plan) -> Json:
    """The plan as plain values."""
    return {
        "routes": [
            {
                "carer": r.carer,
                "stops": [[s.visit, s.start] for s in r.stops],
                "breaks": list(r.breaks),
                "depart": r.depart,
                "back": r.back,
            }
            for r in plan.routes
        ],
        "unassigned": list(plan.unassigned),
        "cost": plan.cost,
        "solver": plan.solver,
        "seconds": plan.seconds,
        "notes": list(plan.notes),
    }


def plan_from_json(body: Json) -> Plan:
    """The plan :func:`plan_to_json` wrote."""
    return Plan(
        routes=tuple(
            Route(
                r["carer"],
                tuple(Stop(v, int(t)) for v, t in r["stops"]),
                tuple(r["breaks"]),
                r["depart"],
                r["back"],
            )
            for r in body["routes"]
        ),
        unassigned=tuple(body["unassigned"]),
        cost=body["cost"],
        solver=body["solver"],
        seconds=body["seconds"],
        notes=tuple(body["notes"]),
    )


__all__ = ["plan_from_json", "plan_to_json", "problem_from_json", "problem_to_json"]
