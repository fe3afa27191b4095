"""The carer plan pages: roster board, run maps, visits not placed, CSV and calendar.

A council's coordinator opens ``/plan?date=YYYY-MM-DD``: a roster board (carers x
time, visits as blocks) and a map of every carer's run, both inline SVG drawn
from the plan's times and coordinates (no script, no map tiles: care networks are
often closed), the visits that could not be placed with the reason, and the plan
as CSV. ``/plan/carers/{carer}`` is one carer's run sized for a phone, with the
run as an iCalendar file.

Until visits and carers are read from the store, the plan is made from the
simulated council day seeded by tenant and date (``vigil.planning.command``) and
the page says so. Plans are made on first request and kept per tenant and date.
"""

from __future__ import annotations

import colorsys
import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Protocol

from cachetools import LRUCache
from fastapi import APIRouter, Depends, Query, Request, Response

from vigil.errors import InvalidRequest, NotFound
from vigil.planning.command import day_problem
from vigil.planning.export import clock, reasons, rows, summary, to_csv, to_ics
from vigil.planning.model import Plan, Problem
from vigil.planning.solver import solve
from vigil.web.api import Now, PageRoute, Pages, Reader, Registry

PAGES = Pages(Path(__file__).with_name("templates"))

DAY_START, DAY_END = 6 * 3600, 23 * 3600
BOARD_WIDTH, LABEL_WIDTH, ROW_HEIGHT = 1000, 90, 22
MAP_SIZE = 640


@dataclass(frozen=True)
class DayPlan:
    """A day's problem, its plan, and where the plan came from (said on the page)."""

    problem: Problem
    plan: Plan
    origin: str


class PlanSource(Protocol):
    """Where the pages get a tenant's plan for a day."""

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


def _colour(index: int, count: int) -> str:
    red, green, blue = colorsys.hls_to_rgb((index / max(1, count)) % 1.0, 0.42, 0.65)
    return f"#{int(red * 255):02x}{int(green * 255):02x}{int(blue * 255):02x}"


def _x(seconds: int) -> float:
    share = (min(max(seconds, DAY_START), DAY_END) - DAY_START) / (DAY_END - DAY_START)
    return round(LABEL_WIDTH + share * (BOARD_WIDTH - LABEL_WIDTH), 1)


