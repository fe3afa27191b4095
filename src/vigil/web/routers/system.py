"""Health and metrics, for load balancers and monitoring."""

from __future__ import annotations

import time
from collections.abc import Iterator

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigil.events import encode_json
from vigil.platform import Platform
from vigil.security import Permission
from vigil.web.auth import BearerDep, CookieDep, PlatformDep, authenticate
from vigil.web.routers.live import StreamLimit

router = APIRouter(tags=["system"])


@router.get("/healthz", summary="Liveness: the writer and the operators are running")
def healthz(platform: PlatformDep) -> Response:
    """``log_offset``: the last event in the log (every tenant's); ``processed_offset``:
    how far the operators have processed it; ``undecodable_log_records``: records the
    operators set aside since start (each a dead letter). 503 once the runtime failed."""
    health = platform.health()
    body = {
        "status": "ok" if health.ok else "failed",
        "log_offset": health.log_offset,
        "processed_offset": health.processed_offset,
        "lag": health.lag,
        "undecodable_log_records": health.undecodable_log_records,
        "detail": None if health.ok else repr(health.failure),
    }
    return Response(
        encode_json(body), status_code=200 if health.ok else 503, media_type="application/json"
    )


class PlatformCollector(Collector):
    """The platform's counters, read when Prometheus scrapes (nothing kept twice)."""

    def __init__(self, platform: Platform, streams: StreamLimit | None = None) -> None:
        self.platform = platform
        self.streams = streams

    def collect(self) -> Iterator[Metric]:
        yield from self._ingest()
        yield from self._sequence_gaps()
        yield from self._shed()
        yield from self._log()

    def _ingest(self) -> Iterator[Metric]:
        counters = self.platform.ingestor.counters
        accepted = CounterMetricFamily(
            "vigil_events_accepted", "Events committed to the log.", labels=["transport"]
        )
        for transport, n in counters.accepted.items():
            accepted.add_metric([transport], n)
        rejected = CounterMetricFamily(
            "vigil_events_rejected",
            "Events or payloads rejected, by reason.",
            labels=["transport", "reason"],
        )
        for (transport, reason), n in counters.rejected.items():
            rejected.add_metric([transport, str(reason)], n)
        yield accepted
        yield rejected
        yield CounterMetricFamily(
            "vigil_dead_letters_removed", "Dead letters removed by retention (their counts kept).",
            value=counters.dead_letters_removed,
        )  # fmt: skip

    def _sequence_gaps(self) -> Iterator[Metric]:
        """Per device that has had one: a gap is allowed (the device or the broker lost
        events) but must be seen. Devices without gaps have no series."""
        gaps = CounterMetricFamily(
            "vigil_sequence_gaps",
            "Jumps in a device's sequence numbers since start: events that never arrived.",
            labels=["tenant", "device"],
        )
        missing = CounterMetricFamily(
            "vigil_sequence_missing",
            "Sequence numbers skipped by a device's jumps since start (events missing).",
            labels=["tenant", "device"],
        )
        for (tenant, device), (jumps, skipped) in sorted(
            self.platform.ingestor.counters.gaps.items()
        ):
            gaps.add_metric([tenant, device], jumps)
            missing.add_metric([tenant, device], skipped)
        yield gaps
        yield missing

    def _shed(self) -> Iterator[Metric]:
        """Work refused or dropped to keep memory and latency bounded."""
        ingestor = self.platform.ingestor
        overloaded = CounterMetricFamily(
            "vigil_ingest_overloaded",
            "HTTP ingest requests answered 503 (nothing stored), by cause.",
            labels=["cause"],
        )
        for cause in ("in_flight", "admission_wait", "operator_lag"):
            overloaded.add_metric([cause], ingestor.counters.overloaded[cause])
        yield overloaded
        yield GaugeMetricFamily(
            "vigil_ingest_in_flight", "HTTP ingest requests being read, decoded or written.",
            value=ingestor.in_flight,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "vigil_ingest_in_flight_peak", "Most HTTP ingest requests in flight at once.",
            value=ingestor.peak_in_flight,
        )  # fmt: skip
        if self.streams is not None:
            yield CounterMetricFamily(
                "vigil_live_streams_refused",
                "Live streams refused (429): the token held web.max_streams_per_principal.",
                value=self.streams.refused,
            )
        yield CounterMetricFamily(
            "vigil_live_updates_dropped", "Live updates not sent: the subscriber was too slow.",
            value=self.platform.bus.dropped,
        )  # fmt: skip

    def _log(self) -> Iterator[Metric]:
        health = self.platform.health()
        yield GaugeMetricFamily(
            "vigil_log_offset", "Offset of the last event in the log.", value=health.log_offset
        )
        yield GaugeMetricFamily(
            "vigil_processed_offset", "Offset the operators have processed up to.",
            value=health.processed_offset,
        )  # fmt: skip
        yield CounterMetricFamily(
            "vigil_log_records_undecodable",
            "Log records the operators could not decode and set aside (each a dead letter).",
            value=health.undecodable_log_records,
        )
        yield GaugeMetricFamily(
            "vigil_runtime_failed", "1 once the operator runtime has stopped on an error.",
            value=0 if health.ok else 1,
        )  # fmt: skip
        yield CounterMetricFamily(
            "vigil_writer_commits", "Transactions of the group-commit writer.",
            value=health.writer_commits,
        )  # fmt: skip


class Metrics:
    """One registry per app (tests run many apps in one process): the platform's
    counters and the latency of every HTTP request by route."""

    def __init__(self, platform: Platform, streams: StreamLimit | None = None) -> None:
        self.registry = CollectorRegistry()  # collects only when scraped
        self.registry.register(PlatformCollector(platform, streams))
        self.latency = Histogram(
            "vigil_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template, method and status class.",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )


class RequestTimer:
    """Pure ASGI middleware observing each request's duration in ``Metrics.latency``.

    Labels use the route's template (``/entities/{entity_id}``), never the raw path,
    so the number of series stays bounded; unmatched paths share one label. A
    streaming response (``/api/v1/live``) is timed to its first byte."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        observed = False

        def observe() -> None:
            nonlocal observed
            if not observed:
                observed = True
                route = scope.get("route")
                template = getattr(route, "path_format", None) or getattr(route, "path", "other")
                self.metrics.latency.labels(
                    scope["method"], template, f"{status // 100}xx"
                ).observe(time.perf_counter() - start)

        async def timed_send(message: Message) -> None:
            nonlocal status
            await send(message)
            if message["type"] == "http.response.start":
                status = message["status"]
                if any(
                    name == b"content-type" and value.startswith(b"text/event-stream")
                    for name, value in message.get("headers", ())
                ):
                    observe()
            elif not message.get("more_body"):
                observe()

        try:
            await self.app(scope, receive, timed_send)
        finally:
            observe()


async def _metrics_reader(
    request: Request,
    platform: PlatformDep,
    bearer: BearerDep,
    cookie: CookieDep,
) -> None:
    """Anyone if ``web.metrics_public``; otherwise an administrator's token: the
    counters span every tenant."""
    if platform.settings.web.metrics_public:
        return
    principal = await authenticate(request, platform, bearer, cookie)
    principal.require(Permission.MANAGE)


@router.get(
    "/metrics",
    summary="Prometheus metrics (an administrator's token unless web.metrics_public)",
    response_class=PlainTextResponse,
    dependencies=[Depends(_metrics_reader)],
)
def metrics(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
