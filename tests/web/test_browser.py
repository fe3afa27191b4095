"""The pages in a real headless Chromium: sign in, watch a value change without reloading.

Needs Debian's ``chromium`` and ``chromium-driver``; skipped (with the reason) when
they are missing, except under ``CI=true``, where that is a failure.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
import uvicorn

from vigil.config import Settings
from vigil.platform import Platform
from vigil.web.app import create_app

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

    from tests.web.conftest import Sequencer, Tokens

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(os.environ.get("VIGIL_SCREENSHOTS", "/tmp"))


def _require_browser() -> None:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if not missing:
        return
    needed = " and ".join(missing)
    reason = f"headless browser tests need {needed} (apt install chromium chromium-driver)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@dataclass
class LiveServer:
    url: str
    platform: Platform
    tokens: Tokens
    sequencer: Sequencer

    def ingest(self, *events: dict[str, object]) -> None:
        response = httpx.post(
            f"{self.url}/api/v1/ingest",
            content=self.sequencer.batch(*events),
            headers={"Authorization": f"Bearer {self.tokens.gateway}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text

    def reading(self, device: str, entity: str, metric: str, value: object) -> dict[str, object]:
        return self.sequencer.event("north", device, entity, metric=metric, value=value)


@pytest.fixture
def server(
    platform_factory: Callable[..., Platform],
    sequencer: Sequencer,
    tokens_for: Callable[[Platform], Tokens],
) -> Iterator[LiveServer]:
    _require_browser()
    platform = platform_factory()
    yield from _serve(platform, tokens_for(platform), sequencer)


def _serve(platform: Platform, tokens: Tokens, sequencer: Sequencer) -> Iterator[LiveServer]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(platform),
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=2,
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    live = LiveServer(f"http://127.0.0.1:{port}", platform, tokens, sequencer)
    try:
        yield live
    finally:
        uv.should_exit = True
        thread.join(15)
        sock.close()


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[WebDriver]:
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must never download anything
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: WebDriver, condition: Callable[[WebDriver], object], timeout: float = 8) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # An element can go stale between finding and reading it while a page loads.
    wait = WebDriverWait(
        driver, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
    )
    wait.until(condition)


def _text(driver: WebDriver, selector: str) -> str:
    from selenium.webdriver.common.by import By

    elements = driver.find_elements(By.CSS_SELECTOR, selector)
    return elements[0].text if elements else ""


def _sign_in_as_coordinator(driver: WebDriver, url: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{url}/login")
    driver.find_element(By.CSS_SELECTOR, 'button[data-demo-tenant="north"]').click()
    _wait(driver, lambda d: "North Council" in _text(d, "h1"))


def test_entity_page_updates_live(server: LiveServer, browser: WebDriver) -> None:
    """A reading posted by a gateway shows in its cell within seconds, without a reload."""
    server.ingest(
        server.reading("north.h1.temp", "north.h1", "temperature", 21.5),
        server.reading("north.h1.motion", "north.h1", "motion", 1),
    )
    server.platform.wait_until_processed()
    _sign_in_as_coordinator(browser, server.url)
    browser.get(f"{server.url}/entities/north.h1")
    cell = 'td.value[data-device="north.h1.temp"][data-metric="temperature"]'
    assert _text(browser, cell) == "21.5"
    _wait(browser, lambda d: _text(d, "[data-live-status]") == "live")
    browser.execute_script("window.__notReloaded = true;")

    server.ingest(server.reading("north.h1.temp", "north.h1", "temperature", 23.75))
    _wait(browser, lambda d: _text(d, cell).startswith("23.75"))

    server.ingest(
        server.sequencer.event("north", "north.h1.motion", "north.h1", type="status", battery=7)
    )
    _wait(browser, lambda d: "Battery of north.h1.motion is at 7%" in _text(d, "[data-findings]"))
    # A metric seen for the first time gets a row of its own.
    server.ingest(server.reading("north.h1.temp", "north.h1", "humidity", 48))
    _wait(browser, lambda d: _text(d, 'td.value[data-metric="humidity"]') == "48")
    assert browser.execute_script("return window.__notReloaded === true;")

    for value in (22.0, 22.4, 21.9, 23.1):
        server.ingest(server.reading("north.h1.temp", "north.h1", "temperature", value))
    _wait(browser, lambda d: _text(d, cell) == "23.1")
    time.sleep(1.6)  # let the flash fade before the picture
    browser.save_screenshot(str(SCREENSHOTS / "vigil-entity.png"))


def test_overview_ticker_shows_incoming_readings(server: LiveServer, browser: WebDriver) -> None:
    """The overview's ticker lists readings and findings as they arrive; other pages render."""
    from selenium.webdriver.common.by import By

    browser.get(f"{server.url}/login")
    browser.save_screenshot(str(SCREENSHOTS / "vigil-login.png"))
    _sign_in_as_coordinator(browser, server.url)
    _wait(browser, lambda d: _text(d, "[data-live-status]") == "live")
    server.ingest(
        server.reading("north.h1.temp", "north.h1", "temperature", 20.5),
        server.reading("north.h2.temp", "north.h2", "temperature", 18.25),
        server.sequencer.event("north", "north.h2.temp", "north.h2", type="status", battery=4),
    )
    _wait(browser, lambda d: "18.25" in _text(d, "[data-ticker]"))
    _wait(browser, lambda d: "Battery of north.h2.temp" in _text(d, "[data-ticker]"))
    browser.save_screenshot(str(SCREENSHOTS / "vigil-overview.png"))

    bad = server.sequencer.event("north", "north.h9.ghost", "north.h1", metric="x", value=1)
    response = httpx.post(
        f"{server.url}/api/v1/ingest",
        content=server.sequencer.batch(bad),
        headers={"Authorization": f"Bearer {server.tokens.gateway}"},
    )
    assert response.status_code == 422
    browser.get(f"{server.url}/dead-letters")
    browser.find_element(By.CSS_SELECTOR, "details summary").click()
    assert "north.h9.ghost" in _text(browser, "details pre")
    browser.save_screenshot(str(SCREENSHOTS / "vigil-dead-letters.png"))
    browser.get(f"{server.url}/homes")
    assert "Flat 1, Elm Court" in _text(browser, "table")
    browser.save_screenshot(str(SCREENSHOTS / "vigil-homes.png"))
    server.platform.wait_until_processed()  # projections written: the page reads only them
    browser.get(f"{server.url}/alerts?scope=all")  # a device problem: the installer's queue
    assert "Battery of north.h2.temp" in _text(browser, "table[data-queue]")
    browser.save_screenshot(str(SCREENSHOTS / "vigil-alerts-all.png"))
    browser.set_window_size(390, 844)
    browser.get(f"{server.url}/entities/north.h1")
    browser.save_screenshot(str(SCREENSHOTS / "vigil-entity-phone.png"))


