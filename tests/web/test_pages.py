"""The server-rendered pages: sign-in, roles, tenant scoping and escaping."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
import pytest
from fastapi.testclient import TestClient

from vigil.catalog import Catalog, Device, Entity, Tenant
from vigil.platform import Platform
from vigil.web.app import create_app
from vigil.web.templating import ago, number

if TYPE_CHECKING:
    from tests.web.conftest import Sequencer, Tokens


@dataclass
class Site:
    client: TestClient
    platform: Platform
    tokens: Tokens

    def get(self, path: str, token: str | None = None) -> httpx.Response:
        """GET as a browser would: the token only in the sign-in cookie, no redirects followed."""
        self.client.cookies.clear()
        headers = {"Cookie": f"vigil_token={token}"} if token else {}
        return self.client.get(path, headers=headers, follow_redirects=False)


def ingest(client: TestClient, token: str, body: bytes) -> httpx.Response:
    return client.post(
        "/api/v1/ingest",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


def wait_for_conditions(platform: Platform, tenant: str, count: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        platform.wait_until_processed()
        if len(platform.conditions.open(tenant)) >= count:
            return
        time.sleep(0.05)
    raise AssertionError("conditions were not stored in time")


@pytest.fixture
def site(
    platform_factory: Callable[..., Platform],
    sequencer: Sequencer,
    tokens_for: Callable[[Platform], Tokens],
) -> Iterator[Site]:
    platform = platform_factory()
    tokens = tokens_for(platform)
    with TestClient(create_app(platform)) as client:
        now = time.time()
        body = sequencer.batch(
            sequencer.event(
                "north",
                "north.h1.temp",
                "north.h1",
                time=now - 600,
                metric="temperature",
                value=21.5,
            ),
            sequencer.event(
                "north",
                "north.h1.temp",
                "north.h1",
                time=now - 60,
                metric="temperature",
                value=22.25,
                unit="C",
            ),
            sequencer.event("north", "north.h1.motion", "north.h1", metric="motion", value=1),
            sequencer.event("north", "north.h1.temp", "north.h1", type="status", battery=9),
            sequencer.event("north", "north.h2.temp", "north.h2", metric="temperature", value=19),
        )
        assert ingest(client, tokens.gateway, body).status_code == 200
        plant = sequencer.batch(
            sequencer.event("plant", "plant.m1.vib", "plant.m1", metric="vibration_rms", value=3.2)
        )
        assert ingest(client, tokens.plant_gateway, plant).status_code == 200
        rejected = sequencer.batch(
            {
                "type": "reading",
                "tenant": "north",
                "device": "north.<b>ghost</b>",
                "entity": "north.h1",
                "seq": 1,
                "time": now,
                "metric": "temperature",
                "value": 1,
            }
        )
        assert ingest(client, tokens.gateway, rejected).status_code == 422
        wait_for_conditions(platform, "north", 1)
        yield Site(client, platform, tokens)


# -- sign-in ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/homes", "/machines", "/entities/north.h1", "/dead-letters"]
)
def test_pages_redirect_to_login_without_sign_in(site: Site, path: str) -> None:
    """No cookie, or a cookie with an unknown token: every page sends the browser to /login."""
    for token in (None, "vgl_nothing_here"):
        response = site.get(path, token)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


def test_token_login_sets_a_safe_cookie_and_opens_the_overview(site: Site) -> None:
    """A valid token becomes an HttpOnly, SameSite=Lax cookie; then the page asked for opens."""
    site.client.cookies.clear()
    response = site.client.post(
        "/login",
        data={"token": site.tokens.coordinator, "next": "/homes"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/homes"
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("vigil_token=")
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    page = site.client.get("/homes")
    assert page.status_code == 200
    assert "Flat 1, Elm Court" in page.text


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/", "/\\evil", "/\t/evil.example"]
)
def test_login_never_redirects_off_site(site: Site, target: str) -> None:
    response = site.client.post(
        "/login", data={"token": site.tokens.coordinator, "next": target}, follow_redirects=False
    )
    assert response.headers["location"] == "/"


def test_bad_or_gateway_token_is_refused(site: Site) -> None:
    """An unknown token, or one that may not read telemetry, gives the form back with a reason."""
    for token, words in (("vgl_abc_def", "not valid"), (site.tokens.gateway, "cannot sign in")):
        site.client.cookies.clear()
        response = site.client.post("/login", data={"token": token}, follow_redirects=False)
        assert response.status_code == 401
        assert words in response.text
        assert "set-cookie" not in response.headers


def test_demo_login_offers_one_user_per_tenant(site: Site) -> None:
    page = site.get("/login")
    assert page.status_code == 200
    assert "Sign in as coordinator of North Council" in page.text
    assert "Sign in as engineer of Riverside Plant" in page.text


def test_demo_login_signs_in_with_the_tenant_role(site: Site) -> None:
    site.client.cookies.clear()
    response = site.client.post("/login/demo", data={"tenant": "plant"}, follow_redirects=False)
    assert response.status_code == 303
    token = site.client.cookies["vigil_token"]
    record = site.platform.tokens.authenticate(token)
    assert record is not None
    assert (record.tenant, record.role) == ("plant", "engineer")
    overview = site.client.get("/")
    assert "Riverside Plant" in overview.text
    assert 'href="/machines"' in overview.text
    assert 'href="/homes"' not in overview.text


def test_demo_login_unknown_tenant_is_404(site: Site) -> None:
    response = site.client.post("/login/demo", data={"tenant": "nowhere"}, follow_redirects=False)
    assert response.status_code == 404


def test_demo_login_is_off_unless_enabled(
    platform_factory: Callable[..., Platform],
) -> None:
    platform = platform_factory(demo_login=False)
    with TestClient(create_app(platform)) as client:
        page = client.get("/login")
        assert page.status_code == 200
        assert "/login/demo" not in page.text
        assert "Sign in as" not in page.text
        response = client.post("/login/demo", data={"tenant": "north"}, follow_redirects=False)
        assert response.status_code == 404
        assert "vigil_token" not in client.cookies


def test_logout_clears_the_cookie(site: Site) -> None:
    site.client.post("/login", data={"token": site.tokens.coordinator}, follow_redirects=False)
    assert site.client.get("/", follow_redirects=False).status_code == 200
    response = site.client.post("/logout", follow_redirects=False)
    assert response.status_code == 303
    assert (
        'vigil_token=""' in response.headers["set-cookie"]
        or "Max-Age=0" in response.headers["set-cookie"]
    )
    assert site.client.get("/", follow_redirects=False).status_code == 303


# -- pages by role ---------------------------------------------------------------------


def test_overview_for_a_coordinator(site: Site) -> None:
    """Tenant name, entity counts, the coordinator's queue (device problems are not in it),
    rejected input by reason and the ticker."""
    page = site.get("/", site.tokens.coordinator)
    assert page.status_code == 200
    text = page.text
    assert "<h1>North Council</h1>" in text
    assert '<span class="big">2</span> home' in text
    assert "Battery of north.h1.temp is at 9%" not in text
    assert "0 open in your queue" in text
    assert 'href="/dead-letters"' in text
    assert '<li><span class="big">1</span> <code>unknown_device</code></li>' in text
    assert "data-ticker" in text
    assert 'href="/homes"' in text
    assert 'href="/machines"' not in text


def test_overview_for_an_installer_shows_device_problems(site: Site) -> None:
    """A device's low battery is routed to the installer's queue."""
    page = site.get("/", site.tokens.installer)
    assert page.status_code == 200
    assert "Battery of north.h1.temp is at 9%" in page.text
    assert "1 open in your queue" in page.text


def test_carer_sees_telemetry_but_not_rejected_input(site: Site) -> None:
    overview = site.get("/", site.tokens.carer)
    assert overview.status_code == 200
    assert 'href="/dead-letters"' not in overview.text
    assert site.get("/entities/north.h1", site.tokens.carer).status_code == 200
    forbidden = site.get("/dead-letters", site.tokens.carer)
    assert forbidden.status_code == 403
    assert "text/html" in forbidden.headers["content-type"]
    assert "Not allowed" in forbidden.text


def test_gateway_token_cannot_open_pages(site: Site) -> None:
    assert site.get("/", site.tokens.gateway).status_code == 403


def test_home_list(site: Site) -> None:
    """Each home with its last-seen time and open findings; the machine list does not apply."""
    page = site.get("/homes", site.tokens.coordinator)
    assert page.status_code == 200
    assert "Flat 1, Elm Court" in page.text
    assert 'href="/entities/north.h1"' in page.text
    assert "just now" in page.text  # its newest reading was sent just now
    assert '<span class="pill">1</span>' in page.text
    assert site.get("/machines", site.tokens.coordinator).status_code == 404


def test_machine_list_for_an_engineer(site: Site) -> None:
    page = site.get("/machines", site.tokens.engineer)
    assert page.status_code == 200
    assert "Press 1" in page.text
    assert "Press 2" in page.text
    assert "Flat 1" not in page.text
    assert site.get("/homes", site.tokens.engineer).status_code == 404


def test_entity_page_shows_latest_values_devices_and_findings(site: Site) -> None:
    page = site.get("/entities/north.h1", site.tokens.coordinator)
    assert page.status_code == 200
    text = page.text
    assert "<h1>Flat 1, Elm Court</h1>" in text
    assert 'data-device="north.h1.temp" data-metric="temperature">22.25<' in text
    assert 'data-device="north.h1.motion" data-metric="motion">1<' in text
    assert 'data-live-entity="north.h1"' in text
    assert "living room" in text
    assert "Battery of north.h1.temp is at 9% (warning below 15%)." in text
    assert '<span class="unit">C</span>' in text  # units rendered by the server, not only live
    audit = site.platform.audit.recent("north")
    assert any(entry.action == "read_entity" and entry.target == "north.h1" for entry in audit)


def test_another_tenants_entity_is_not_found(site: Site) -> None:
    """Tenant scoping: an id of another tenant looks exactly like an id that does not exist."""
    for token, path in (
        (site.tokens.coordinator, "/entities/plant.m1"),
        (site.tokens.engineer, "/entities/north.h1"),
        (site.tokens.coordinator, "/entities/nothing"),
    ):
        response = site.get(path, token)
        assert response.status_code == 404
        assert "text/html" in response.headers["content-type"]
        assert "Press 1" not in response.text
        assert "Flat 1" not in response.text


def test_dead_letter_page(site: Site) -> None:
    page = site.get("/dead-letters", site.tokens.coordinator)
    assert page.status_code == 200
    item = site.platform.dead_letters.recent("north")[0]
    assert f"<code>{item.reason}</code>" in page.text
    assert "<details>" in page.text
    assert "http" in page.text
    assert "<b>ghost</b>" not in page.text
    assert "&lt;b&gt;ghost&lt;/b&gt;" in page.text
    assert site.get("/dead-letters", site.tokens.engineer).status_code == 200


def test_names_are_escaped(site: Site, evil_name: str) -> None:
    """An entity name with markup is shown as text, never run."""
    for path in ("/homes", "/entities/north.h2"):
        page = site.get(path, site.tokens.coordinator)
        assert page.status_code == 200
        assert evil_name not in page.text
        assert "&lt;script&gt;alert(" in page.text


# -- a line, its machine, a home with attributes (issue 7, item 18) -------------------

LINE_CATALOG = Catalog(
    tenants=(
        Tenant(id="north", name="North Council", kind="council"),
        Tenant(id="plant", name="Riverside Plant", kind="plant"),
    ),
    entities=(
        Entity(tenant="plant", id="plant.l1", kind="line", name="Line A"),
        Entity(tenant="plant", id="plant.m3", kind="machine", name="Press 3", parent="plant.l1"),
        Entity(
            tenant="north",
            id="north.h3",
            kind="home",
            name="Flat 3",
            attributes={"fall_detector": False, "floor": 2},
        ),
    ),
    devices=(
        Device(
            tenant="plant",
            id="plant.m3.plc",
            entity="plant.m3",
            kind="plc",
            metrics=("cycle_count",),
            heartbeat=30.0,
        ),
    ),
)


@pytest.fixture
def line_site(site: Site, sequencer: Sequencer) -> Site:
    """The site with a line whose only machine reported just now."""
    site.platform.apply_catalog(LINE_CATALOG)
    body = sequencer.batch(
        sequencer.event("plant", "plant.m3.plc", "plant.m3", metric="cycle_count", value=7)
    )
    assert ingest(site.client, site.tokens.plant_gateway, body).status_code == 200
    site.platform.wait_until_processed()
    return site


def test_a_heartbeat_under_a_minute_is_shown_in_seconds(line_site: Site) -> None:
    """A 30-second heartbeat reads "30 s", not "0 min"."""
    page = line_site.get("/entities/plant.m3", line_site.tokens.engineer)
    assert page.status_code == 200
    assert "reports at least every 30 s" in page.text
    assert "0 min" not in page.text


def test_attributes_are_shown_as_people_read_them(line_site: Site) -> None:
    """Attribute names as labels and booleans as yes/no, never ``fall_detector False``."""
    text = line_site.get("/entities/north.h3", line_site.tokens.coordinator).text
    assert "<div><dt>Fall detector</dt><dd>no</dd></div>" in text
    assert "<div><dt>Floor</dt><dd>2</dd></div>" in text
    assert "False" not in text


def test_a_line_lists_its_machines_and_is_seen_through_them(line_site: Site) -> None:
    """A line has no devices of its own: its page lists its machines and its last
    update is its newest machine's, and the list of lines shows it seen, not "never"."""
    text = line_site.get("/entities/plant.l1", line_site.tokens.engineer).text
    assert (
        '<li data-child="plant.m3"><a href="/entities/plant.m3">Press 3</a> · machine</li>' in text
    )
    updated = text.split("data-last-updated>", 1)[1].split("</span> ·", 1)[0]
    assert "never" not in updated
    assert 'class="ago" data-ago=' in updated
    listing = line_site.get("/lines", line_site.tokens.engineer)
    assert listing.status_code == 200
    row = listing.text.split('<tr data-entity="plant.l1">', 1)[1].split("</tr>", 1)[0]
    assert ">just now</time>" in row
    assert "never" not in row


# -- helpers -----------------------------------------------------------------------------


def test_formatting() -> None:
    assert ago(100.0, 100.0 + 59) == "just now"
    assert ago(100.0, 100.0 + 3 * 60) == "3 min ago"
    assert ago(1000.0, 100.0) == "in 15 min"
    assert number(22.25) == "22.25"
    assert number(3.0) == "3"
