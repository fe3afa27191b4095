"""The server side of benchmarks/ingest.py, run in a process of its own.

A normal Vigil platform (SQLite with FULL sync, or PostgreSQL; both foundation
operators; a registry of a given number of devices on a given number of entities) plus a
probe that records, for every operator output, the time from the event's
arrival at ingest to the output, and a route to read the probe.

With ``--sparkplug-group`` it is also a Sparkplug B host application for that group
only (a plant tenant of the run's own, its machines registered as devices), and the
probe watches the factory domain's OEE outputs instead (see ``OeeProbe``).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import uvicorn
from fastapi import Response
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from vigil.catalog import Catalog, Device, Entity, Tenant
from vigil.config import Settings
from vigil.domains import Domain, DomainRegistry
from vigil.engine.keyed import Emitted
from vigil.engine.projection_rows import LatestValue
from vigil.ingest.mqtt import mqtt_service
from vigil.ingest.sparkplug import SparkplugHost
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


def catalog(devices: int, entities: int, plant: Catalog | None = None) -> Catalog:
    members = shape(devices, entities)
    entity_ids = sorted({(tenant, entity) for tenant, entity, _ in members})
    extra = plant or Catalog()
    return Catalog(
        tenants=tuple(Tenant(id=t, name=t, kind="council") for t in TENANTS) + extra.tenants,
        entities=tuple(
            Entity(tenant=tenant, id=entity, kind="home", name=f"Home {entity.rsplit('-', 1)[1]}")
            for tenant, entity in entity_ids
        )
        + extra.entities,
        devices=tuple(
            Device(tenant=tenant, id=device, entity=entity, kind="temperature", heartbeat=3600.0)
            for tenant, entity, device in members
        )
        + extra.devices,
    )


def plant_machines(group: str, nodes: int, per_node: int) -> list[tuple[str, str, str]]:
    """``(edge node, Sparkplug device, machine entity)`` of the Sparkplug plant: each edge
    node a line, each device a machine's PLC. The load generator
    (benchmarks/sparkplug_load.py) publishes as exactly these."""
    return [
        (f"line-{n + 1}", f"m-{m + 1:03d}", f"{group}.line-{n + 1}.m-{m + 1:03d}")
        for n in range(nodes)
        for m in range(per_node)
    ]


def plant_catalog(group: str, nodes: int, per_node: int) -> Catalog:
    """A plant tenant named as the Sparkplug group: lines, machines (ideal cycle 30 s) and
    each machine's PLC as the Vigil device ``{group}.{node}.{device}``."""
    machines = plant_machines(group, nodes, per_node)
    lines = sorted({node for node, _, _ in machines})
    return Catalog(
        tenants=(Tenant(id=group, name="Sparkplug bench plant", kind="plant"),),
        entities=tuple(
            Entity(tenant=group, id=f"{group}.{line}", kind="line", name=line) for line in lines
        )
        + tuple(
            Entity(
                tenant=group,
                id=entity,
                kind="machine",
                name=entity.split(".", 1)[1],
                parent=f"{group}.{node}",
                attributes={"ideal_cycle_s": 30.0},
            )
            for node, _, entity in machines
        ),
        devices=tuple(
            Device(
                tenant=group,
                id=f"{group}.{node}.{device}",
                entity=entity,
                kind="plc",
                heartbeat=3600.0,
            )
            for node, device, entity in machines
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
        return percentiles(self.samples)


def percentiles(samples: list[float], prefix: str = "") -> dict[str, float]:
    """Count, p50, p99 and max of latencies in seconds, in ms."""
    if not samples:
        return {f"{prefix}count": 0}
    values = np.array(samples) * 1000
    return {
        f"{prefix}count": len(values),
        f"{prefix}p50_ms": float(np.percentile(values, 50)),
        f"{prefix}p99_ms": float(np.percentile(values, 99)),
        f"{prefix}max_ms": float(values.max()),
    }


class OeeProbe(LatencyProbe):
    """Latency from a message to the machine's updated OEE (``MachineOEE``'s ``oee`` row).

    Rows of a projection are not announced on the runtime's output hook (they go
    to the store with the next checkpoint), so the bench's ``MachineOEE`` reports
    each one here as it produces it (``around_the_clock``): the same point at
    which the other sections' probe sees ``LastValueTracker``'s output. Measured
    from the message: the row's time is the metric's timestamp, which the load
    generator sets (whole milliseconds) just before it publishes, on this same
    machine's clock; so the figure spans the publish, Mosquitto, the host, the
    commit and the operator. Rows written on a clock tick (a time that is not a
    whole millisecond) are left out: no message caused them."""

    def __init__(self) -> None:
        super().__init__()
        self._last: dict[str, float] = {}

    def __call__(self, operator: str, emitted: list[Emitted]) -> None:
        return  # the rows come through ``rows``

    def rows(self, outputs: list) -> None:
        if not self.recording:
            return
        now = time.time()
        for row in outputs:
            if type(row) is not LatestValue or row.metric != "oee":
                continue
            millis = row.time * 1000
            if abs(millis - round(millis)) > 1e-3 or self._last.get(row.entity) == row.time:
                continue  # a tick's row, or the same update again (counters publish together)
            self._last[row.entity] = row.time
            self.samples.append(now - row.time)

    def clear(self) -> None:
        self.samples.clear()
        self._last.clear()


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


OEE_PROBE = OeeProbe()


def around_the_clock(domain: Domain, publish_seconds: float = 1.0) -> Domain:
    """The factory domain with a plant that works three shifts every day and updates each
    machine's OEE every ``publish_seconds`` of event time (shipped: 60), each update
    reported to ``OEE_PROBE``.

    Why: the shipped calendar (06:00-22:00, Monday to Friday) makes a run at night
    or at a weekend off shift, where the operator updates nothing; and with a
    60 s cadence most DDATA would update no OEE, leaving the latency unmeasured.
    Every message updating OEE is also the operator's costliest case."""
    from vigil.factory import LineOEE, MachineOEE

    class ProbedMachineOEE(MachineOEE):
        def process(self, state: Any, event: Any) -> tuple[Any, list]:
            state, outputs = super().process(state, event)
            if outputs:
                OEE_PROBE.rows(outputs)
            return state, outputs

    def operators(settings: Settings) -> list:
        shifts = ((0.0, 8.0), (8.0, 16.0), (16.0, 24.0))
        machine = ProbedMachineOEE(
            shifts=shifts, workdays=tuple(range(7)), publish_seconds=publish_seconds
        )
        return [machine, LineOEE()]

    return dataclasses.replace(domain, operators=operators)


def bench_domains(names: str, publish_seconds: float = 1.0) -> DomainRegistry:
    """The domains asked for; the bench's tenants are councils, so without the care
    domain a stand-in with no operators serves that kind of tenant."""
    installed = [
        around_the_clock(domain, publish_seconds) if domain.name == "factory" else domain
        for domain in DomainRegistry.discover().domains
    ]
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
    parser.add_argument(
        "--sparkplug-group", help="run a Sparkplug host for this group (a plant tenant)"
    )
    parser.add_argument("--sparkplug-nodes", type=int, default=10)
    parser.add_argument("--sparkplug-devices", type=int, default=50, help="devices a node")
    parser.add_argument("--oee-publish-seconds", type=float, default=1.0)
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
    group = args.sparkplug_group
    settings = Settings(
        store={"url": url, "sqlite_synchronous": args.synchronous},
        mqtt={"enabled": bool(args.mqtt_prefix), "topic_prefix": args.mqtt_prefix or "vigil",
              "client_id": f"bench-{args.port}"},
        sparkplug={"enabled": bool(group), "groups": [group or "+"],
                   "host_id": f"bench-{group}", "client_id": f"bench-sp-{args.port}"},
        web={"port": args.port},
    )  # fmt: skip
    platform = Platform(settings, domains=bench_domains(args.domains, args.oee_publish_seconds))
    plant = plant_catalog(group, args.sparkplug_nodes, args.sparkplug_devices) if group else None
    platform.apply_catalog(catalog(args.devices, args.entities, plant))
    probe = OEE_PROBE if group else LatencyProbe()
    gc_clock = GcClock()
    platform.runtime.add_sink(probe)
    services: list = [mqtt_service(settings.mqtt)] if args.mqtt_prefix else []
    hosts: list[SparkplugHost] = []
    if group:

        async def sparkplug(platform: Platform) -> None:
            # Built here, not by ``sparkplug_service``, to read its message counts.
            host = SparkplugHost(settings.mqtt, settings.sparkplug, platform.ingestor)
            hosts.append(host)
            await host.run()

        services.append(sparkplug)
    app = create_app(platform, services=services)

    @app.post("/bench/probe/{action}")
    def control(action: str) -> Response:
        if action == "start":
            probe.samples.clear()
            if isinstance(probe, OeeProbe):
                probe.clear()
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
        if group:
            host = hosts[0] if hosts else None
            body["sparkplug"] = {
                "online": bool(host and host.online.is_set()),
                "messages": host.messages if host else 0,
                "acknowledged": host.acknowledged if host else 0,
                "rebirths_requested": host.rebirths_requested if host else 0,
                "dead_letters": platform.dead_letters.counts(group),
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
