"""What each ``vigil`` sub-command does, separate from argument parsing."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import uvicorn

from vigil.catalog import Catalog, Tenant
from vigil.clients import DirectSink, FeedProgress, HttpSink, MqttSink, feed
from vigil.config import Settings
from vigil.platform import Platform
from vigil.store import migrate as migrations
from vigil.store.database import open_engine


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _run_server(settings: Settings, platform: Platform, services: list[Any]) -> int:
    from vigil.web.app import create_app

    app = create_app(platform, services=services)
    config = uvicorn.Config(
        app, host=settings.web.host, port=settings.web.port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    _say(f"Vigil is running: open http://{settings.web.host}:{settings.web.port}/  (Ctrl+C stops)")
    _say(f"API documentation: http://{settings.web.host}:{settings.web.port}/docs")
    server.run()
    return 0


def _mqtt_services(settings: Settings) -> list[Any]:
    if not settings.mqtt.enabled:
        return []
    from vigil.ingest.mqtt import mqtt_service

    return [mqtt_service(settings.mqtt)]


def demo(settings: Settings, *, seed: int, history_hours: float) -> int:
    from vigil.sim import Region, RegionConfig

    now = time.time()
    start = now - history_hours * 3600
    # Sequences from the start time in ms: a --keep run continues above the last one.
    region = Region(RegionConfig(seed=seed, start=start, first_seq=int(start * 1000)))
    platform = Platform(settings)
    platform.apply_catalog(region.catalog())
    tenants = platform.registry.tenants()
    _say("Demo region: " + ", ".join(f"{t.name} ({t.kind})" for t in tenants))

    async def simulator(platform: Platform) -> None:
        sink = DirectSink(platform.ingestor, transport="simulator")
        progress = FeedProgress("filling in history", total_seconds=history_hours * 3600)
        await feed(region.events(until=time.time()), sink, batch_size=2000, progress=progress)
        progress.finish()
        _say("history in place; now live in real time")
        while True:
            await asyncio.sleep(1.0)
            await feed(region.events(until=time.time()), sink, batch_size=2000)

    return _run_server(settings, platform, [simulator, *_mqtt_services(settings)])


def serve(settings: Settings) -> int:
    platform = Platform(settings)
    return _run_server(settings, platform, _mqtt_services(settings))


def _gateway_tokens(platform: Platform, tenants: tuple[Tenant, ...], name: str) -> dict[str, str]:
    now = time.time()
    return {t.id: platform.tokens.create(t.id, name, "gateway", now=now) for t in tenants}


def _sink(platform: Platform, catalog: Catalog, http: str | None, mqtt: str | None) -> Any:
    if http:
        return HttpSink(http, _gateway_tokens(platform, catalog.tenants, "simulator"))
    if mqtt:
        host, _, port = mqtt.partition(":")
        return MqttSink(
            host or "127.0.0.1", int(port or 1883), prefix=platform.settings.mqtt.topic_prefix
        )
    return DirectSink(platform.ingestor)


def simulate(
    settings: Settings, *, http: str | None, mqtt: str | None, seed: int, hours: float, speed: float
) -> int:
    from vigil.sim import Region, RegionConfig

    now = time.time()
    start = now - hours * 3600 if speed == 0 else now
    region = Region(RegionConfig(seed=seed, start=start, first_seq=int(now * 1000)))
    platform = Platform(settings)  # registers the region in the store the server reads
    catalog = region.catalog()
    platform.apply_catalog(catalog)
    sink = _sink(platform, catalog, http, mqtt)

    async def run() -> int:
        progress = FeedProgress("simulating", total_seconds=hours * 3600)
        try:
            sent = await feed(
                region.events(until=start + hours * 3600), sink, speed=speed, progress=progress
            )
        finally:
            await sink.close()
        progress.finish()
        return sent

    sent = asyncio.run(run())
    _say(f"sent {sent:,} events; rejected by Vigil: {getattr(sink, 'rejected', 0):,}")
    platform.stop()
    return 0


def replay(
    settings: Settings,
    *,
    dataset: str,
    path: Path | None,
    tenant: str,
    http: str | None,
    speed: float,
    as_recorded: bool,
) -> int:
    from vigil.datasets import load_dataset, read_jsonl

    shift_to = None if as_recorded else time.time() - 60
    platform = Platform(settings)
    if dataset.endswith(".jsonl"):
        # A recording of registered devices: their catalog is already in the store.
        events = read_jsonl(Path(dataset), shift_to=shift_to)
        catalog = Catalog(
            tenants=tuple({e.tenant: platform.registry.tenant(e.tenant) for e in events}.values())
        )
    else:
        home = load_dataset(dataset, path, tenant=tenant, shift_to=shift_to)
        events = home.events
        catalog = Catalog(
            tenants=(Tenant(id=tenant, name=f"Replay: {dataset}", kind="council"),),
            entities=home.catalog.entities,
            devices=home.catalog.devices,
        )
    platform.apply_catalog(catalog)
    if not http:
        platform.start()
    sink = _sink(platform, catalog, http, None)
    span = events[-1].timestamp - events[0].timestamp if events else 0.0

    async def run() -> int:
        progress = FeedProgress(f"replaying {dataset}", total_seconds=span)
        try:
            sent = await feed(events, sink, speed=speed, progress=progress)
        finally:
            await sink.close()
        progress.finish()
        return sent

    sent = asyncio.run(run())
    if not http:
        platform.wait_until_processed(timeout=120)
    _say(f"replayed {sent:,} events; rejected: {getattr(sink, 'rejected', 0):,}")
    platform.stop()
    return 0


def migrate(settings: Settings) -> int:
    engine = open_engine(settings.store.url)
    migrations.upgrade(engine)
    _say(f"database at revision {migrations.current(engine)}")
    engine.dispose()
    return 0
