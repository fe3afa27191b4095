"""Server-sent events: operator outputs of the caller's tenant as they happen."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from vigil.engine.operator import Output
from vigil.events import encode_json
from vigil.web.auth import PlatformDep, Reader

router = APIRouter(prefix="/api/v1", tags=["live"])

KEEPALIVE_SECONDS = 15.0


def sse_message(operator: str, output: Output) -> bytes:
    event = "finding" if output.durable else output.kind
    data = encode_json({"operator": operator, **_public(output)})
    return b"event: " + event.encode() + b"\ndata: " + data + b"\n\n"


def _public(output: Output) -> dict[str, object]:
    return {
        "kind": output.kind,
        "entity": output.entity,
        "time": output.time,
        "data": output.data,
        "message": output.message,
    }


@router.get(
    "/live",
    summary="Live outputs (server-sent events)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def live(
    request: Request,
    principal: Reader,
    platform: PlatformDep,
    entity: str | None = Query(None, max_length=128),
) -> StreamingResponse:
    """One SSE event per output: ``reading`` updates and ``finding`` records."""
    if entity is not None:
        platform.registry.entity(principal.tenant, entity)  # 404 unless it is the caller's
    subscription = platform.bus.subscribe(principal.tenant, entity)

    async def stream() -> AsyncIterator[bytes]:
        try:
            yield b": connected\n\n"
            while not await request.is_disconnected():
                try:
                    operator, output = await asyncio.wait_for(
                        subscription.get(), timeout=KEEPALIVE_SECONDS
                    )
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                yield sse_message(operator, output)
        finally:
            subscription.close()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
