"""Server-sent events: operator outputs of the caller's tenant as they happen.

Framing, keep-alive pings and client disconnects are ``sse-starlette``'s; this module
chooses what is sent and how many streams one token may hold open.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.background import BackgroundTask

from vigil.engine.bus import LiveOutput
from vigil.events import encode_json
from vigil.web.auth import PlatformDep, Reader

router = APIRouter(prefix="/api/v1", tags=["live"])

KEEPALIVE_SECONDS = 15.0


def sse_event(operator: str, output: LiveOutput) -> ServerSentEvent:
    event = "finding" if output.durable else output.kind
    data = encode_json({"operator": operator, **_public(output)}).decode()
    return ServerSentEvent(data=data, event=event)


def _public(output: LiveOutput) -> dict[str, object]:
    return {
        "kind": output.kind,
        "entity": output.entity,
        "time": output.time,
        "data": output.data,
        "message": output.message,
    }


class StreamLimit:
    """Open streams per token, so one caller cannot slow ingest for everyone: each
    open stream costs the operators' thread a little on every output."""

    def __init__(self) -> None:
        self.open: Counter[str] = Counter()
        self.refused = 0
        """Streams refused (429) since start because their token held the limit."""

    def try_open(self, key: str, limit: int) -> bool:
        if self.open[key] >= limit:
            self.refused += 1
            return False
        self.open[key] += 1
        return True

    def close(self, key: str) -> None:
        self.open[key] -= 1
        if self.open[key] <= 0:
            del self.open[key]


def _limit(request: Request) -> StreamLimit:
    return request.app.state.live_streams  # type: ignore[no-any-return]


@router.get(
    "/live",
    summary="Live outputs (server-sent events)",
    response_class=EventSourceResponse,
    responses={
        200: {"content": {"text/event-stream": {}}},
        429: {"description": "this token already holds web.max_streams_per_principal streams"},
    },
)
async def live(
    request: Request,
    principal: Reader,
    platform: PlatformDep,
    entity: str | None = Query(None, max_length=128),
) -> Response:
    """One SSE event per output: ``reading`` updates and ``finding`` records."""
    if entity is not None:
        # 404 unless it is the caller's; off the event loop, which also runs ingest.
        await asyncio.to_thread(platform.registry.entity, principal.tenant, entity)
    limit, key = _limit(request), principal.token_id
    allowed = platform.settings.web.max_streams_per_principal
    if not limit.try_open(key, allowed):
        return JSONResponse(
            {"error": "TooManyStreams", "detail": f"at most {allowed} live streams per token"},
            status_code=429,
            headers={"Retry-After": str(int(KEEPALIVE_SECONDS))},
        )
    subscription = platform.bus.subscribe(principal.tenant, entity)
    closed = False

    def close() -> None:
        # From the stream's end, or from the background task when the client left
        # before the stream started: whichever comes first.
        nonlocal closed
        if not closed:
            closed = True
            subscription.close()
            limit.close(key)

    async def stream() -> AsyncIterator[ServerSentEvent]:
        try:
            yield ServerSentEvent(comment="connected")
            while True:
                operator, output = await subscription.get()
                yield sse_event(operator, output)
        finally:
            close()

    return EventSourceResponse(
        stream(),
        ping=int(KEEPALIVE_SECONDS),
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        background=BackgroundTask(close),
    )
