"""Changing the carer plan in a real headless Chromium: lock, move, a refused move,
re-optimise, and the list of what changed and why.

Uses ``test_browser``'s server and browser fixtures; skipped like it without Chromium.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from tests.web.test_browser import SCREENSHOTS, _serve, _sign_in_as_coordinator, _text, _wait
from tests.web.test_browser import browser as browser  # the fixture, under its own name
from vigil.planning.book import KIND, decode
from vigil.planning.edits import Refused, move, partner
from vigil.platform import Platform

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

    from tests.web.conftest import Sequencer, Tokens

pytestmark = pytest.mark.browser

DAY = "2030-01-15"  # in the future: no visit has started, whatever the wall clock says


def _stored(platform: Platform):
    found = platform.documents.latest("north", KIND, DAY)
    return decode(found.body, found.version)


def _a_possible_move(record) -> tuple[str, str]:
    """A single visit and another carer whose run takes it (what the page will accept)."""
    for route in record.plan.routes:
        for stop in route.stops:
            if partner(record.problem, stop.visit) is not None:
                continue
            for carer in (c.id for c in record.problem.carers if c.id != route.carer):
                try:
                    move(record.problem, record.plan, record.locks, stop.visit, carer, None, 0)
                except Refused:
                    continue
                return stop.visit, carer
    raise AssertionError("no visit can be moved")


def _submit(driver: WebDriver, form: str, **choices: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    element = driver.find_element(By.CSS_SELECTOR, f'form[data-form="{form}"]')
    for name, value in choices.items():
        Select(element.find_element(By.NAME, name)).select_by_value(value)
    element.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()


def test_lock_move_reoptimise_and_see_what_changed(
    platform_factory: Callable[..., Platform],
    sequencer: Sequencer,
    tokens_for: Callable[[Platform], Tokens],
    browser: WebDriver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A coordinator locks a visit (outlined on the board), moves another to a carer
    (listed as moved by the coordinator), tries a move the checker refuses (the reason
    shows, nothing changes), re-optimises the rest (the summary and the change list
    show; the locked and moved visits stay on their carers' rows)."""
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
        browser.get(f"{server.url}/plan?date={DAY}")
        _wait(browser, lambda d: _text(d, "h1").startswith("Carer plan"), timeout=30)
        first = _stored(platform)
        locked = next(s.visit for r in first.plan.routes for s in r.stops)
        locked_carer = first.plan.assignment()[locked][0]

        _submit(browser, "lock", visit=locked)
        summary = f"locked {locked}"
        _wait(browser, lambda d, s=summary: s in _text(d, "[data-change-summary]"))
        lane = f'g[data-lane="{locked_carer}"] rect[data-visit="{locked}"][data-locked]'
        assert browser.find_elements(By.CSS_SELECTOR, lane)

        visit, carer = _a_possible_move(_stored(platform))
        _submit(browser, "move", visit=visit, carer=carer)
        row = f'tr[data-change="moved"][data-change-visit="{visit}"]'
        _wait(browser, lambda d, css=row: d.find_elements(By.CSS_SELECTOR, css))
        assert "moved by the coordinator" in _text(browser, row)

        record = _stored(platform)
        where = record.plan.assignment()
        link = next(k for k in record.problem.links if k.first in where)
        _submit(browser, "move", visit=link.first, carer=where[link.second][0])
        _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-refused]"))
        assert f"both by {where[link.second][0]}" in _text(browser, "[data-refused]")
        assert _stored(platform).version == record.version

        browser.get(f"{server.url}/plan?date={DAY}")
        _submit(browser, "reoptimise")
        _wait(
            browser,
            lambda d: _text(d, "[data-change-summary]").startswith("re-optimised"),
            timeout=30,
        )
        final = _stored(platform)
        rows = browser.find_elements(By.CSS_SELECTOR, "table[data-change-list] tr[data-change]")
        assert len(rows) == len(final.notes)
        for visit_id, carer_id in ((locked, locked_carer), (visit, carer)):
            cell = f'g[data-lane="{carer_id}"] rect[data-visit="{visit_id}"]'
            assert browser.find_elements(By.CSS_SELECTOR, cell), visit_id
        history = browser.find_elements(By.CSS_SELECTOR, "[data-plan-history] li")
        assert len(history) == final.version
        browser.save_screenshot(str(SCREENSHOTS / "vigil-plan-changes.png"))