@pytest.fixture
def fast_escalation_server(
    tmp_path: Path, sequencer: Sequencer, tokens_for: Callable[[Platform], Tokens]
) -> Iterator[LiveServer]:
    """A platform whose warnings escalate after 3 s unacknowledged, ticking twice a second."""
    _require_browser()
    from tests.web.conftest import CATALOG

    settings = Settings(
        store={"url": f"sqlite:///{tmp_path / 'alerts.db'}"},
        web={"demo_login": True},
        engine={
            "tick_seconds": 0.5,
            "checkpoint_interval_seconds": 0.5,
            "escalate_after_seconds": {"critical": 3.0, "warning": 3.0, "info": None},
        },
    )
    platform = Platform(settings)
    platform.apply_catalog(CATALOG)
    yield from _serve(platform, tokens_for(platform), sequencer)


def test_alert_queue_raise_escalate_acknowledge_resolve(
    fast_escalation_server: LiveServer, browser: WebDriver
) -> None:
    """An installer's queue shows a new alert live, escalates it when nobody acknowledges
    it in time, and records acknowledging and resolving it with an outcome."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    server = fast_escalation_server
    browser.get(f"{server.url}/login")
    browser.find_element(By.NAME, "token").send_keys(server.tokens.installer)
    browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
    browser.get(f"{server.url}/alerts")
    _wait(browser, lambda d: "Nothing needs attention" in _text(d, "main"))
    _wait(browser, lambda d: _text(d, "[data-live-status]") == "live")

    server.ingest(
        server.sequencer.event("north", "north.h1.motion", "north.h1", type="status", battery=6)
    )
    row = "table[data-queue] tr[data-condition]"
    _wait(browser, lambda d: "Battery of north.h1.motion is at 6%" in _text(d, row), 15)
    _wait(browser, lambda d: "escalated" in _text(d, row), 20)  # 3 s unacknowledged
    browser.save_screenshot(str(SCREENSHOTS / "vigil-alert-escalated.png"))

    browser.find_element(By.CSS_SELECTOR, f"{row} button[data-action='acknowledge']").click()
    _wait(browser, lambda d: "acknowledged" in _text(d, f"{row} [data-status]"), 15)
    condition = browser.find_element(By.CSS_SELECTOR, row).get_attribute("data-condition")
    Select(browser.find_element(By.CSS_SELECTOR, f"{row} select[data-outcome]")).select_by_value(
        "device_fixed"
    )
    browser.find_element(By.CSS_SELECTOR, f"{row} button[data-action='resolve']").click()
    _wait(
        browser,
        lambda d: "Device fixed" in _text(d, f'ul.closed [data-closed="{condition}"]'),
        15,
    )
    assert not browser.find_elements(By.CSS_SELECTOR, f'tr[data-condition="{condition}"]')

    browser.get(f"{server.url}/alerts/{condition}")
    history = [
        li.get_attribute("data-what")
        for li in browser.find_elements(By.CSS_SELECTOR, "[data-history] li")
    ]
    assert history[0] == "raised"
    assert "escalated" in history
    assert history[-2:] == ["acknowledged", "resolved"]
    browser.save_screenshot(str(SCREENSHOTS / "vigil-alert-history.png"))
    audit = server.platform.audit.recent("north")
    assert [e.action for e in audit[:2]] == ["resolve", "acknowledge"]


def test_carer_plan_board_map_and_carer_run(
    platform_factory: Callable[..., Platform],
    sequencer: Sequencer,
    tokens_for: Callable[[Platform], Tokens],
    browser: WebDriver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A coordinator opens the carer plan from the navigation: the roster board and the
    run map are drawn (SVG with a block per visit and a line per run, laid out with a
    size), the visits not placed are listed, the CSV link is there; following a carer
    opens their run at phone width with its calendar link."""
    from selenium.webdriver.common.by import By

    from vigil.care import plan_pages
    from vigil.planning.scenario import council_day

    plans = plan_pages.SimulatedPlans(
        seconds=1.0, problem_for=lambda tenant, day: council_day(visits=60, carers=8, seed=5)
    )
    monkeypatch.setattr(plan_pages, "PLANS", plans)
    platform = platform_factory()
    for server in _serve(platform, tokens_for(platform), sequencer):
        _sign_in_as_coordinator(browser, server.url)
        browser.find_element(By.LINK_TEXT, "Carer plan").click()
        _wait(browser, lambda d: _text(d, "h1").startswith("Carer plan"), timeout=30)
        day = browser.find_element(By.NAME, "date").get_attribute("value")
        found = plans.day("north", dt.date.fromisoformat(day))
        blocks = browser.find_elements(By.CSS_SELECTOR, "svg[data-roster-board] rect[data-visit]")
        assert len(blocks) == sum(len(r.stops) for r in found.plan.routes)
        assert all(b.size["width"] > 0 and b.size["height"] > 0 for b in blocks[:10])
        board = browser.find_element(By.CSS_SELECTOR, "svg[data-roster-board]")
        assert board.size["width"] >= 700
        lines = browser.find_elements(By.CSS_SELECTOR, "svg[data-run-map] g[data-run] polyline")
        assert len(lines) == sum(1 for r in found.plan.routes if r.stops)
        rows = browser.find_elements(By.CSS_SELECTOR, "tr[data-unplaced-visit]")
        assert len(rows) == len(found.plan.unassigned)
        assert "simulated council day" in _text(browser, "[data-plan-origin]")
        href = browser.find_element(By.CSS_SELECTOR, "a[data-export-csv]").get_attribute("href")
        assert httpx.get(href, cookies=_cookies(browser)).text.startswith("carer,order,visit")
        browser.save_screenshot(str(SCREENSHOTS / "vigil-plan.png"))

        route = max(found.plan.routes, key=lambda r: len(r.stops))
        browser.set_window_size(390, 844)
        browser.get(f"{server.url}/plan/carers/{route.carer}?date={day}")
        steps = browser.find_elements(By.CSS_SELECTOR, '[data-run-steps] [data-step="visit"]')
        assert len(steps) == len(route.stops)
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390  # no sideways scrolling on a phone
        ics = browser.find_element(By.CSS_SELECTOR, "a[data-ics]").get_attribute("href")
        assert httpx.get(ics, cookies=_cookies(browser)).text.startswith("BEGIN:VCALENDAR")
        browser.save_screenshot(str(SCREENSHOTS / "vigil-plan-carer.png"))


def _cookies(driver: WebDriver) -> dict[str, str]:
    return {c["name"]: c["value"] for c in driver.get_cookies()}
