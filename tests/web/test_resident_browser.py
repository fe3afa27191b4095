"""The resident page of a simulated home in a real headless Chromium: the heatmap's
cells, the day's timeline and the indicator charts are laid out with real sizes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.web.test_browser import (
    SCREENSHOTS,
    LiveServer,
    _require_browser,
    _serve,
    _text,
    _wait,
    browser,  # noqa: F401 - the fixture
)
from vigil.clients.direct import DirectSink
from vigil.commands import feed_in_event_time
from vigil.config import Settings
from vigil.platform import Platform
from vigil.sim import Region, RegionConfig

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

    from tests.web.conftest import Sequencer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DAYS = 5
TENANT = "north-council"
HOME = f"{TENANT}.home-01"


@pytest.fixture
def simulated(tmp_path: Path, sequencer: Sequencer) -> Iterator[LiveServer]:
    """Five simulated days of one council's two homes, fed in event time (a tick an
    hour), then served; no wall-clock ticks, so the store holds exactly that history."""
    _require_browser()
    from tests.web.conftest import Tokens

    now = time.time()
    start = now - DAYS * 86400
    region = Region(RegionConfig(seed=3, councils=1, homes_per_council=2, plant=False, start=start))
    settings = Settings(
        store={"url": f"sqlite:///{tmp_path / 'resident.db'}"}, web={"demo_login": True}
    )
    platform = Platform(settings)
    platform.live_ticks = False
    platform.apply_catalog(region.catalog(), time=start)
    platform.start()

    def slices() -> Iterator[tuple[float, object]]:
        until = start
        while until < now:
            until = min(until + 3600.0, now)
            yield until, region.events(until=until)

    asyncio.run(feed_in_event_time(platform, slices(), DirectSink(platform.ingestor)))  # type: ignore[arg-type]
    platform.wait_until_processed(timeout=120)
    token = platform.tokens.create(TENANT, "coord", "coordinator", now=now)
    tokens = Tokens(token, token, token, token, token, token)
    yield from _serve(platform, tokens, sequencer)


def _size(element: object) -> tuple[float, float]:
    rect = element.rect  # type: ignore[attr-defined]
    return rect["width"], rect["height"]


def test_resident_page_draws_heatmap_timeline_and_indicators(
    simulated: LiveServer,
    browser: WebDriver,  # noqa: F811
) -> None:
    """Signed in as the council's coordinator, the resident page of a simulated home
    has a heatmap per room, a row per day and a column per hour, many hours shaded, cells
    of real size; a timeline with lanes and spans; a chart per indicator with its dots;
    the previous-day link moves the timeline a day back."""
    from selenium.webdriver.common.by import By

    server = simulated
    browser.get(f"{server.url}/login")
    browser.find_element(By.CSS_SELECTOR, f'button[data-demo-tenant="{TENANT}"]').click()
    _wait(browser, lambda d: "North Council" in _text(d, "h1"))
    browser.get(f"{server.url}/caseload")
    browser.find_element(By.CSS_SELECTOR, f'a[href="/residents/{HOME}"]').click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-heatmap]"))

    rooms = browser.find_elements(By.CSS_SELECTOR, "[data-heatmap-room]")
    assert len(rooms) >= 4
    days = int(browser.find_element(By.CSS_SELECTOR, "[data-heatmap]").get_attribute("data-days"))
    assert days == 7  # five days recorded: a week's rows, not 28 mostly empty
    for grid in browser.find_elements(By.CSS_SELECTOR, "[data-heatmap] rect[data-grid]"):
        assert _size(grid) == (24 * 12, days * 10)  # a column per hour, a row per day
    for room in rooms:
        svg = room.find_element(By.TAG_NAME, "svg")
        width, height = _size(svg)
        assert width > 300 and height >= 10 * days
    shaded = browser.find_elements(By.CSS_SELECTOR, "[data-heatmap] rect[data-cell]")
    assert len(shaded) > 10 * len(rooms)  # several days of a lived-in home
    width, height = _size(shaded[0])
    assert 8 <= width <= 16 and 6 <= height <= 14

    timeline = browser.find_element(By.CSS_SELECTOR, "svg[data-timeline]")
    width, height = _size(timeline)
    assert width > 700 and height > 100
    lanes = browser.find_elements(By.CSS_SELECTOR, "svg[data-timeline] g[data-lane]")
    sorts = {lane.get_attribute("data-lane-sort") for lane in lanes}
    assert {"room", "bed", "door", "out"} <= sorts
    spans = browser.find_elements(By.CSS_SELECTOR, "svg[data-timeline] rect[data-span]")
    assert len(spans) > 5 and all(_size(s)[0] > 0 for s in spans[:20])

    charts = browser.find_elements(By.CSS_SELECTOR, "[data-indicator] svg")
    assert len(charts) == 8
    for chart in charts:
        assert _size(chart)[0] > 200
    up = browser.find_element(By.CSS_SELECTOR, '[data-indicator="up"]')
    assert len(up.find_elements(By.CSS_SELECTOR, "circle[data-point]")) >= DAYS - 2
    browser.save_screenshot(str(SCREENSHOTS / "vigil-resident.png"))
    browser.find_element(By.CSS_SELECTOR, "[data-heatmap]").location_once_scrolled_into_view  # noqa: B018
    browser.save_screenshot(str(SCREENSHOTS / "vigil-resident-heatmap.png"))
    browser.find_element(By.CSS_SELECTOR, "[data-timeline]").location_once_scrolled_into_view  # noqa: B018
    browser.save_screenshot(str(SCREENSHOTS / "vigil-resident-timeline.png"))

    shown = browser.find_element(By.CSS_SELECTOR, "[data-day-picker] input[type=date]")
    today = shown.get_attribute("value")
    browser.find_element(By.CSS_SELECTOR, "[data-previous-day]").click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-next-day]"))
    day = browser.find_element(By.CSS_SELECTOR, "[data-day-picker] input[type=date]")
    assert day.get_attribute("value") < today  # type: ignore[operator]
    assert browser.find_elements(By.CSS_SELECTOR, "svg[data-timeline] rect[data-span]")
    browser.find_element(By.CSS_SELECTOR, "[data-indicators]").location_once_scrolled_into_view  # noqa: B018
    browser.save_screenshot(str(SCREENSHOTS / "vigil-resident-indicators.png"))
