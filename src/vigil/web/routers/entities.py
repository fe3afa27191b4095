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
    platform.audit.record(
        principal.tenant,
        actor=principal.token_id,
        action="read_entity",
        target=entity_id,
        now=platform.clock(),
    )
    body: dict[str, Any] = {
        "entity": entity,
        "devices": platform.registry.devices(principal.tenant, entity_id),
        "latest": platform.latest(principal.tenant, entity_id),
    }
    return _json(body)


@router.get("/{entity_id}/history", summary="Recent trend of each numeric sensor of one entity")
def history(
    entity_id: str,
    principal: Reader,
    platform: PlatformDep,
    hours: float = Query(6.0, gt=0, le=24 * 35),
) -> Response:
    """Means per trend bucket (10 minutes by default), newest ``hours`` only."""
    platform.registry.entity(principal.tenant, entity_id)  # 404 unless it is the caller's
    points = platform.history(principal.tenant, entity_id)
    if points:
        since = points[-1].time - hours * 3600
        points = [point for point in points if point.time >= since]
    return _json(points)


@router.get("/{entity_id}/findings", summary="Findings (device health, alerts) of one entity")
def entity_findings(
    entity_id: str,
    principal: Reader,
    platform: PlatformDep,
    limit: int = Query(100, gt=0, le=1000),
) -> Response:
    platform.registry.entity(principal.tenant, entity_id)
    return _json(platform.findings.recent(principal.tenant, entity=entity_id, limit=limit))


findings_router = APIRouter(prefix="/api/v1/findings", tags=["findings"])


@findings_router.get("", summary="Recent findings of the tenant")
def tenant_findings(
    principal: Reader, platform: PlatformDep, limit: int = Query(100, gt=0, le=1000)
) -> Response:
    return _json(platform.findings.recent(principal.tenant, limit=limit))
