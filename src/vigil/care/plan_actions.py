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
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
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


def _act(
    request: Request,
    principal: Any,
    registry: Any,
    conditions: Any,
    book: Any,
    now: float,
    date: str,
    change: Callable[[dt.date], object],
) -> Response:
    """Make ``change`` to the day's plan; on refusal show the plan with the reason."""
    _council(registry, principal)
    day = _day(date, now)
    try:
        change(day)
    except PlanningError as err:
        found = book.day(principal.tenant, day)
        return render_plan(
            request, principal, conditions, book, day, found, now, str(err), status_code=409
        )
    return RedirectResponse(f"/plan?date={day.isoformat()}#changes", status_code=303)


@router.post("/plan/lock")
def lock_visit(
    request: Request,
    principal: PagePlanner,
    registry: Registry,
    conditions: Conditions,
    book: Book,
    now: Now,
    date: DateForm,
    visit: IdForm,
    version: VersionForm = None,
) -> Response:
    """Keep a visit with its carer when the rest is re-optimised."""
    who = {"actor": principal.token_id, "now": now, "version": version}
    return _act(
        request,
        principal,
        registry,
        conditions,
        book,
        now,
        date,
        lambda day: book.lock(principal.tenant, day, visit, **who),
    )


@router.post("/plan/unlock")
def unlock_visit(
    request: Request,
    principal: PagePlanner,
    registry: Registry,
    conditions: Conditions,
    book: Book,
    now: Now,
    date: DateForm,
    visit: IdForm,
    version: VersionForm = None,
) -> Response:
    """Let re-optimising move a visit again."""
    who = {"actor": principal.token_id, "now": now, "version": version}
    return _act(
        request,
        principal,
        registry,
        conditions,
        book,
        now,
        date,
        lambda day: book.unlock(principal.tenant, day, visit, **who),
    )


@router.post("/plan/move")
def move_visit(
    request: Request,
    principal: PagePlanner,
    registry: Registry,
    conditions: Conditions,
    book: Book,
    now: Now,
    date: DateForm,
    visit: IdForm,
    carer: IdForm,
    start: Annotated[str | None, Form(max_length=5)] = None,
    version: VersionForm = None,
) -> Response:
    """Move a visit to another carer (and time, ``HH:MM``), locked there."""
    at = parse_clock(start)
    who = {"actor": principal.token_id, "now": now, "version": version}
    return _act(
        request,
        principal,
        registry,
        conditions,
        book,
        now,
        date,
        lambda day: book.move(principal.tenant, day, visit, carer, at, **who),
    )


@router.post("/plan/reoptimise")
def reoptimise_plan(
    request: Request,
    principal: PagePlanner,
    registry: Registry,
    conditions: Conditions,
    book: Book,
    now: Now,
    date: DateForm,
    out: OptionalForm = None,
    version: VersionForm = None,
) -> Response:
    """Re-plan what has not started, around the locks (``out``: a carer off from now)."""
    who = {"actor": principal.token_id, "now": now, "version": version}
    gone = (out,) if out else ()
    return _act(
        request,
        principal,
        registry,
        conditions,
        book,
        now,
        date,
        lambda day: book.reoptimise(principal.tenant, day, gone, **who),
    )


@router.post("/plan/urgent")
def urgent_visit(
    request: Request,
    principal: PagePlanner,
    registry: Registry,
    conditions: Conditions,
    book: Book,
    now: Now,
    date: DateForm,
    alert: OptionalForm = None,
    client: OptionalForm = None,
    version: VersionForm = None,
) -> Response:
    """Add an urgent welfare visit today, for an alert's home or a client, and re-plan."""
    who = {"actor": principal.token_id, "now": now, "version": version}

    def change(day: dt.date) -> object:
        because = "asked for by the coordinator"
        person = client
        if alert:
            row = conditions.get(principal.tenant, alert)
            if row is None:
                raise NotFound(f"no alert {alert!r}")
            homes = [e.id for e in registry.entities(principal.tenant, kind="home")]
            problem = book.day(principal.tenant, day).problem
            person = client_for(problem, row.entity, homes)
            because = f"alert on {row.entity}: {row.message}"
        if not person:
            raise InvalidRequest("choose an alert or a client for the urgent visit")
        return book.urgent(principal.tenant, day, person, because, **who)

    return _act(request, principal, registry, conditions, book, now, date, change)


__all__ = ["parse_clock", "router"]
