"""Browser-facing protections, /metrics, /docs on a closed network, and the SQLite file.

Issue 7 items 7 (login CSRF, CSP, X-Frame-Options, GET /logout, SSE streams per
principal, the SQLite file's mode), 17 (/docs without a CDN, the bearer scheme in
OpenAPI) and 20 (/metrics not public, the cookie's ``Secure`` flag).
"""

from __future__ import annotations

import os
import re
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from vigil.config import Settings
from vigil.platform import Platform
from vigil.store.tokens import TokenRepository
from vigil.web.app import create_app

if TYPE_CHECKING:
    from tests.web.conftest import Tokens


@pytest.fixture
def site(
    platform_factory: Callable[..., Platform], tokens_for: Callable[[Platform], Tokens]
) -> Iterator[tuple[TestClient, Platform, Tokens]]:
    platform = platform_factory()
    tokens = tokens_for(platform)
    with TestClient(create_app(platform)) as client:
        yield client, platform, tokens


def _client_with(tmp_path: Path, **web: Any) -> tuple[TestClient, Platform]:
    platform = Platform(Settings(store={"url": f"sqlite:///{tmp_path / 'w.db'}"}, web=web))
    return TestClient(create_app(platform)), platform


# Item 7: login CSRF, headers, logout.


def test_login_from_another_site_is_refused(site: tuple[TestClient, Platform, Tokens]) -> None:
    """POST /login with a foreign Origin is 403 and sets no cookie; from the site itself
    it signs in."""
    client, _, tokens = site
    form = {"token": tokens.coordinator, "next": "/"}
    for origin in ("https://evil.example", "null", "http://testserver.evil.example"):
        response = client.post(
            "/login", data=form, headers={"Origin": origin}, follow_redirects=False
        )
        assert response.status_code == 403, origin
        assert "set-cookie" not in response.headers
    same = client.post(
        "/login", data=form, headers={"Origin": "http://testserver"}, follow_redirects=False
    )
    assert same.status_code == 303
    assert "vigil_token=" in same.headers["set-cookie"]


def test_pages_and_api_send_csp_and_frame_options(
    site: tuple[TestClient, Platform, Tokens],
) -> None:
    """Pages, API answers and errors carry a CSP that forbids framing and foreign scripts,
    and X-Frame-Options: DENY."""
    client, _, tokens = site
    auth = {"Authorization": f"Bearer {tokens.coordinator}"}
    for path, headers in (("/login", {}), ("/", auth), ("/api/v1/entities", auth), ("/x", {})):
        response = client.get(path, headers=headers, follow_redirects=False)
        csp = response.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp, path
        assert "script-src 'self';" in csp, path
        assert response.headers.get("x-frame-options") == "DENY", path
        assert response.headers.get("x-content-type-options") == "nosniff", path


def test_get_logout_changes_nothing(site: tuple[TestClient, Platform, Tokens]) -> None:
    """GET /logout is 405 and leaves the cookie; POST /logout clears it."""
    client, _, _ = site
    response = client.get("/logout", follow_redirects=False)
    assert response.status_code == 405
    assert "set-cookie" not in response.headers
    posted = client.post("/logout", follow_redirects=False)
    assert posted.status_code == 303
    assert 'vigil_token=""' in posted.headers["set-cookie"]


# Item 20: /metrics and the Secure flag.


