"""A token of one tenant can never read another tenant's data, on any route.

Routes are found from the app itself, so a route added later is checked too:
every route needs a sign-in unless it is on an explicit allow-list, every route
taking an ``{entity_id}`` answers 404 for another tenant's entity, and every list
shows only the caller's tenant.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Mount

try:
    from fastapi.routing import iter_route_contexts
except ImportError:  # FastAPI before lazily included routers: app.routes is flat
    iter_route_contexts = None

from vigil.catalog import Catalog, Device, Entity, Tenant
from vigil.config import Settings
from vigil.errors import IngestError
from vigil.platform import Platform
from vigil.web.app import create_app

A = "alpha"
B = "bravo-x7q"
A_HOME = "alpha.home-1"
B_HOME = "bravo-x7q.home-zebra"
B_PRESS = "bravo-x7q.press-zeta"
B_VALUE = 91.375
B_SECRETS = (B, "Zebra Secret", "Zeta Secret", "91.375", "ghost-device")
"""Strings only tenant B's data contains: its tenant id (prefix of all its ids), its
entity names, a reading value and the device named in one of its dead letters."""

PUBLIC = frozenset(
    {
        "/healthz",
        "/login",
        "/login/demo",  # the sign-in itself; 404 unless web.demo_login is on
        "/logout",
        "/docs",
        "/docs/assets",  # Swagger UI's files
        "/docs/oauth2-redirect",
        "/openapi.json",
        "/redoc",
        "/static",
    }
)
"""The only routes that answer without a sign-in."""

CATALOG = Catalog(
    tenants=(
        Tenant(id=A, name="Alpha Council", kind="council"),
        Tenant(id=B, name="Bravo Council", kind="council"),
    ),
    entities=(
        Entity(tenant=A, id=A_HOME, kind="home", name="Alpha Flat"),
        Entity(tenant=B, id=B_HOME, kind="home", name="Zebra Secret Flat"),
        Entity(tenant=B, id=B_PRESS, kind="machine", name="Zeta Secret Press"),
    ),
    devices=(
        Device(tenant=A, id=f"{A_HOME}.temp", entity=A_HOME, kind="t", metrics=("temperature",)),
        Device(tenant=B, id=f"{B_HOME}.temp", entity=B_HOME, kind="t", metrics=("temperature",)),
        Device(tenant=B, id=f"{B_PRESS}.plc", entity=B_PRESS, kind="plc", metrics=("state",)),
    ),
)


@dataclass
class Events:
    """Event dicts with increasing ``seq`` per device."""

    seq: dict[str, int] = field(default_factory=dict)

    def __call__(self, device: str, kind: str = "reading", **fields: object) -> dict[str, object]:
        self.seq[device] = self.seq.get(device, 0) + 1
        tenant, entity = device.split(".")[0], ".".join(device.split(".")[:2])
        body = {"type": kind, "tenant": tenant, "device": device, "entity": entity}
        return {**body, "seq": self.seq[device], "time": time.time() - 5, **fields}

    @staticmethod
    def batch(*events: dict[str, object]) -> bytes:
        return msgspec.json.encode({"v": 1, "events": list(events)})


@dataclass
class World:
    platform: Platform
    app: FastAPI
    tokens: dict[str, str]
    events: Events

    def condition_of(self, tenant: str) -> str:
        return self.platform.conditions.open(tenant)[0].id


def _wait(condition: object, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def _seed(platform: Platform, events: Events) -> None:
    async def send(tenant: str, body: bytes) -> None:
        # A malformed payload raises IngestError after its dead letter is written.
        with contextlib.suppress(IngestError):
            await platform.ingestor.ingest(body, tenant=tenant, transport="http", source="seed")

    await send(
        B,
        events.batch(
            events(f"{B_HOME}.temp", metric="temperature", value=B_VALUE),
            events(f"{B_HOME}.temp", "status", battery=5),
            events(f"{B_PRESS}.plc", metric="state", value="running"),
            {**events(f"{B}.ghost-device", metric="x", value=1), "entity": B_HOME},
        ),
    )
    await send(B, b'{"v": 1, "events": [ nope bravo-x7q')
    await send(
        A,
        events.batch(
            events(f"{A_HOME}.temp", metric="temperature", value=20.0),
            events(f"{A_HOME}.temp", "status", battery=4),
        ),
    )
    await send(A, events.batch({**events(f"{A_HOME}.nothing", metric="x", value=1)}))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    platform = Platform(Settings(store={"url": f"sqlite:///{tmp_path / 'v.db'}"}))
    platform.apply_catalog(CATALOG)
    platform.start()
    try:
        events = Events()
        asyncio.run(_seed(platform, events))
        platform.tick(time.time() + 3600)  # closes the history buckets of the readings
        platform.wait_until_processed()
        _wait(
            lambda: platform.conditions.open(B) and platform.conditions.open(A), "open conditions"
        )
        assert platform.dead_letters.counts(B) == {"unknown_device": 1, "malformed": 1}
        now = platform.clock()
        tokens = {
            f"{tenant}:{role}": platform.tokens.create(tenant, role, role, now=now)
            for tenant in (A, B)
            for role in ("coordinator", "carer", "gateway", "administrator")
        }
        yield World(platform, create_app(platform, manage_platform=False), tokens, events)
    finally:
        platform.stop()


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(world.app) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _flat_routes(app: FastAPI) -> list[Any]:
    """The app's routes with included routers expanded (FastAPI >= 0.16x keeps them nested)."""
    if iter_route_contexts is None:
        return list(app.routes)
    return list(iter_route_contexts(app.routes))


def routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route and mount of the app."""
    found = []
    for route in _flat_routes(app):
        if isinstance(getattr(route, "original_route", route), Mount):
            found.append(("GET", route.path))
            continue
        assert route.path, route
        for method in sorted(route.methods or {"GET"}):
            if method != "HEAD":
                found.append((method, route.path))
    return found


def fill(path: str, entity: str = B_HOME, condition: str = "battery_low:x~1") -> str:
    return (
        path.replace("{entity_id}", entity)
        .replace("{condition_id}", condition)
        .replace("{slug}", "homes")
    )


def test_route_enumeration_sees_the_app(world: World) -> None:
    """The enumeration finds the known API routes and pages (so the checks are not vacuous)."""
    found = set(routes(world.app))
    for expected in [
        ("GET", "/api/v1/entities"),
        ("GET", "/api/v1/entities/{entity_id}"),
        ("POST", "/api/v1/ingest"),
        ("GET", "/api/v1/live"),
        ("GET", "/"),
        ("GET", "/entities/{entity_id}"),
        ("GET", "/dead-letters"),
    ]:
        assert expected in found


def test_every_route_needs_sign_in_unless_allow_listed(client: TestClient, world: World) -> None:
    """Without credentials (or with a bad token), every route outside the allow-list
    answers 401 (API) or redirects to /login (pages)."""
    checked = 0
    for method, path in routes(world.app):
        if path in PUBLIC:
            continue
        url = fill(path)
        for headers in ({}, bearer("vgl_0000_not-a-real-secret"), bearer("garbage")):
            client.cookies.clear()
            response = client.request(method, url, headers=headers, follow_redirects=False)
            if path.startswith("/api/") or path == "/metrics":
                assert response.status_code == 401, (method, path, response.status_code)
                assert response.headers.get("www-authenticate") == "Bearer"
            else:
                assert response.status_code == 303, (method, path, response.status_code)
                assert response.headers["location"].startswith("/login")
            assert not any(secret in response.text for secret in B_SECRETS[1:])
            checked += 1
    assert checked >= 3 * 12


def test_public_routes_show_no_tenant_data(client: TestClient, world: World) -> None:
    """The allow-listed routes answer without sign-in but reveal nothing of a tenant."""
    for method, path in routes(world.app):
        if path not in PUBLIC or method != "GET" or path == "/static":
            continue
        response = client.get(path, follow_redirects=False)
        assert response.status_code < 500, path
        assert not any(secret in response.text for secret in B_SECRETS), path


def test_demo_sign_in_is_off_by_default(client: TestClient) -> None:
    """The one allow-listed route that issues credentials does nothing unless enabled."""
    response = client.post("/login/demo", data={"tenant": B}, follow_redirects=False)
    assert response.status_code == 404
    assert "vigil_token" not in response.headers.get("set-cookie", "")


def test_cookie_is_not_trusted_for_writes(client: TestClient, world: World) -> None:
    """A sign-in cookie alone cannot write (no cross-site form posts)."""
    client.cookies.set("vigil_token", world.tokens[f"{A}:gateway"])
    body = Events.batch(world.events(f"{A_HOME}.temp", metric="temperature", value=1.0))
    response = client.post("/api/v1/ingest", content=body)
    client.cookies.clear()
    assert response.status_code == 401


def entity_routes(app: FastAPI) -> list[str]:
    paths = [path for method, path in routes(app) if method == "GET" and "{entity_id}" in path]
    assert len(paths) >= 4, paths
    return paths


@pytest.mark.parametrize("role", ["coordinator", "carer", "administrator"])
def test_other_tenants_entity_is_not_found(client: TestClient, world: World, role: str) -> None:
    """Every route with an ``{entity_id}`` answers 404 for another tenant's entity, with
    none of its data; the owner gets 200 and the data on the same route."""
    for path in entity_routes(world.app):
        for entity in (B_HOME, B_PRESS):
            response = client.get(fill(path, entity), headers=bearer(world.tokens[f"{A}:{role}"]))
            assert response.status_code == 404, (path, entity, response.status_code)
            assert not any(s in response.text for s in ("Zebra Secret", "Zeta Secret", "91.375"))
            assert f"{entity}.temp" not in response.text and f"{entity}.plc" not in response.text
        own = client.get(fill(path), headers=bearer(world.tokens[f"{B}:{role}"]))
        assert own.status_code == 200, path
        assert any(s in own.text for s in ("Zebra Secret", "91.375", "battery_low")), path


def condition_routes(app: FastAPI) -> list[tuple[str, str]]:
    found = [(method, path) for method, path in routes(app) if "{condition_id}" in path]
    assert len(found) >= 4, found
    return found


@pytest.mark.parametrize("role", ["coordinator", "administrator"])
def test_other_tenants_condition_is_not_found(client: TestClient, world: World, role: str) -> None:
    """Every route with a ``{condition_id}`` -- reads and actions -- answers 404 for another
    tenant's alert and changes nothing; the owner reads it on the same routes."""
    theirs = world.condition_of(B)
    before = world.platform.conditions.get(B, theirs)
    for method, path in condition_routes(world.app):
        url = fill(path, condition=theirs)
        headers = bearer(world.tokens[f"{A}:{role}"])
        if method == "POST" and path.startswith("/api/"):
            response = client.post(url, json={"action": "acknowledge"}, headers=headers)
        elif method == "POST":
            response = client.post(url, data={"action": "acknowledge"}, headers=headers)
        else:
            response = client.get(url, headers=headers)
        assert response.status_code == 404, (method, path, response.status_code)
        assert not any(s in response.text for s in B_SECRETS[1:]), path
        if method == "GET":
            own = client.get(url, headers=bearer(world.tokens[f"{B}:{role}"]))
            assert own.status_code == 200, path
            assert "battery" in own.text.lower(), path
    assert world.platform.conditions.get(B, theirs) == before


