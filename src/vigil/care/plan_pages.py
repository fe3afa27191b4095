"""The carer plan pages: roster board, run maps, visits not placed, CSV and calendar.

A council's coordinator opens ``/plan?date=YYYY-MM-DD``: a roster board (carers x
time, visits as blocks) and a map of every carer's run, both inline SVG drawn
from the plan's times and coordinates (no script, no map tiles: care networks are
often closed), the visits that could not be placed with the reason, and the plan
as CSV. ``/plan/carers/{carer}`` is one carer's run sized for a phone, with the
run as an iCalendar file.

A day's plan is stored (``vigil.planning.book``): made on first request, then
changed by coordinators (``vigil.care.plan_editing``), every version kept, so every
page and every process shows the same plan, after a restart too. Until visits and
carers are read from the store, the first plan is made from the simulated council
day seeded by tenant and date (``vigil.planning.command``) and the page says so.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Protocol

from cachetools import LRUCache
from fastapi import APIRouter, Depends, Query, Request, Response

from vigil.care.plan_drawing import board, colour, run_map
from vigil.care.plan_editing import editing
from vigil.errors import InvalidRequest, NotFound
from vigil.planning.book import DayRecord, PlanBook, seconds_into
from vigil.planning.command import day_problem
from vigil.planning.export import clock, reasons, rows, summary, to_csv, to_ics
from vigil.planning.model import Plan, Problem
from vigil.planning.solver import solve
from vigil.security import Principal
from vigil.web.api import Conditions, Documents, Now, PageRoute, Pages, Reader, Registry

PAGES = Pages(Path(__file__).with_name("templates"))


@dataclass(frozen=True)
class DayPlan:
    """A day's problem, its plan, and where the plan came from (said on the page)."""

    problem: Problem
    plan: Plan
    origin: str


class PlanSource(Protocol):
    """Where a day's first plan comes from (then it is stored and changed there);
    ``seconds`` is also the search time of a re-optimisation."""

    seconds: float

    def day(self, tenant: str, day: dt.date) -> DayPlan: ...


@dataclass
class SimulatedPlans:
    """Plans of the simulated council day, made on first request and kept."""

    seconds: float = 3.0
    problem_for: Callable[[str, dt.date], Problem] = day_problem
    _cache: LRUCache = field(default_factory=lambda: LRUCache(maxsize=16))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def day(self, tenant: str, day: dt.date) -> DayPlan:
        with self._lock:  # one solve at a time; a second request waits for the first
            key = (tenant, day)
            if key not in self._cache:
                problem = self.problem_for(tenant, day)
                plan = solve(problem, self.seconds)
                self._cache[key] = DayPlan(
                    problem,
                    plan,
                    "This plan is for the simulated council day (seeded by council and date): "
                    "visits and carers are not yet read from the store.",
                )
            return self._cache[key]


PLANS: PlanSource = SimulatedPlans()


def get_plans() -> PlanSource:
    """The plan source (a module attribute, so a test or deployment can replace it)."""
    return PLANS


Plans = Annotated[PlanSource, Depends(get_plans)]


async def get_book(documents: Documents, plans: Plans, now: Now) -> PlanBook:
    """The council's stored plans: the first plan of a day comes from ``PLANS``."""
    return PlanBook(documents, plans, seconds=plans.seconds, clock=lambda: now)


Book = Annotated[PlanBook, Depends(get_book)]

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _day(value: str | None, now: float) -> dt.date:
    if not value:
        return dt.datetime.fromtimestamp(now, dt.UTC).date()
    try:
        return dt.date.fromisoformat(value)
    except ValueError as err:
        raise InvalidRequest(f"not a date (YYYY-MM-DD): {value!r}") from err


def _council(registry: Any, principal: Any) -> None:
    if registry.tenant(principal.tenant).kind != "council":
        raise NotFound("carer plans are made for councils")


DateQuery = Annotated[str | None, Query(alias="date")]


@router.get("/plan")
def plan_page(
    request: Request,
    registry: Registry,
    conditions: Conditions,
    now: Now,
    principal: Reader,
    book: Book,
    date: DateQuery = None,
) -> Response:
    """The coordinator's view of a day: board, map, visits not placed, runs, what the
    last change did and why, and (for a coordinator) the forms that change it."""
    day, found = _day_plan(registry, principal, book, date, now)
    return render_plan(request, principal, conditions, book, day, found, now)


