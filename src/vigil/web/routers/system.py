"""Health and metrics, for load balancers and monitoring."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse

from vigil.events import encode_json
from vigil.web.auth import PlatformDep

router = APIRouter(tags=["system"])


@router.get("/healthz", summary="Liveness: the writer and the operators are running")
def healthz(platform: PlatformDep) -> Response:
    failed = platform.runtime.failed
    body = {
        "status": "failed" if failed else "ok",
        "log_offset": platform.log.next_offset - 1,
        "processed_offset": platform.runtime.processed_offset,
        "detail": repr(failed) if failed else None,
    }
    return Response(
        encode_json(body), status_code=503 if failed else 200, media_type="application/json"
    )


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
def metrics(platform: PlatformDep) -> str:
    counters = platform.ingestor.counters
    lines = [
        "# HELP vigil_events_accepted_total Events committed to the log.",
        "# TYPE vigil_events_accepted_total counter",
    ]
    lines += [
        f'vigil_events_accepted_total{{transport="{t}"}} {n}' for t, n in counters.accepted.items()
    ]
    lines += [
        "# HELP vigil_events_rejected_total Events or payloads rejected, by reason.",
        "# TYPE vigil_events_rejected_total counter",
    ]
    lines += [
        f'vigil_events_rejected_total{{transport="{t}",reason="{r}"}} {n}'
        for (t, r), n in counters.rejected.items()
    ]
    lines += [
        "# TYPE vigil_log_offset gauge",
        f"vigil_log_offset {platform.log.next_offset - 1}",
        "# TYPE vigil_processed_offset gauge",
        f"vigil_processed_offset {platform.runtime.processed_offset}",
        "# TYPE vigil_writer_commits_total counter",
        f"vigil_writer_commits_total {platform.writer.commits}",
    ]
    return "\n".join(lines) + "\n"