def _board(problem: Problem, plan: Plan) -> dict[str, Any]:
    """The roster board's geometry: a row per carer, a block per visit and break."""
    table = rows(problem, plan)
    lanes = []
    for lane, route in enumerate(plan.routes):
        carer = problem.carer(route.carer)
        y = lane * ROW_HEIGHT + 24
        blocks = []
        for row in (r for r in table if r.carer == route.carer):
            kind = "double" if row.partner else ("skill" if row.skills else "visit")
            blocks.append(
                {
                    "x": _x(row.start),
                    "width": max(2.0, round(_x(row.end) - _x(row.start), 1)),
                    "kind": kind,
                    "visit": row.visit,
                    "title": f"{row.client} {clock(row.start)}-{clock(row.end)}"
                    + (f", with {row.partner}" if row.partner else "")
                    + (f", needs {', '.join(row.skills)}" if row.skills else ""),
                }
            )
        breaks = []
        if route.stops:
            for rule, start in zip(carer.breaks, route.breaks, strict=False):
                breaks.append(
                    {
                        "x": _x(start),
                        "width": round(_x(start + rule.duration) - _x(start), 1),
                        "title": f"break {clock(start)}-{clock(start + rule.duration)}",
                    }
                )
        lanes.append(
            {
                "carer": route.carer,
                "mode": carer.travel_mode,
                "y": y,
                "shift_x": _x(carer.shift_start),
                "shift_width": round(_x(carer.shift_end) - _x(carer.shift_start), 1),
                "blocks": blocks,
                "breaks": breaks,
            }
        )
    hours = [
        {"x": _x(hour * 3600), "label": f"{hour:02d}"}
        for hour in range(DAY_START // 3600, DAY_END // 3600 + 1)
    ]
    return {
        "lanes": lanes,
        "hours": hours,
        "width": BOARD_WIDTH + 12,
        "height": len(lanes) * ROW_HEIGHT + 30,
        "row": ROW_HEIGHT - 6,
    }


def _map(problem: Problem, plan: Plan, only: str | None = None) -> dict[str, Any]:
    """Each carer's run as a line through its visits, in metres, north up."""
    xs = [x for x, _ in problem.locations]
    ys = [y for _, y in problem.locations]
    low_x, high_x, low_y, high_y = min(xs), max(xs), min(ys), max(ys)
    span = max(high_x - low_x, high_y - low_y, 1.0)
    margin = span * 0.03

    def point(location: int) -> tuple[float, float]:
        x, y = problem.locations[location]
        return (
            round((x - low_x + margin) / (span + 2 * margin) * MAP_SIZE, 1),
            round((high_y - y + margin) / (span + 2 * margin) * MAP_SIZE, 1),
        )

    runs = []
    for index, route in enumerate(plan.routes):
        if not route.stops or (only is not None and route.carer != only):
            continue
        carer = problem.carer(route.carer)
        places = [
            carer.start_location,
            *(problem.visit(s.visit).location for s in route.stops),
            carer.end_location,
        ]
        points = [point(p) for p in places]
        runs.append(
            {
                "carer": route.carer,
                "colour": _colour(index, len(plan.routes)),
                "line": " ".join(f"{x},{y}" for x, y in points),
                "base": points[0],
                "stops": [
                    {"x": x, "y": y, "order": n, "visit": s.visit}
                    for n, ((x, y), s) in enumerate(zip(points[1:-1], route.stops, strict=True), 1)
                ],
            }
        )
    missing = [
        {
            "visit": v,
            "x": point(problem.visit(v).location)[0],
            "y": point(problem.visit(v).location)[1],
        }
        for v in plan.unassigned
        if only is None
    ]
    metres = round(span / 5, -2) or span / 5
    scale = round(metres / (span + 2 * margin) * MAP_SIZE, 1)
    return {
        "runs": runs,
        "missing": missing,
        "size": MAP_SIZE,
        "scale": {"metres": int(metres), "width": scale},
    }


DateQuery = Annotated[str | None, Query(alias="date")]


@router.get("/plan")
def plan_page(
    request: Request,
    registry: Registry,
    now: Now,
    principal: Reader,
    plans: Plans,
    date: DateQuery = None,
) -> Response:
    """The coordinator's view of a day: board, map, visits not placed, runs."""
    day, found = _day_plan(registry, principal, plans, date, now)
    problem, plan = found.problem, found.plan
    why = reasons(problem, plan)
    table = rows(problem, plan)
    runs = []
    for index, route in enumerate(plan.routes):
        carer = problem.carer(route.carer)
        mine = [r for r in table if r.carer == route.carer]
        runs.append(
            {
                "carer": route.carer,
                "colour": _colour(index, len(plan.routes)),
                "mode": carer.travel_mode,
                "shift": f"{clock(carer.shift_start)}-{clock(carer.shift_end)}",
                "visits": len(mine),
                "travel": round(sum(r.travel for r in mine) / 60),
                "leave": clock(route.depart),
                "back": clock(route.back),
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
        title=f"Carer plan {day.isoformat()}",
        day=day.isoformat(),
        origin=found.origin,
        facts=summary(problem, plan),
        board=_board(problem, plan),
        map=_map(problem, plan),
        runs=runs,
        unplaced=unplaced,
        solver=plan.solver,
    )


@router.get("/plan/export.csv")
def plan_csv(
    registry: Registry, now: Now, principal: Reader, plans: Plans, date: DateQuery = None
) -> Response:
    """The day's plan as CSV, one row per visit (placed or not)."""
    day, found = _day_plan(registry, principal, plans, date, now)
    return Response(
        to_csv(found.problem, found.plan),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="plan-{principal.tenant}-{day}.csv"'
        },
    )


def _day_plan(
    registry: Any, principal: Any, plans: Any, date: str | None, now: float
) -> tuple[dt.date, DayPlan]:
    """The day a request asks for (today by default) and the council's plan for it."""
    _council(registry, principal)
    day = _day(date, now)
    return day, plans.day(principal.tenant, day)


def _carer(found: DayPlan, carer_id: str) -> None:
    if found.plan.route(carer_id) is None:
        raise NotFound(f"no carer {carer_id!r} in this plan")


@router.get("/plan/carers/{carer_id}")
def carer_page(
    request: Request,
    carer_id: str,
    registry: Registry,
    now: Now,
    principal: Reader,
    plans: Plans,
    date: DateQuery = None,
) -> Response:
    """One carer's run for the day, for a phone: where, when, what, with whom."""
    day, found = _day_plan(registry, principal, plans, date, now)
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
        map=_map(problem, plan, only=carer_id),
        origin=found.origin,
    )


@router.get("/plan/carers/{carer_id}/run.ics")
def carer_calendar(
    carer_id: str,
    registry: Registry,
    now: Now,
    principal: Reader,
    plans: Plans,
    date: DateQuery = None,
) -> Response:
    """One carer's run as an iCalendar file (an event per visit and break)."""
    day, found = _day_plan(registry, principal, plans, date, now)
    _carer(found, carer_id)
    return Response(
        to_ics(found.problem, found.plan, carer_id, day, principal.tenant),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{carer_id}-{day}.ics"'},
    )


__all__ = ["PLANS", "DayPlan", "PlanSource", "SimulatedPlans", "get_plans", "router"]
