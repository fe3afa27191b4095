"""Care alerts in a real headless Chromium: a resident goes quiet in the bathroom, the
alert appears live in the coordinator's queue and tops the caseload, and is resolved."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.web.test_browser import (
    SCREENSHOTS,
    LiveServer,
    _require_browser,
    _serve,
    _sign_in_as_coordinator,
    _text,
    _wait,
    browser,  # noqa: F401 - the fixture
)
from vigil.care import CareMonitor
from vigil.catalog import Catalog, Device
from vigil.config import Settings
from vigil.platform import Platform, default_operators

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

    from tests.web.conftest import Sequencer, Tokens

pytestmark = pytest.mark.browser

BATHROOM = Device(
    tenant="north",
    id="north.h1.motion-bathroom",
    entity="north.h1",
    kind="motion",
    location="bathroom",
    metrics=("motion",),
)


@pytest.fixture
def care_server(
    tmp_path: Path, sequencer: Sequencer, tokens_for: Callable[[Platform], Tokens]
) -> Iterator[LiveServer]:
    """The web fixtures' platform, ticking twice a second, whose care operator calls a
    bathroom silence of 3 seconds (not 45 minutes) a possible fall."""
    _require_browser()
    from tests.web.conftest import CATALOG

    def operators(settings: Settings, domains):  # type: ignore[no-untyped-def]
        return [
            CareMonitor(bathroom_minutes=0.05) if isinstance(op, CareMonitor) else op
            for op in default_operators(settings, domains)
        ]

    settings = Settings(
        store={"url": f"sqlite:///{tmp_path / 'care.db'}"},
        web={"demo_login": True},
        engine={"tick_seconds": 0.5, "checkpoint_interval_seconds": 0.5},
    )
    platform = Platform(settings, operators=operators)
    platform.apply_catalog(CATALOG)
    platform.apply_catalog(Catalog(devices=(BATHROOM,)))
    yield from _serve(platform, tokens_for(platform), sequencer)


def test_possible_fall(care_server: LiveServer, browser: WebDriver) -> None:  # noqa: F811
    """A resident goes quiet in the bathroom: a possible-fall alert appears live in the
    coordinator's queue, tops the caseload, is acknowledged and resolved (contacted), and
    ends when the resident moves again; the caseload then has no concern for them."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    server = care_server
    _sign_in_as_coordinator(browser, server.url)
    browser.get(f"{server.url}/alerts")
    _wait(browser, lambda d: _text(d, "[data-live-status]") == "live")

    server.ingest(server.reading("north.h1.motion", "north.h1", "motion", 1))  # the hall
    time.sleep(0.2)
    server.ingest(server.reading("north.h1.motion-bathroom", "north.h1", "motion", 1))
    row = "table[data-queue] tr[data-condition]"
    _wait(browser, lambda d: "Possible fall: in the bathroom since" in _text(d, row), 20)
    assert "critical" in _text(browser, row)
    browser.save_screenshot(str(SCREENSHOTS / "vigil-care-possible-fall.png"))

    browser.get(f"{server.url}/caseload")
    first = browser.find_element(By.CSS_SELECTOR, "table[data-caseload] tbody tr")
    assert first.get_attribute("data-home") == "north.h1"
    assert "after the bathroom (possible fall)" in first.text

    browser.get(f"{server.url}/alerts")
    _wait(browser, lambda d: "Possible fall" in _text(d, row), 10)
    condition = browser.find_element(By.CSS_SELECTOR, row).get_attribute("data-condition")
    browser.find_element(By.CSS_SELECTOR, f"{row} button[data-action='acknowledge']").click()
    _wait(browser, lambda d: "acknowledged" in _text(d, f"{row} [data-status]"), 15)
    Select(browser.find_element(By.CSS_SELECTOR, f"{row} select[data-outcome]")).select_by_value(
        "contacted"
    )
    browser.find_element(By.CSS_SELECTOR, f"{row} button[data-action='resolve']").click()
    _wait(browser, lambda d: "Contacted" in _text(d, "ul.closed"), 15)
    assert not browser.find_elements(By.CSS_SELECTOR, f'tr[data-condition="{condition}"]')

    server.ingest(server.reading("north.h1.motion", "north.h1", "motion", 1))  # up again
    deadline = time.monotonic() + 15
    while server.platform.conditions.get("north", condition).active:  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the situation never ended"
        time.sleep(0.1)
    browser.get(f"{server.url}/alerts/{condition}")
    history = [
        li.get_attribute("data-what")
        for li in browser.find_elements(By.CSS_SELECTOR, "[data-history] li")
    ]
    assert history == ["raised", "acknowledged", "resolved", "ended"]
    browser.get(f"{server.url}/caseload")
    first = browser.find_element(By.CSS_SELECTOR, "table[data-caseload] tbody tr")
    assert "no concerns" in browser.find_element(By.CSS_SELECTOR, "table[data-caseload]").text
    assert first.get_attribute("data-home") in ("north.h1", "north.h2")
