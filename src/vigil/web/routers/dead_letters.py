"""Rejected input of the caller's tenant, newest first, and counts by reason."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from vigil.events import encode_json
from vigil.web.auth import DeadLetterReader, PlatformDep

router = APIRouter(prefix="/api/v1/dead-letters", tags=["dead letters"])


@router.get("", summary="Recent rejected input with reasons")
def recent(
    principal: DeadLetterReader,
    platform: PlatformDep,
    limit: int = Query(200, gt=0, le=2000),
) -> Response:
    body = {
        "counts": platform.dead_letters.counts(principal.tenant),
        "items": platform.dead_letters.recent(principal.tenant, limit=limit),
    }
    return Response(encode_json(body), media_type="application/json")