def test_entity_route_of_own_tenant_shows_own_data(client: TestClient, world: World) -> None:
    """The same routes work for the caller's own entity (the 404s are not a broken route)."""
    for path in entity_routes(world.app):
        response = client.get(fill(path, A_HOME), headers=bearer(world.tokens[f"{A}:coordinator"]))
        assert response.status_code == 200, path
        assert not any(secret in response.text for secret in B_SECRETS)


def test_live_stream_of_other_tenants_entity_is_not_found(client: TestClient, world: World) -> None:
    """Asking the live stream for another tenant's entity is refused before streaming."""
    response = client.get(
        "/api/v1/live", params={"entity": B_HOME}, headers=bearer(world.tokens[f"{A}:coordinator"])
    )
    assert response.status_code == 404


def list_routes(app: FastAPI) -> list[str]:
    paths = [
        path
        for method, path in routes(app)
        if method == "GET" and "{" not in path and path not in PUBLIC and path != "/api/v1/live"
    ]
    paths += [f"/{item.slug}" for item in world_lists(app)]
    expected = {
        "/api/v1/entities",
        "/api/v1/conditions",
        "/api/v1/dead-letters",
        "/api/v1/ingest/stats",
        "/",
        "/alerts",
        "/homes",
        "/machines",
        "/dead-letters",
    }
    assert expected <= set(paths), set(paths)
    return paths


def world_lists(app: FastAPI) -> list[Any]:
    """The domains' list pages (one ``/{slug}`` route serves them all)."""
    return list(app.state.platform.domains.lists)


def test_lists_show_only_own_tenant(client: TestClient, world: World) -> None:
    """Every list (API and pages) read with tenant A's token shows nothing of tenant B,
    while B's token sees B's data on the same routes."""
    a_bodies, b_bodies = [], []
    for path in list_routes(world.app):
        for tenant, bodies in ((A, a_bodies), (B, b_bodies)):
            response = client.get(path, headers=bearer(world.tokens[f"{tenant}:coordinator"]))
            allowed = (403,) if path == "/metrics" else (200, 404)  # administrators only
            assert response.status_code in allowed, (tenant, path, response.status_code)
            bodies.append(response.text)
        leaked = [secret for secret in B_SECRETS if secret in a_bodies[-1]]
        assert leaked == [], (path, leaked)
    seen_by_b = "".join(b_bodies)  # the markers are visible where they belong
    assert all(s in seen_by_b for s in (B, "Zebra Secret", "Zeta Secret", "ghost-device"))
    assert A_HOME in "".join(a_bodies)


