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

router = APIRouter(tags=["system"])


@router.get("/healthz", summary="Liveness: the writer and the operators are running")
def healthz(platform: PlatformDep) -> Response:
    health = platform.health()
    body = {
        "status": "ok" if health.ok else "failed",
        "log_offset": health.log_offset,
        "processed_offset": health.processed_offset,
        "detail": None if health.ok else repr(health.failure),
    }
    return Response(
        encode_json(body), status_code=200 if health.ok else 503, media_type="application/json"
    )


class PlatformCollector(Collector):
    """The platform's counters, read when Prometheus scrapes (nothing kept twice)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def collect(self) -> Iterator[Metric]:
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
        health = self.platform.health()
        yield GaugeMetricFamily(
            "vigil_log_offset", "Offset of the last event in the log.", value=health.log_offset
        )
        yield GaugeMetricFamily(
            "vigil_processed_offset", "Offset the operators have processed up to.",
            value=health.processed_offset,
        )  # fmt: skip
        yield CounterMetricFamily(
            "vigil_writer_commits", "Transactions of the group-commit writer.",
            value=health.writer_commits,
        )  # fmt: skip


class Metrics:
    """One registry per app (tests run many apps in one process): the platform's
    counters and the latency of every HTTP request by route."""

    def __init__(self, platform: Platform) -> None:
        self.registry = CollectorRegistry()  # collects only when scraped
        self.registry.register(PlatformCollector(platform))
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
