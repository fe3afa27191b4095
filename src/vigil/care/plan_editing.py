"""What the plan page offers a coordinator to change, and which client an alert is for.

Kept apart from the routes (``plan_actions``) and the page (``plan_pages``) so both
can use it: the lists the forms choose from (visits not yet started, carers still
on, locks, open care alerts) and the mapping from an alert's home to a client of the
day's plan.
"""

from __future__ import annotations

import re
from typing import Any

from vigil.planning.book import DayRecord
from vigil.planning.edits import started
from vigil.planning.export import clock
from vigil.planning.model import Problem
from vigil.security import Permission, Principal, allows, queue_routes


def _natural(name: str) -> tuple[Any, ...]:
    """``c2`` before ``c10``."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def client_for(problem: Problem, home: str, homes: list[str]) -> str:
    """The client of the day's plan who lives in ``home``.

    A home that is itself a client of the plan is that client. Until visits are read
    from the store, the plan is the simulated council day, whose clients are not the
    registry's homes: then the n-th home (by id) stands for the n-th client (by id),
    so an alert on a home always adds its visit to the same client's door."""
    clients = sorted({v.client for v in problem.visits}, key=_natural)
    if home in clients:
        return home
    ordered = sorted(homes, key=_natural)
    index = ordered.index(home) if home in ordered else 0
    return clients[index % len(clients)]


def editing(
    principal: Principal, conditions: Any, record: DayRecord, at: int
) -> dict[str, Any] | None:
    """The choices of the page's change forms, or ``None`` for a role that may not plan."""
    if not allows(principal.role, Permission.PLAN):
        return None
    problem, plan = record.problem, record.plan
    begun = started(plan, at)
    where = plan.assignment()
    visits = [
        {
            "id": v.id,
            "label": f"{v.id} · {v.client} · "
            + (f"{where[v.id][0]} {clock(where[v.id][1])}" if v.id in where else "not placed"),
            "placed": v.id in where,
        }
        for v in problem.visits
        if v.id not in begun
    ]
    alerts = [
        {"id": row.id, "label": f"{row.entity}: {row.message}"}
        for row in conditions.open(principal.tenant, routes=queue_routes(principal.role), limit=100)
    ]
    return {
        "version": record.version,
        "visits": visits,
        "carers": [c.id for c in problem.carers if c.id not in record.out],
        "locks": [
            {
                "visit": item.visit,
                "carer": item.carer,
                "start": "" if item.start is None else clock(item.start),
            }
            for item in record.locks
        ],
        "clients": sorted({v.client for v in problem.visits}, key=_natural),
        "alerts": alerts,
        "now": clock(at) if at else "",
    }


__all__ = ["client_for", "editing"]