def render_plan(
    request: Request,
    principal: Principal,
    conditions: Any,
    book: PlanBook,
    day: dt.date,
    found: DayRecord,
    now: float,
    refused: str | None = None,
    status_code: int = 200,
) -> Response:
    """The plan page; ``refused`` says why the change just asked for was not made."""
    problem, plan = found.problem, found.plan
    why = reasons(problem, plan, found.out)
    table = rows(problem, plan)
    runs = []
    for index, route in enumerate(plan.routes):
        carer = problem.carer(route.carer)
        mine = [r for r in table if r.carer == route.carer]
        runs.append(
            {
                "carer": route.carer,
                "colour": colour(index, len(plan.routes)),
                "mode": carer.travel_mode,
                "shift": f"{clock(carer.shift_start)}-{clock(carer.shift_end)}",
                "visits": len(mine),
                "travel": round(sum(r.travel for r in mine) / 60),
                "leave": clock(route.depart),
                "back": clock(route.back),
                "out": route.carer in found.out,
            }
        )
    unplaced = [
        {
            "visit": v,
            "client": problem.visit(v).client,
            "window": f"{clock(problem.visit(v).earliest)}-{clock(problem.visit(v).latest)}",
            "why": why[v],
        }
        for v in plan.unassigned
    ]
    return PAGES.render(
        request,
        principal,
        "plan.html",
        status_code=status_code,
        title=f"Carer plan {day.isoformat()}",
        day=day.isoformat(),
        origin=found.origin,
        facts=summary(problem, plan),
        board=board(problem, plan, {item.visit for item in found.locks}),
        map=run_map(problem, plan),
        runs=runs,
        unplaced=unplaced,
        solver=plan.solver,
        record=found,
        history=book.history(principal.tenant, day),
        editing=editing(principal, conditions, found, seconds_into(day, now)),
        refused=refused,
    )


@router.get("/plan/export.csv")
def plan_csv(
    registry: Registry, now: Now, principal: Reader, book: Book, date: DateQuery = None
) -> Response:
    """The day's plan as CSV, one row per visit (placed or not)."""
    day, found = _day_plan(registry, principal, book, date, now)
    return Response(
        to_csv(found.problem, found.plan),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="plan-{principal.tenant}-{day}.csv"'
        },
    )


def _day_plan(
    registry: Any, principal: Any, book: PlanBook, date: str | None, now: float
) -> tuple[dt.date, DayRecord]:
    """The day a request asks for (today by default) and the council's stored plan."""
    _council(registry, principal)
    day = _day(date, now)
    return day, book.day(principal.tenant, day)


def _carer(found: DayRecord, carer_id: str) -> None:
    if found.plan.route(carer_id) is None:
        raise NotFound(f"no carer {carer_id!r} in this plan")


@router.get("/plan/carers/{carer_id}")
def carer_page(
    request: Request,
    carer_id: str,
    registry: Registry,
    now: Now,
    principal: Reader,
    book: Book,
    date: DateQuery = None,
) -> Response:
    """One carer's run for the day, for a phone: where, when, what, with whom."""
    day, found = _day_plan(registry, principal, book, date, now)
    _carer(found, carer_id)
    problem, plan = found.problem, found.plan
    carer = problem.carer(carer_id)
    route = plan.route(carer_id)
    steps: list[dict[str, Any]] = []
    for row in (r for r in rows(problem, plan) if r.carer == carer_id):
        notes = []
        if row.skills:
            notes.append("needs " + ", ".join(row.skills))
        if row.partner:
            notes.append(f"with {row.partner} (double-handed)")
        steps.append(
            {
                "kind": "visit",
                "start": row.start,
                "time": f"{clock(row.start)}-{clock(row.end)}",
                "client": row.client,
                "travel": round(row.travel / 60),
                "window": f"{clock(row.earliest)}-{clock(row.latest)}",
                "notes": notes,
            }
        )
    for rule, start in zip(carer.breaks, route.breaks if route.stops else (), strict=False):
        steps.append(
            {
                "kind": "break",
                "start": start,
                "time": f"{clock(start)}-{clock(start + rule.duration)}",
            }
        )
    steps.sort(key=lambda step: step["start"])
    return PAGES.render(
        request,
        principal,
        "plan_carer.html",
        title=f"{carer_id} {day.isoformat()}",
        day=day.isoformat(),
        carer=carer,
        route=route,
        leave=clock(route.depart),
        back=clock(route.back),
        steps=steps,
        map=run_map(problem, plan, only=carer_id),
        origin=found.origin,
    )


@router.get("/plan/carers/{carer_id}/run.ics")
def carer_calendar(
    carer_id: str,
    registry: Registry,
    now: Now,
    principal: Reader,
    book: Book,
    date: DateQuery = None,
) -> Response:
    """One carer's run as an iCalendar file (an event per visit and break)."""
    day, found = _day_plan(registry, principal, book, date, now)
    _carer(found, carer_id)
    return Response(
        to_ics(found.problem, found.plan, carer_id, day, principal.tenant),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{carer_id}-{day}.ics"'},
    )


__all__ = [
    "PLANS",
    "Book",
    "DayPlan",
    "PlanSource",
    "SimulatedPlans",
    "get_book",
    "get_plans",
    "render_plan",
    "router",
]
