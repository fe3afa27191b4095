"""Shared fixtures: a platform on a temporary SQLite file, a small two-tenant catalog,
and the real servers (PostgreSQL, Mosquitto) with a database or topic prefix per test."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from vigil.catalog import Catalog, Device, Entity, Tenant
from vigil.config import Settings
from vigil.events import Batch, Event, Reading, encode_json
from vigil.platform import Platform

IN_CI = os.environ.get("CI") == "true"


def server_available(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_server(port: int, name: str) -> None:
    """Skip when a server is missing, except under CI where that is a failure."""
    if not server_available(port):
        message = f"{name} is not running on 127.0.0.1:{port}"
        if IN_CI:
            pytest.fail(message + " (CI=true: integration tests must run)")
        pytest.skip(message)


def small_catalog() -> Catalog:
    """Two councils and a plant; ids are prefixed by tenant, as the simulator does."""
    tenants = (
        Tenant(id="north", name="North Council", kind="council"),
        Tenant(id="south", name="South Council", kind="council"),
        Tenant(id="plant", name="Body Shop Plant", kind="plant"),
    )
    entities = []
    devices = []
    for tenant in ("north", "south"):
        for home in (1, 2):
            entity = f"{tenant}.home-{home}"
            entities.append(Entity(tenant=tenant, id=entity, kind="home", name=f"Home {home}"))
            for sensor, metric in (("kitchen-motion", "motion"), ("temperature", "temperature")):
                devices.append(
                    Device(
                        tenant=tenant,
                        id=f"{entity}.{sensor}",
                        entity=entity,
                        kind=sensor,
                        metrics=(metric,),
                        heartbeat=3600.0,
                    )
                )
    entities.append(Entity(tenant="plant", id="plant.press-1", kind="machine", name="Press 1"))
    devices.append(
        Device(
            tenant="plant",
            id="plant.press-1.plc",
            entity="plant.press-1",
            kind="plc",
            metrics=("cycle_count", "state"),
            heartbeat=600.0,
        )
    )
    return Catalog(tenants=tenants, entities=tuple(entities), devices=tuple(devices))


def reading(
    device: str = "north.home-1.temperature",
    seq: int = 1,
    *,
    value: float | str = 21.5,
    metric: str = "temperature",
    time_: float | None = None,
    tenant: str | None = None,
    entity: str | None = None,
) -> Reading:
    tenant = tenant or device.split(".")[0]
    entity = entity or ".".join(device.split(".")[:2])
    return Reading(
        tenant=tenant,
        device=device,
        entity=entity,
        seq=seq,
        time=time.time() - 60 if time_ is None else time_,
        metric=metric,
        value=value,
    )


def batch_json(*events: Event) -> bytes:
    return encode_json(Batch(events=list(events)))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        store={"url": f"sqlite:///{tmp_path / 'vigil.db'}", "sqlite_synchronous": "NORMAL"},
        engine={"checkpoint_interval_seconds": 0.2},
    )


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    platform = Platform(settings)
    platform.apply_catalog(small_catalog())
    platform.start()
    try:
        yield platform
    finally:
        platform.stop()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database of this test's own, dropped afterwards."""
    require_server(5432, "PostgreSQL")
    import psycopg

    name = f"vigil_test_{uuid.uuid4().hex[:12]}"
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def mqtt_prefix() -> str:
    """A topic prefix of this test's own on the real Mosquitto."""
    require_server(1883, "Mosquitto")
    return f"vigil-test-{uuid.uuid4().hex[:10]}"
