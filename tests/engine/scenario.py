"""A deterministic day of a small region, fed in event time, and what it leaves in the
store: the yardstick the fault, silence and configuration tests compare against."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import select

from tests.conftest import batch_json, reading
from vigil.events import DERIVED_TYPES, DeviceStatus, Event
from vigil.platform import Platform
from vigil.store.schema import condition_events, conditions, history_buckets, latest_values

STEP = 300.0
"""Event time between one round of readings (and one clock tick) and the next."""

SILENT_DEVICE = "north.home-2.temperature"
BATTERY_DEVICE = "north.home-1.temperature"


def day_start() -> float:
    """Eight hours ago, on a whole step: history the ingest window accepts."""
    return (time.time() - 8 * 3600) // STEP * STEP


@dataclass(frozen=True)
class Step:
    time: float
    events: dict[str, list[Event]]
    """Per tenant: what its devices send in this step."""


def steps(start: float, hours: float = 6.0) -> Iterator[Step]:
    """Readings every five minutes; one device falls silent after two hours (offline
    after its hour of heartbeat), one battery runs low and is replaced."""
    seq: dict[str, int] = {}
    devices = {
        "north": ["north.home-1.temperature", "north.home-1.kitchen-motion", SILENT_DEVICE],
        "south": ["south.home-1.temperature", "south.home-2.kitchen-motion"],
        "plant": ["plant.press-1.plc"],
    }
    metric = {"temperature": "temperature", "kitchen-motion": "motion", "plc": "cycle_count"}
    for index in range(int(hours * 3600 / STEP)):
        now = start + index * STEP
        batch: dict[str, list[Event]] = {}
        for tenant, names in devices.items():
            events: list[Event] = []
            for device in names:
                if device == SILENT_DEVICE and now > start + 2 * 3600:
                    continue
                seq[device] = seq.get(device, 0) + 1
                kind = device.rsplit(".", 1)[1]
                value = 18.0 + (index % 7) * 0.5 if kind == "temperature" else float(index % 2)
                if kind == "plc":
                    value = float(index * 40)
                events.append(
                    reading(device, seq[device], value=value, metric=metric[kind], time_=now)
                )
            if tenant == "north" and index in (12, 48):  # low at 1 h, replaced at 4 h
                seq[BATTERY_DEVICE] += 1
                events.append(
                    DeviceStatus(
                        tenant="north",
                        device=BATTERY_DEVICE,
                        entity="north.home-1",
                        seq=seq[BATTERY_DEVICE],
                        time=now + 1.0,
                        battery=9.0 if index == 12 else 95.0,
                    )
                )
            batch[tenant] = events
        yield Step(now, batch)


def send(platform: Platform, step: Step, *, retries: int = 20) -> None:
    """Ingest one step as a gateway would: a batch a tenant, sent again until it is
    acknowledged (a store fault makes ingest answer 'try again'), then tick."""
    for tenant, events in step.events.items():
        body = batch_json(*events)
        for attempt in range(retries):
            try:
                result = asyncio.run(
                    platform.ingestor.ingest(body, tenant=tenant, transport="http")
                )
            except Exception:
                if attempt == retries - 1:
                    raise
                time.sleep(0.2)
                continue
            assert result.rejected == [], result.rejected
            break
    for attempt in range(retries):
        try:
            platform.tick(step.time + STEP - 1.0)
            break
        except Exception:
            if attempt == retries - 1:
                raise
            time.sleep(0.2)


def outputs(platform: Platform) -> dict[str, Any]:
    """Everything the operators left: conditions with their histories, projections,
    and the derived events in the log. Without offsets: where a derived event lands
    in the log depends on timing, so its ``origin`` (the cause's offset) may differ."""
    with platform.engine.connect() as connection:
        tables = {
            table.name: [
                tuple(row)
                for row in connection.execute(
                    select(table).order_by(*table.primary_key.columns)
                ).all()
            ]
            for table in (conditions, condition_events, latest_values, history_buckets)
        }
    derived = []
    after = 0
    while records := platform.log.read(after, 10_000):
        derived += [
            msgspec.structs.replace(r.event, origin="")
            for r in records
            if isinstance(r.event, DERIVED_TYPES)
        ]
        after = records[-1].offset
    return {**tables, "derived": derived}
