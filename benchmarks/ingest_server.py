"""The server side of benchmarks/ingest.py, run in a process of its own.

A normal Vigil platform (SQLite, FULL sync, both foundation operators) plus a
probe that records, for every operator output, the time from the event's
arrival at ingest to the output, and a route to read the probe.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path

import numpy as np
import uvicorn
from fastapi import Response

from vigil.catalog import Catalog, Device, Entity, Tenant
from vigil.config import Settings
from vigil.engine.keyed import Emitted
from vigil.ingest.mqtt import mqtt_service
from vigil.platform import Platform
from vigil.web.app import create_app

TENANTS = ("north-council", "south-council")


def catalog(homes: int, sensors: int) -> Catalog:
    entities = []
    devices = []
    for tenant in TENANTS:
        for home in range(homes):
            entity = f"{tenant}.home-{home:04d}"
            entities.append(Entity(tenant=tenant, id=entity, kind="home", name=f"Home {home}"))
            devices += [
                Device(
                    tenant=tenant,
                    id=f"{entity}.sensor-{s}",
                    entity=entity,
                    kind="temperature",
                    heartbeat=3600.0,
                )
                for s in range(sensors)
            ]
    return Catalog(
        tenants=tuple(Tenant(id=t, name=t, kind="council") for t in TENANTS),
        entities=tuple(entities),
        devices=tuple(devices),
    )


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--homes", type=int, default=250)
    parser.add_argument("--sensors", type=int, default=10)
    parser.add_argument("--mqtt-prefix")
    parser.add_argument("--switch-interval", type=float)
    parser.add_argument("--synchronous", choices=["FULL", "NORMAL"], default="FULL")
    args = parser.parse_args()
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)

    settings = Settings(
        store={"url": f"sqlite:///{args.db}", "sqlite_synchronous": args.synchronous},
        mqtt={"enabled": bool(args.mqtt_prefix), "topic_prefix": args.mqtt_prefix or "vigil",
              "client_id": f"bench-{args.port}"},
        web={"port": args.port},
    )  # fmt: skip
    platform = Platform(settings)
    platform.apply_catalog(catalog(args.homes, args.sensors))
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
        body = {
            **probe.summary(),
            "log_offset": platform.log.next_offset - 1,
            "processed_offset": platform.runtime.processed_offset,
            "commits": platform.writer.commits,
            **gc_clock.summary(),
            "cpu_seconds": time.process_time(),
        }
        return Response(json.dumps(body), media_type="application/json")

    @app.get("/bench/tokens")
    def tokens() -> Response:
        now = time.time()
        body = {t: platform.tokens.create(t, "bench", "gateway", now=now) for t in TENANTS}
        return Response(json.dumps(body), media_type="application/json")

    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
