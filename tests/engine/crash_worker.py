"""Run by the crash-recovery test in a child process, which kills it with SIGKILL.

Ingests a deterministic stream that makes the device-health operator produce
findings all along (batteries running down, devices falling silent and coming
back, stuck sensors), printing a line once ingestion has begun.
"""

from __future__ import annotations

import asyncio
import random
import sys

from vigil.catalog import Catalog, Device, Entity, Tenant
from vigil.config import Settings
from vigil.events import Batch, DeviceStatus, Event, Reading, encode_json
from vigil.platform import Platform

BASE_TIME = 1_790_000_000.0
DEVICES = 40
STEPS = 3000
"""Event-time steps of 60 s: about two days."""


def catalog() -> Catalog:
    return Catalog(
        tenants=(
            Tenant(id="north", name="North", kind="council"),
            Tenant(id="plant", name="Plant", kind="plant"),
        ),
        entities=tuple(
            Entity(tenant=t, id=f"{t}.e{i}", kind="home", name=f"E{i}")
            for t in ("north", "plant")
            for i in range(DEVICES // 4)
        ),
        devices=tuple(
            Device(
                tenant=t,
                id=f"{t}.d{i}",
                entity=f"{t}.e{i % (DEVICES // 4)}",
                kind="sensor",
                heartbeat=1800.0,
            )
            for t in ("north", "plant")
            for i in range(DEVICES // 2)
        ),
    )


def stream(seed: int = 1) -> list[list[Event]]:
    """Batches of events in time order; silent spells and stuck values at random."""
    rng = random.Random(seed)
    seqs: dict[str, int] = {}
    silent_until: dict[str, int] = {}
    batches: list[list[Event]] = []
    devices = catalog().devices
    for step in range(STEPS):
        time = BASE_TIME + step * 60
        batch: list[Event] = []
        for device in devices:
            if silent_until.get(device.id, -1) > step:
                continue
            if rng.random() < 0.002:
                silent_until[device.id] = step + rng.randint(20, 90)
                continue
            seqs[device.id] = seqs.get(device.id, 0) + 1
            stuck = (step // 400) % 2 == 1 and device.id.endswith(("1", "7"))
            value = 19.5 if stuck else round(18 + rng.random() * 5, 1)
            common = dict(
                tenant=device.tenant, device=device.id, entity=device.entity,
                seq=seqs[device.id], time=time,
            )  # fmt: skip
            if step % 30 == 0:
                # Runs down over five hours of event time, then is replaced.
                battery = max(0.0, 100 - (step % 300) / 2.5 - rng.random())
                if device.id.endswith("d0") and step < 300:
                    battery = 10.0  # a weak battery from the start: findings from offset 1 on
                batch.append(DeviceStatus(**common, battery=battery))
            else:
                batch.append(Reading(**common, metric="temperature", value=value))
        batches.append(batch)
    return batches


async def ingest(platform: Platform) -> None:
    batches = stream()
    print("ingesting", flush=True)
    for batch in batches:
        for tenant in ("north", "plant"):
            events = [e for e in batch if e.tenant == tenant]
            if events:
                body = encode_json(Batch(events=events))
                await platform.ingestor.ingest(body, tenant=tenant, transport="test")
    print("ingested", flush=True)


def settings(url: str) -> Settings:
    return Settings(
        store={"url": url, "sqlite_synchronous": "FULL"},
        engine={"checkpoint_interval_seconds": 0.5},
        ingest={"max_past_seconds": 1e10},
    )


def main() -> None:
    platform = Platform(settings(sys.argv[1]), clock=lambda: BASE_TIME + STEPS * 60)
    platform.apply_catalog(catalog(), time=BASE_TIME - 60)
    platform.start(ticks=False)
    asyncio.run(ingest(platform))
    platform.wait_until_processed(120)
    platform.stop()
    print("done", flush=True)


if __name__ == "__main__":
    main()
