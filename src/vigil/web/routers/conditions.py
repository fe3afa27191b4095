"""The alert queue over HTTP: open conditions, one condition's history, acting on one.

Actions are events in the log (so the lifecycle replays) and audited; the answer
comes once the action is durable and the queue shows its effect.
"""

from __future__ import annotations

import asyncio
from typing import Literal

import msgspec
from fastapi import APIRouter, Query, Request, Response

from vigil.alerts import OUTCOMES
from vigil.errors import InvalidRequest, NotFound
from vigil.events import ConditionAction, encode_json
from vigil.platform import Platform
from vigil.security import Principal, queue_routes
from vigil.web.auth import AlertHandler, PlatformDep, Reader

router = APIRouter(prefix="/api/v1/conditions", tags=["alerts"])


def _json(value: object, status_code: int = 200) -> Response:
    return Response(encode_json(value), status_code=status_code, media_type="application/json")


class ActionRequest(msgspec.Struct, kw_only=True):
    action: Literal["acknowledge", "assign", "escalate", "resolve", "comment"]
    assignee: str | None = None
    outcome: str | None = None
    note: str | None = None


@router.get("", summary="Open conditions (the alert queue) of the caller's tenant")
def open_conditions(
    principal: Reader,
    platform: PlatformDep,
    scope: Literal["mine", "all"] = Query("mine", description="mine: the caller's role's queue"),
    limit: int = Query(200, gt=0, le=1000),
) -> Response:
    routes = queue_routes(principal.role) if scope == "mine" else None
    return _json(platform.conditions.open(principal.tenant, routes=routes, limit=limit))


@router.get("/{condition_id}", summary="One condition with its history")
def get_condition(condition_id: str, principal: Reader, platform: PlatformDep) -> Response:
    row = platform.conditions.get(principal.tenant, condition_id)
    if row is None:
        raise NotFound(f"no condition {condition_id!r}")
    history = platform.conditions.history(principal.tenant, condition_id)
    return _json({"condition": row, "history": history})


def perform(
    platform: Platform,
    principal: Principal,
    condition_id: str,
    action: str,
    *,
    assignee: str | None = None,
    outcome: str | None = None,
    note: str | None = None,
) -> None:
    """Check, log and wait for one action (shared by the API and the pages)."""
    if platform.conditions.get(principal.tenant, condition_id) is None:
        raise NotFound(f"no condition {condition_id!r}")
    if action == "resolve" and outcome not in OUTCOMES:
        raise InvalidRequest(f"resolving needs an outcome, one of: {', '.join(OUTCOMES)}")
    if action == "assign" and not assignee:
        raise InvalidRequest("assigning needs an assignee")
    if note is not None and len(note) > 2000:
        raise InvalidRequest("a note is at most 2,000 characters")
    platform.act(
        ConditionAction(
            tenant=principal.tenant,
            time=platform.clock(),
            condition=condition_id,
            action=action,  # type: ignore[arg-type]
            actor=principal.name or principal.token_id,
            assignee=assignee,
            outcome=outcome,
            note=note,
        )
    )
    platform.wait_until_processed(timeout=10.0)


@router.post("/{condition_id}/actions", summary="Acknowledge, assign, escalate or resolve")
async def act(
    condition_id: str,
    principal: AlertHandler,
    platform: PlatformDep,
    http_request: Request,
) -> Response:
    """Body: ``{"action": "resolve", "outcome": "false_alarm", "note": "..."}``."""
    body = await http_request.body()
    try:
        request = msgspec.json.decode(body, type=ActionRequest)
    except msgspec.ValidationError as err:
        raise InvalidRequest(str(err)) from err
    except msgspec.DecodeError as err:
        raise InvalidRequest(f"not JSON: {err}") from err
    await asyncio.to_thread(
        perform,
        platform,
        principal,
        condition_id,
        request.action,
        assignee=request.assignee,
        outcome=request.outcome,
        note=request.note,
    )
    row = await asyncio.to_thread(platform.conditions.get, principal.tenant, condition_id)
    return _json(row)
