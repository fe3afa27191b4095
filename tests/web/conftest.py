"""Fixtures for the web pages: a small two-tenant platform on a temporary SQLite file."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest

from vigil.catalog import Catalog, Device, Entity, Tenant
from vigil.config import Settings
from vigil.platform import Platform

EVIL_NAME = "<script>alert('x')</script> Flat 2"

CATALOG = Catalog(
    tenants=(
        Tenant(id="north", name="North Council", kind="council"),
        Tenant(id="plant", name="Riverside Plant", kind="plant"),
    ),
    entities=(
        Entity(tenant="north", id="north.h1", kind="home", name="Flat 1, Elm Court"),
        Entity(tenant="north", id="north.h2", kind="home", name=EVIL_NAME),
        Entity(tenant="plant", id="plant.m1", kind="machine", name="Press 1"),
        Entity(tenant="plant", id="plant.m2", kind="machine", name="Press 2"),
    ),
    devices=(
        Device(
            tenant="north",
            id="north.h1.temp",
            entity="north.h1",
            kind="thermometer",
            location="living room",
            metrics=("temperature",),
            heartbeat=3600.0,
        ),
        Device(
            tenant="north",
            id="north.h1.motion",
            entity="north.h1",
            kind="pir",
            location="hall",
            metrics=("motion",),
        ),
        Device(
            tenant="north",
            id="north.h2.temp",
            entity="north.h2",
            kind="thermometer",
            metrics=("temperature",),
        ),
        Device(
            tenant="plant",
            id="plant.m1.vib",
            entity="plant.m1",
            kind="accelerometer",
            metrics=("vibration_rms",),
        ),
        Device(
            tenant="plant", id="plant.m2.state", entity="plant.m2", kind="plc", metrics=("state",)
        ),
    ),
)


@dataclass
class Tokens:
    coordinator: str
    carer: str
    gateway: str
    engineer: str
    plant_gateway: str
    installer: str


def make_platform(path: Path, *, demo_login: bool = True) -> Platform:
    settings = Settings(store={"url": f"sqlite:///{path}"}, web={"demo_login": demo_login})
    platform = Platform(settings)
    platform.apply_catalog(CATALOG)
    return platform


def make_tokens(platform: Platform) -> Tokens:
    now = platform.clock()
    return Tokens(
        coordinator=platform.tokens.create("north", "coord", "coordinator", now=now),
        carer=platform.tokens.create("north", "carer", "carer", now=now),
        gateway=platform.tokens.create("north", "gw", "gateway", now=now),
        engineer=platform.tokens.create("plant", "eng", "engineer", now=now),
        plant_gateway=platform.tokens.create("plant", "pgw", "gateway", now=now),
        installer=platform.tokens.create("north", "inst", "installer", now=now),
    )


class Sequencer:
    """Event batches with increasing ``seq`` per device and current times."""

    def __init__(self) -> None:
        self.seq: dict[str, int] = {}

    def event(self, tenant: str, device: str, entity: str, **fields: object) -> dict[str, object]:
        self.seq[device] = self.seq.get(device, 0) + 1
        body = {"tenant": tenant, "device": device, "entity": entity, "seq": self.seq[device]}
        body.setdefault("time", time.time())
        return {"type": "reading", **body, **fields}

    def batch(self, *events: dict[str, object]) -> bytes:
        return msgspec.json.encode({"v": 1, "events": list(events)})


@pytest.fixture
def platform_factory(tmp_path: Path) -> Callable[..., Platform]:
    return lambda **kwargs: make_platform(tmp_path / "v.db", **kwargs)


@pytest.fixture
def sequencer() -> Iterator[Sequencer]:
    yield Sequencer()


@pytest.fixture
def tokens_for() -> Callable[[Platform], Tokens]:
    """Test modules get helpers through fixtures, so they never import this conftest."""
    return make_tokens


@pytest.fixture
def evil_name() -> str:
    return EVIL_NAME
