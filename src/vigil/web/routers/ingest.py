"""HTTP ingest: a gateway posts a batch; the answer comes once it is durable."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from vigil.errors import PayloadTooLarge
from vigil.events import encode_json
from vigil.ingest.service import IngestResult
from vigil.web.auth import DeadLetterReader, PlatformDep, Sender

router = APIRouter(prefix="/api/v1", tags=["ingest"])

MSGPACK_TYPES = frozenset(
    {"application/msgpack", "application/x-msgpack", "application/vnd.msgpack"}
)


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, refusing early (before reading it all) when it is over ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(int(declared), limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/ingest",
    summary="Send a batch of events",
    response_description="How many events were accepted; each rejection with its reason.",
    responses={
        200: {"description": "At least one event accepted, or all were duplicates (safe re-send)."},
        400: {"description": "The payload as a whole is unusable (not JSON, not a batch)."},
        413: {"description": "Body larger than the configured limit."},
        422: {"description": "No event accepted: every one was rejected (see `rejected`)."},
        503: {
            "description": "Busy or the database failed: nothing stored; send again after "
            "`Retry-After` seconds."
        },
    },
)
async def ingest(request: Request, principal: Sender, platform: PlatformDep) -> Response:
    """Body: ``{"v": 1, "events": [...]}`` or one event, as JSON or MessagePack
    (``Content-Type: application/msgpack``). Every event's ``tenant`` must be the
    token's. Events are acknowledged only after they are committed to the log."""
    ingestor = platform.ingestor
    settings = ingestor.settings
    # Bounded in-flight work: beyond the limit, 503 before the body is read, so a
    # burst costs neither memory nor the latency of those already admitted.
    with ingestor.slot():
        try:
            body = await read_limited(request, settings.max_body_bytes)
        except PayloadTooLarge as err:
            await ingestor.record_rejection(
                err, tenant=principal.tenant, transport="http", source=principal.name, body=b""
            )
            raise
        content_type = request.headers.get("content-type", "application/json")
        content_type = content_type.split(";")[0].strip()
        result: IngestResult = await ingestor.ingest(
            body,
            tenant=principal.tenant,
            transport="http",
            source=principal.name,
            format="msgpack" if content_type in MSGPACK_TYPES else "json",
            wait_limit=settings.max_admission_wait_seconds,
        )
    only_rejections = result.accepted == 0 and len(result.rejected) > result.duplicates
    return Response(
        encode_json(result),
        status_code=422 if only_rejections else 200,
        media_type="application/json",
    )


@router.get(
    "/ingest/stats",
    summary="Rejections by reason (all time) and events accepted since start, own tenant only",
)
def ingest_stats(principal: DeadLetterReader, platform: PlatformDep) -> Response:
    """Only the caller's tenant: no log offset or lag, which would show the volume of
    every tenant together."""
    body = {
        "rejected_by_reason": platform.dead_letters.counts(principal.tenant),
        "accepted_since_start": platform.ingestor.counters.accepted_by_tenant[principal.tenant],
        "sequence_gaps": platform.ingestor.counters.sequence_gaps(principal.tenant),
    }
    return Response(encode_json(body), media_type="application/json")
