"""Entities (homes, machines, lines, cells) of the caller's tenant, with their readings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response

from vigil.events import encode_json
from vigil.web.auth import PlatformDep, Reader

router = APIRouter(prefix="/api/v1/entities", tags=["entities"])


def _json(value: object) -> Response:
    return Response(encode_json(value), media_type="application/json")


@router.get("", summary="List entities")
def list_entities(
    principal: Reader, platform: PlatformDep, kind: str | None = Query(None, max_length=32)
) -> Response:
    return _json(platform.registry.entities(principal.tenant, kind))


@router.get("/{entity_id}", summary="One entity, its devices and latest readings")
def get_entity(entity_id: str, principal: Reader, platform: PlatformDep) -> Response:
    entity = platform.registry.entity(principal.tenant, entity_id)
    platform.record_access(
        principal.tenant, actor=principal.token_id, action="read_entity", target=entity_id
    )
    body: dict[str, Any] = {
        "entity": entity,
        "devices": platform.registry.devices(principal.tenant, entity_id),
        "latest": platform.projections.latest(principal.tenant, entity_id),
    }
    return _json(body)


def resolution_for(hours: float) -> int:
    """The coarsest history resolution that still draws ``hours`` in some detail.

    >>> resolution_for(6), resolution_for(72), resolution_for(24 * 30), resolution_for(24 * 400)
    (60, 900, 3600, 86400)
    """
    if hours <= 12:
        return 60
    if hours <= 24 * 7:
        return 900
    if hours <= 24 * 62:
        return 3600
    return 86400


@router.get("/{entity_id}/history", summary="Downsampled history of each numeric sensor")
def history(
    entity_id: str,
    principal: Reader,
    platform: PlatformDep,
    hours: float = Query(6.0, gt=0, le=24 * 3660),
    resolution: int | None = Query(None, description="bucket seconds: 60, 900, 3600 or 86400"),
) -> Response:
    """Closed buckets (count, min, max, mean) of the newest ``hours``, oldest first.

    ``time`` is the bucket's middle and ``value`` its mean, as charts draw them."""
    platform.registry.entity(principal.tenant, entity_id)  # 404 unless it is the caller's
    width = resolution or resolution_for(hours)
    since = platform.clock() - hours * 3600
    buckets = platform.projections.history(
        principal.tenant, entity_id, resolution=width, since=since
    )
    return _json(
        [
            {
                "time": b.start + b.resolution / 2,
                "start": b.start,
                "resolution": b.resolution,
                "device": b.device,
                "metric": b.metric,
                "value": b.sum / b.count,
                "min": b.min,
                "max": b.max,
                "count": b.count,
            }
            for b in buckets
        ]
    )


@router.get("/{entity_id}/conditions", summary="Alerts of one entity, open and closed")
def entity_conditions(
    entity_id: str,
    principal: Reader,
    platform: PlatformDep,
    limit: int = Query(100, gt=0, le=1000),
) -> Response:
    platform.registry.entity(principal.tenant, entity_id)
    return _json(platform.conditions.for_entity(principal.tenant, entity_id, limit=limit))
