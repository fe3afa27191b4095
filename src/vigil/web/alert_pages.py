"""The alert queue as pages: what is open for my role, one alert's story, acting on it.

Forms post with the sign-in cookie, accepted only from this site's own pages
(``authenticate_page_action``); the action goes through the same path as the API.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from vigil.alerts import OUTCOMES
from vigil.errors import NotFound
from vigil.security import Permission, allows, queue_routes
from vigil.web.auth import PageAlertHandler, PlatformDep, Reader
from vigil.web.routers.conditions import perform
from vigil.web.templating import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

ACTIONS = ("acknowledge", "assign", "escalate", "resolve", "comment")


@router.get("/alerts")
def queue(
    request: Request,
    principal: Reader,
    platform: PlatformDep,
    scope: Annotated[str, Query(pattern="^(mine|all)$")] = "mine",
) -> Response:
    tenant = principal.tenant
    routes = queue_routes(principal.role) if scope == "mine" else None
    rows = platform.conditions.open(tenant, routes=routes, limit=500)
    closed = platform.conditions.recent_closed(tenant, limit=20)
    names = platform.registry.entity_names(tenant, {r.entity for r in rows + closed})
    return render(
        request,
        "alerts.html",
        platform,
        principal,
        title="Alerts",
        rows=rows,
        closed=closed,
        names=names,
        scope=scope,
        routes=routes,
        can_act=allows(principal.role, Permission.HANDLE_ALERTS),
        outcomes=OUTCOMES,
    )


@router.get("/alerts/{condition_id}")
def alert(
    condition_id: str, request: Request, principal: Reader, platform: PlatformDep
) -> Response:
    row = platform.conditions.get(principal.tenant, condition_id)
    if row is None:
        raise NotFound(f"no alert {condition_id!r}")
    entity = platform.registry.entity(principal.tenant, row.entity)
    return render(
        request,
        "alert.html",
        platform,
        principal,
        title=f"{row.kind.replace('_', ' ').capitalize()} · {entity.name}",
        row=row,
        entity=entity,
        history=platform.conditions.history(principal.tenant, condition_id),
        can_act=allows(principal.role, Permission.HANDLE_ALERTS),
        outcomes=OUTCOMES,
    )


@router.post("/alerts/{condition_id}/act")
async def act(
    condition_id: str,
    principal: PageAlertHandler,
    platform: PlatformDep,
    action: Annotated[str, Form(pattern="^(" + "|".join(ACTIONS) + ")$")],
    outcome: Annotated[str | None, Form()] = None,
    note: Annotated[str | None, Form(max_length=2000)] = None,
    assignee: Annotated[str | None, Form(max_length=64)] = None,
    back: Annotated[str, Form(pattern="^(queue|alert)$")] = "queue",
) -> Response:
    if action == "assign" and not assignee:
        assignee = principal.name or principal.token_id  # "assign to me"
    await asyncio.to_thread(
        perform,
        platform,
        principal,
        condition_id,
        action,
        assignee=assignee,
        outcome=outcome or None,
        note=note or None,
    )
    target = "/alerts" if back == "queue" else f"/alerts/{condition_id}"
    return RedirectResponse(target, status_code=303)
