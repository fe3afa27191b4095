"""The coordinator's changes to a day's plan, as form posts from the plan page.

``POST /plan/lock``, ``/plan/unlock``, ``/plan/move``, ``/plan/reoptimise`` and
``/plan/urgent`` each need the ``plan`` permission (coordinators), accept the page's
sign-in cookie only from this site's own pages (``PagePlanner``) or a bearer token
from a program, and carry the plan version the page showed, so a change made on a
stale page is refused instead of undoing someone else's. A change that is made
redirects to the plan, which then lists what changed and why; one that is refused
shows the plan again with the reason (the independent checker's words), status 409.
Every change made is saved as the plan's next version with an audit row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from vigil.care.plan_editing import client_for
from vigil.care.plan_pages import Book, _council, _day, render_plan
from vigil.errors import InvalidRequest, NotFound
from vigil.planning.model import PlanningError
from vigil.web.api import Conditions, Now, PagePlanner, PageRoute, Registry

router = APIRouter(route_class=PageRoute, include_in_schema=False)

DateForm = Annotated[str, Form(alias="date", max_length=10)]
VersionForm = Annotated[int | None, Form()]
IdForm = Annotated[str, Form(min_length=1, max_length=128)]
OptionalForm = Annotated[str | None, Form(max_length=128)]


def parse_clock(value: str | None) -> int | None:
    """``HH:MM`` as seconds since midnight; empty is ``None``.

    >>> parse_clock("09:30"), parse_clock("")
    (34200, None)
    """
    if not value:
        return None
    try:
        moment = dt.time.fromisoformat(value)
    except ValueError as err:
        raise InvalidRequest(f"not a time of day (HH:MM): {value!r}") from err
    return moment.hour * 3600 + moment.minute * 60


@dataclass(frozen=True)
class Desk:
    """What every change to a plan needs: who asks, the stores, the time."""

    request: Request
    principal: Any
    registry: Any
    conditions: Any
    book: Any
    now: float

    def who(self, version: int | None) -> dict[str, Any]:
        """The actor, time and page version every change of the book takes."""
        return {"actor": self.principal.token_id, "now": self.now, "version": version}


def _desk(
    request: Request,
    principal: PagePlanner,
    registry: Registry,
    conditions: Conditions,
    book: Book,
    now: Now,
) -> Desk:
    return Desk(request, principal, registry, conditions, book, now)


PlanDesk = Annotated[Desk, Depends(_desk)]


def _act(desk: Desk, date: str, change: Callable[[dt.date], object]) -> Response:
    """Make ``change`` to the day's plan; on refusal show the plan with the reason."""
    _council(desk.registry, desk.principal)
    day = _day(date, desk.now)
    try:
        change(day)
    except PlanningError as err:
        found = desk.book.day(desk.principal.tenant, day)
        return render_plan(
            desk.request,
            desk.principal,
            desk.conditions,
            desk.book,
            day,
            found,
            desk.now,
            str(err),
            status_code=409,
        )
    return RedirectResponse(f"/plan?date={day.isoformat()}#changes", status_code=303)


@router.post("/plan/lock")
def lock_visit(
    desk: PlanDesk, date: DateForm, visit: IdForm, version: VersionForm = None
) -> Response:
    """Keep a visit with its carer when the rest is re-optimised."""
    tenant = desk.principal.tenant
    return _act(desk, date, lambda day: desk.book.lock(tenant, day, visit, **desk.who(version)))


@router.post("/plan/unlock")
def unlock_visit(
    desk: PlanDesk, date: DateForm, visit: IdForm, version: VersionForm = None
) -> Response:
    """Let re-optimising move a visit again."""
    tenant = desk.principal.tenant
    return _act(desk, date, lambda day: desk.book.unlock(tenant, day, visit, **desk.who(version)))


@router.post("/plan/move")
def move_visit(
    desk: PlanDesk,
    date: DateForm,
    visit: IdForm,
    carer: IdForm,
    start: Annotated[str | None, Form(max_length=5)] = None,
    version: VersionForm = None,
) -> Response:
    """Move a visit to another carer (and time, ``HH:MM``), locked there."""
    at = parse_clock(start)
    tenant = desk.principal.tenant
    return _act(
        desk,
        date,
        lambda day: desk.book.move(tenant, day, visit, carer, at, **desk.who(version)),
    )


@router.post("/plan/reoptimise")
def reoptimise_plan(
    desk: PlanDesk, date: DateForm, out: OptionalForm = None, version: VersionForm = None
) -> Response:
    """Re-plan what has not started, around the locks (``out``: a carer off from now)."""
    gone = (out,) if out else ()
    tenant = desk.principal.tenant
    return _act(
        desk, date, lambda day: desk.book.reoptimise(tenant, day, gone, **desk.who(version))
    )


@router.post("/plan/urgent")
def urgent_visit(
    desk: PlanDesk,
    date: DateForm,
    alert: OptionalForm = None,
    client: OptionalForm = None,
    version: VersionForm = None,
) -> Response:
    """Add an urgent welfare visit today, for an alert's home or a client, and re-plan."""
    tenant = desk.principal.tenant

    def change(day: dt.date) -> object:
        because = "asked for by the coordinator"
        person = client
        if alert:
            row = desk.conditions.get(tenant, alert)
            if row is None:
                raise NotFound(f"no alert {alert!r}")
            homes = [e.id for e in desk.registry.entities(tenant, kind="home")]
            problem = desk.book.day(tenant, day).problem
            person = client_for(problem, row.entity, homes)
            because = f"alert on {row.entity}: {row.message}"
        if not person:
            raise InvalidRequest("choose an alert or a client for the urgent visit")
        return desk.book.urgent(tenant, day, person, because, **desk.who(version))

    return _act(desk, date, change)


__all__ = ["parse_clock", "router"]