def test_metrics_need_an_administrator_by_default(
    site: tuple[TestClient, Platform, Tokens],
) -> None:
    """/metrics: 401 without a token, 403 for a coordinator, 200 for an administrator,
    with the request latency histogram by route template."""
    client, platform, tokens = site
    assert client.get("/metrics").status_code == 401
    coordinator = {"Authorization": f"Bearer {tokens.coordinator}"}
    assert client.get("/metrics", headers=coordinator).status_code == 403
    admin = platform.tokens.create("north", "prometheus", "administrator", now=platform.clock())
    client.get("/api/v1/entities/north.h1", headers=coordinator)
    response = client.get("/metrics", headers={"Authorization": f"Bearer {admin}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE vigil_events_accepted_total counter" in text
    assert "# TYPE vigil_http_request_duration_seconds histogram" in text
    assert re.search(
        r'vigil_http_request_duration_seconds_count\{method="GET",'
        r'route="/api/v1/entities/\{entity_id\}",status="2xx"\} 1\.0',
        text,
    ), text


def test_metrics_public_is_a_setting(tmp_path: Path) -> None:
    """``web.metrics_public = true`` serves /metrics without a token."""
    client, platform = _client_with(tmp_path, metrics_public=True)
    with client:
        assert client.get("/metrics").status_code == 200
    platform.stop()


def _demo_sign_in(client: TestClient) -> str:
    response = client.post("/login/demo", data={"tenant": "north"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["set-cookie"]


def test_cookie_is_secure_over_https_and_when_set(
    site: tuple[TestClient, Platform, Tokens],
) -> None:
    """The sign-in cookie is ``Secure`` over HTTPS, and always with ``web.secure_cookie``
    (TLS ended at a proxy Vigil cannot see); over plain HTTP without it, not."""
    client, platform, _ = site
    assert "secure" not in _demo_sign_in(client).lower()
    with TestClient(create_app(platform, manage_platform=False), base_url="https://vigil") as tls:
        assert "; secure" in _demo_sign_in(tls).lower()
    platform.settings.web.secure_cookie = True
    assert "; secure" in _demo_sign_in(client).lower()


# Item 17: /docs on a closed network.


def test_docs_load_nothing_from_another_site(site: tuple[TestClient, Platform, Tokens]) -> None:
    """/docs refers only to this site's files, and each of them is served."""
    client, _, _ = site
    page = client.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    urls += re.findall(r"""url: *["']([^"']+)["']""", page.text)
    assert urls, page.text
    assert [u for u in urls if re.match(r"(https?:)?//", u)] == []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
    bundle = client.get("/docs/assets/swagger-ui-bundle.js")
    assert len(bundle.content) > 500_000


def test_openapi_declares_the_bearer_scheme(site: tuple[TestClient, Platform, Tokens]) -> None:
    """The OpenAPI document has an HTTP bearer scheme, and the API's operations use it,
    so Swagger UI's Authorize button can send a token."""
    client, _, _ = site
    document = client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= schemes["token"].items()
    operation = document["paths"]["/api/v1/entities"]["get"]
    assert {"token": []} in operation["security"]
    ingest = document["paths"]["/api/v1/ingest"]["post"]
    assert {"token": []} in ingest["security"]


CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture
def live_site(
    platform_factory: Callable[..., Platform], tokens_for: Callable[[Platform], Tokens]
) -> Iterator[tuple[str, Platform, Tokens]]:
    platform = platform_factory()
    tokens = tokens_for(platform)
    platform.settings.web.max_streams_per_principal = 2
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(platform), log_level="warning", lifespan="on", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", platform, tokens
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


@pytest.mark.browser
def test_docs_render_in_chromium_with_no_outside_network(
    live_site: tuple[str, Platform, Tokens], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Headless Chromium that can resolve no host but 127.0.0.1 renders Swagger UI at
    /docs, with the Authorize button for the bearer token."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        reason = f"needs {' and '.join(missing)} (apt install chromium chromium-driver)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    monkeypatch.setenv("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--proxy-server=http://127.0.0.1:9",  # anything not local goes nowhere
        "--proxy-bypass-list=127.0.0.1",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        url, _, _ = live_site
        driver.get(f"{url}/docs")
        WebDriverWait(driver, 15).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .info .title")
        )
        assert "Vigil" in driver.find_element(By.CSS_SELECTOR, ".info .title").text
        assert driver.find_elements(By.CSS_SELECTOR, "button.authorize")
        assert driver.find_elements(By.CSS_SELECTOR, ".opblock")
    finally:
        driver.quit()


# Item 7: live streams per principal.


def test_live_streams_are_capped_per_token(live_site: tuple[str, Platform, Tokens]) -> None:
    """With ``web.max_streams_per_principal`` 2, a third stream of the same token gets 429
    with Retry-After (counted on /metrics); another token still gets one; closing a
    stream frees its place."""
    url, platform, tokens = live_site
    coordinator = {"Authorization": f"Bearer {tokens.coordinator}"}
    admin = platform.tokens.create("north", "prometheus", "administrator", now=platform.clock())
    with httpx.Client(base_url=url, timeout=10) as http, ExitStack() as streams:
        readers = []  # kept: a dropped line iterator closes its response
        for _ in range(2):
            stream = streams.enter_context(http.stream("GET", "/api/v1/live", headers=coordinator))
            assert stream.status_code == 200
            readers.append(stream.iter_lines())
            assert next(readers[-1]) == ": connected"
        third = http.get("/api/v1/live", headers=coordinator)
        assert third.status_code == 429
        assert third.headers["retry-after"] == "15"
        metrics = http.get("/metrics", headers={"Authorization": f"Bearer {admin}"}).text
        assert "\nvigil_live_streams_refused_total 1.0\n" in metrics  # shed, and seen
        carer = {"Authorization": f"Bearer {tokens.carer}"}
        with http.stream("GET", "/api/v1/live", headers=carer) as other:
            assert other.status_code == 200
        streams.close()
        deadline = time.monotonic() + 10
        while True:
            with http.stream("GET", "/api/v1/live", headers=coordinator) as again:
                if again.status_code == 200:
                    break
            assert time.monotonic() < deadline, "a closed stream never freed its place"
            time.sleep(0.2)


# Item 7: the SQLite file.


def test_sqlite_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    """A new database and its WAL are 0600; an existing 0644 one is tightened."""
    platform = Platform(Settings(store={"url": f"sqlite:///{tmp_path / 'p.db'}"}))
    platform.stop()
    for name in ("p.db", "p.db-wal"):
        path = tmp_path / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    old = tmp_path / "old.db"
    old.touch(mode=0o644)
    old.chmod(0o644)
    Platform(Settings(store={"url": f"sqlite:///{old}"})).stop()
    assert stat.S_IMODE(old.stat().st_mode) == 0o600


# Hand-written cache replaced by cachetools.TTLCache.


def test_token_cache_evicts_one_entry_not_all(platform_factory: Callable[..., Platform]) -> None:
    """A full cache drops its oldest entry only (it used to drop everything at once)."""
    platform = platform_factory()
    repository = TokenRepository(platform.engine, cache_size=2)
    made = [platform.tokens.create("north", f"t{i}", "carer", now=0.0) for i in range(3)]
    for token in made:
        assert repository.authenticate(token) is not None
    assert [repository.cached(t) is not None for t in made] == [False, True, True]
    platform.stop()


def test_token_cache_forgets_after_its_time(platform_factory: Callable[..., Platform]) -> None:
    """A cached token is asked of the store again once ``cache_seconds`` have passed,
    so a revocation by another process takes effect within that time."""
    platform = platform_factory()
    repository = TokenRepository(platform.engine, cache_seconds=0.2)
    token = platform.tokens.create("north", "t", "carer", now=0.0)
    assert repository.authenticate(token) is not None
    assert repository.cached(token) is not None
    time.sleep(0.3)
    assert repository.cached(token) is None
    platform.stop()


# Item 21: no blocking database work on the event loop that runs ingest.


def test_sign_in_pages_run_off_the_event_loop() -> None:
    """The sign-in handlers authenticate, create tokens and audit against the
    database: they are plain functions, which FastAPI runs on a worker thread."""
    import inspect

    from vigil.web import pages

    for handler in (pages.login, pages.demo_login, pages.entity_page):
        assert not inspect.iscoroutinefunction(handler), handler.__name__


def test_reads_are_audited_through_the_writer(site: tuple[TestClient, Platform, Tokens]) -> None:
    """Reading a home's record writes its audit row in the writer's commit groups (one
    job), not in a transaction of its own beside them."""
    client, platform, tokens = site
    headers = {"Authorization": f"Bearer {tokens.coordinator}"}
    entity = platform.registry.entities("north")[0].id
    platform.wait_until_processed()  # the catalog's checkpoints are committed, not racing
    before = (platform.writer.jobs, len(platform.audit.recent("north")))
    response = client.get(f"/api/v1/entities/{entity}", headers=headers)
    assert response.status_code == 200
    assert platform.writer.jobs == before[0] + 1
    [newest, *_] = platform.audit.recent("north")
    assert (newest.action, newest.target) == ("read_entity", entity)
    assert len(platform.audit.recent("north")) == before[1] + 1
