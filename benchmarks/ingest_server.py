"""The server side of benchmarks/ingest.py, run in a process of its own.

A normal Vigil platform (SQLite with FULL sync, or PostgreSQL; both foundation
operators; a registry of a given number of devices on a given number of entities) plus a
probe that records, for every operator output, the time from the event's
arrival at ingest to the output, and a route to read the probe.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import uvicorn
from fastapi import Response
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from vigil.catalog import Catalog, Device, Entity, Tenant
from vigil.config import Settings
from vigil.domains import Domain, DomainRegistry
from vigil.engine.keyed import Emitted
from vigil.ingest.mqtt import mqtt_service
from vigil.platform import Platform
from vigil.store.schema import operator_state
from vigil.web.app import create_app

TENANTS = ("north-council", "south-council")


def shape(devices: int, entities: int) -> list[tuple[str, str, str]]:
    """``(tenant, entity, device)`` of ``devices`` devices on ``entities`` entities, half
    in each tenant, devices dealt round-robin over their tenant's entities. The load
    generator (benchmarks/ingest.py) sends to exactly these."""
    result = []
    per_tenant_entities = max(1, entities // len(TENANTS))
    for tenant in TENANTS:
        for number in range(devices // len(TENANTS)):
            entity = f"{tenant}.home-{number % per_tenant_entities:06d}"
            result.append((tenant, entity, f"{entity}.sensor-{number // per_tenant_entities}"))
    return result


def catalog(devices: int, entities: int) -> Catalog:
    members = shape(devices, entities)
    entity_ids = sorted({(tenant, entity) for tenant, entity, _ in members})
    return Catalog(
        tenants=tuple(Tenant(id=t, name=t, kind="council") for t in TENANTS),
        entities=tuple(
            Entity(tenant=tenant, id=entity, kind="home", name=f"Home {entity.rsplit('-', 1)[1]}")
            for tenant, entity in entity_ids
        ),
        devices=tuple(
            Device(tenant=tenant, id=device, entity=entity, kind="temperature", heartbeat=3600.0)
            for tenant, entity, device in members
        ),
    )


def rss_bytes() -> int:
    """The process's resident memory now."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def stored_state(platform: Platform) -> dict[str, dict[str, int]]:
    """Checkpointed operator state in the store, per operator: keys and bytes."""
    try:
        with platform.engine.connect() as connection:
            rows = connection.execute(
                select(
                    operator_state.c.operator,
                    func.count(),
                    func.sum(func.length(operator_state.c.state)),
                ).group_by(operator_state.c.operator)
            ).all()
    except SQLAlchemyError as err:  # the engine's tables changed: say so, not fail
        return {"error": {"message": str(err)[:200]}}  # type: ignore[dict-item]
    return {name: {"keys": keys, "bytes": int(size or 0)} for name, keys, size in rows}


class LatencyProbe:
    """Arrival-to-output latency of every live ``reading`` output."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.recording = False

    def __call__(self, operator: str, emitted: list[Emitted]) -> None:
        if not self.recording or operator != "last_value":
            return
        now = time.time()
        self.samples.extend(now - item.received for item in emitted)

    def summary(self) -> dict[str, float]:
        if not self.samples:
            return {"count": 0}
        values = np.array(self.samples) * 1000
        return {
            "count": len(values),
            "p50_ms": float(np.percentile(values, 50)),
            "p99_ms": float(np.percentile(values, 99)),
            "max_ms": float(values.max()),
        }


class GcClock:
    """Time spent in the cyclic garbage collector, by generation: it stops every thread."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.collections = [0, 0, 0]
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            generation = info["generation"]
            self.seconds[generation] += time.perf_counter() - self._started
            self.collections[generation] += 1

    def summary(self) -> dict[str, list[float] | list[int]]:
        return {
            "gc_seconds": [round(s, 3) for s in self.seconds],
            "gc_collections": self.collections,
        }


def bench_domains(names: str) -> DomainRegistry:
    """The domains asked for; the bench's tenants are councils, so without the care
    domain a stand-in with no operators serves that kind of tenant."""
    installed = DomainRegistry.discover().domains
    if names == "all":
        return DomainRegistry(installed)
    wanted = {name.strip() for name in names.split(",")}
    chosen = [domain for domain in installed if domain.name in wanted]
    if not any("council" in domain.tenant_kinds for domain in chosen):
        chosen.append(Domain(name="bench", tenant_kinds=("council",)))
    return DomainRegistry(chosen)


def main() -> None:
    parser = argparse.ArgumentParser()
    store = parser.add_mutually_exclusive_group(required=True)
    store.add_argument("--db", type=Path, help="a SQLite file")
    store.add_argument("--store-url", help="a SQLAlchemy URL (PostgreSQL)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--entities", type=int, default=500)
    parser.add_argument("--mqtt-prefix")
    parser.add_argument("--switch-interval", type=float)
    parser.add_argument("--synchronous", choices=["FULL", "NORMAL"], default="FULL")
    parser.add_argument(
        "--domains",
        default="monitoring",
        help="installed domains whose operators run, comma-separated, or 'all' "
        "(default: the engine's own, domain-agnostic monitoring operators)",
    )
    args = parser.parse_args()
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)

    url = args.store_url or f"sqlite:///{args.db}"
    settings = Settings(
        store={"url": url, "sqlite_synchronous": args.synchronous},
        mqtt={"enabled": bool(args.mqtt_prefix), "topic_prefix": args.mqtt_prefix or "vigil",
              "client_id": f"bench-{args.port}"},
        web={"port": args.port},
    )  # fmt: skip
    platform = Platform(settings, domains=bench_domains(args.domains))
    platform.apply_catalog(catalog(args.devices, args.entities))
    probe = LatencyProbe()
    gc_clock = GcClock()
    platform.runtime.add_sink(probe)
    services = [mqtt_service(settings.mqtt)] if args.mqtt_prefix else []
    app = create_app(platform, services=services)

    @app.post("/bench/probe/{action}")
    def control(action: str) -> Response:
        if action == "start":
            probe.samples.clear()
            probe.recording = True
        elif action == "stop":
            probe.recording = False
        health = platform.health()
        body = {
            **probe.summary(),
            "log_offset": health.log_offset,
            "processed_offset": health.processed_offset,
            "commits": health.writer_commits,
            **gc_clock.summary(),
            "cpu_seconds": time.process_time(),
            "rss_bytes": rss_bytes(),
        }
        return Response(json.dumps(body), media_type="application/json")

    @app.get("/bench/tokens")
    def tokens(role: str = "gateway") -> Response:
        now = time.time()
        body = {t: platform.tokens.create(t, f"bench-{role}", role, now=now) for t in TENANTS}
        return Response(json.dumps(body), media_type="application/json")

    @app.get("/bench/state")
    def state() -> Response:
        # A checkpoint after everything processed: with many changed keys the runtime
        # may defer its next one for up to a minute (``_due_checkpoints``).
        platform.wait_until_processed(timeout=60)
        gc.collect()
        body = {"rss_bytes": rss_bytes(), "stored": stored_state(platform)}
        return Response(json.dumps(body), media_type="application/json")

    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