def test_roles(client: TestClient, world: World) -> None:
    """A gateway cannot read; a carer cannot read dead letters; a coordinator cannot ingest."""
    gateway = bearer(world.tokens[f"{A}:gateway"])
    for path in ("/api/v1/entities", f"/api/v1/entities/{A_HOME}", "/api/v1/conditions"):
        assert client.get(path, headers=gateway).status_code == 403, path
    for path in ("/", "/homes", f"/entities/{A_HOME}"):
        assert client.get(path, headers=gateway, follow_redirects=False).status_code == 403, path
    carer = bearer(world.tokens[f"{A}:carer"])
    for path in ("/api/v1/dead-letters", "/api/v1/ingest/stats", "/dead-letters"):
        assert client.get(path, headers=carer).status_code == 403, path
    assert client.get("/api/v1/entities", headers=carer).status_code == 200
    body = Events.batch(world.events(f"{A_HOME}.temp", metric="temperature", value=1.0))
    before = world.platform.log.count(A)
    coordinator = bearer(world.tokens[f"{A}:coordinator"])
    assert client.post("/api/v1/ingest", content=body, headers=coordinator).status_code == 403
    assert world.platform.log.count(A) == before


def test_ingest_for_another_tenant_is_rejected(client: TestClient, world: World) -> None:
    """Events naming tenant B sent with tenant A's token are refused as ``wrong_tenant``
    and nothing is written for B (no event, no dead letter, no reading)."""
    platform = world.platform
    log_before, dead_before = platform.log.count(B), platform.dead_letters.counts(B)
    latest_before = platform.projections.latest(B, B_HOME)
    body = Events.batch(
        world.events(f"{B_HOME}.temp", metric="temperature", value=-40.0),
        world.events(f"{B_PRESS}.plc", metric="state", value="stopped"),
    )
    response = client.post(
        "/api/v1/ingest", content=body, headers=bearer(world.tokens[f"{A}:gateway"])
    )
    assert response.status_code == 422
    result = response.json()
    assert result["accepted"] == 0
    assert [r["reason"] for r in result["rejected"]] == ["wrong_tenant", "wrong_tenant"]
    platform.wait_until_processed()
    assert platform.log.count(B) == log_before
    assert platform.dead_letters.counts(B) == dead_before
    assert platform.projections.latest(B, B_HOME) == latest_before
    assert platform.dead_letters.counts(A).get("wrong_tenant") == 2


async def test_bus_delivers_only_the_subscribers_tenant(world: World) -> None:
    """A live subscription of tenant A receives A's outputs and never B's."""
    platform, events = world.platform, world.events
    sub_a = platform.bus.subscribe(A)
    sub_b = platform.bus.subscribe(B)
    try:
        body_b = Events.batch(events(f"{B_HOME}.temp", metric="temperature", value=B_VALUE))
        body_a = Events.batch(events(f"{A_HOME}.temp", metric="temperature", value=19.0))
        await platform.ingestor.ingest(body_b, tenant=B, transport="test")
        await platform.ingestor.ingest(body_a, tenant=A, transport="test")
        _, first_b = await asyncio.wait_for(sub_b.get(), 10)
        assert first_b.tenant == B
        received = []
        while not any(output.entity == A_HOME for output in received):
            received.append((await asyncio.wait_for(sub_a.get(), 10))[1])
        while not sub_a.queue.empty():
            received.append(sub_a.queue.get_nowait()[1])
        assert {output.tenant for output in received} == {A}
    finally:
        sub_a.close()
        sub_b.close()
    assert platform.bus.subscriber_count == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_live_stream_carries_only_own_tenant(world: World) -> None:
    """Over a real server, A's SSE stream shows A's outputs and none of B's, even when B's
    events are ingested first."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(world.app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        _wait(lambda: server.started, "the server to start")
        base = f"http://127.0.0.1:{port}"
        events = world.events
        with (
            httpx.Client(base_url=base, timeout=httpx.Timeout(10.0)) as http,
            http.stream(
                "GET", "/api/v1/live", headers=bearer(world.tokens[f"{A}:coordinator"])
            ) as stream,
        ):
            assert stream.status_code == 200
            lines = stream.iter_lines()
            assert next(lines) == ": connected"
            for tenant, device, value in (
                (B, f"{B_HOME}.temp", B_VALUE),
                (A, f"{A_HOME}.temp", 18.5),
            ):
                body = Events.batch(events(device, metric="temperature", value=value))
                sent = http.post(
                    "/api/v1/ingest",
                    content=body,
                    headers=bearer(world.tokens[f"{tenant}:gateway"]),
                )
                assert sent.status_code == 200, sent.text
            seen: list[str] = []
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                line = next(lines)
                seen.append(line)
                if line.startswith("data:") and A_HOME in line and "18.5" in line:
                    break
            else:
                raise AssertionError(f"A's output never arrived: {seen}")
        assert not any(secret in line for line in seen for secret in B_SECRETS), seen
    finally:
        server.should_exit = True
        thread.join(10)
