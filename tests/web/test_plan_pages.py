"""The carer plan pages: board, map, visits not placed, CSV, a carer's run and calendar."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import icalendar
import pytest
from fastapi.testclient import TestClient

from vigil.care import plan_pages
from vigil.planning.scenario import council_day
from vigil.platform import Platform
from vigil.web.app import create_app

if TYPE_CHECKING:
    from tests.web.conftest import Tokens

DAY = "2026-12-08"


@pytest.fixture(scope="module")
def small_plans() -> plan_pages.SimulatedPlans:
    """A 60-visit simulated day, planned once for the whole module (1 s of search)."""
    return plan_pages.SimulatedPlans(
        seconds=1.0, problem_for=lambda tenant, day: council_day(visits=60, carers=8, seed=5)
    )


@pytest.fixture
def site(
    platform_factory: Callable[..., Platform],
    tokens_for: Callable[[Platform], Tokens],
    small_plans: plan_pages.SimulatedPlans,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[TestClient, Tokens, plan_pages.SimulatedPlans]]:
    monkeypatch.setattr(plan_pages, "PLANS", small_plans)
    platform = platform_factory()
    with TestClient(create_app(platform)) as client:
        yield client, tokens_for(platform), small_plans


def _get(client: TestClient, path: str, token: str):
    client.cookies.clear()
    return client.get(path, headers={"Cookie": f"vigil_token={token}"}, follow_redirects=False)


def test_plan_page_shows_board_map_unplaced_and_says_where_the_plan_comes_from(site) -> None:
    """The coordinator's page has a roster block per planned visit, a map line per run
    that has visits, a row per visit not placed with its reason, and says the plan is for
    the simulated day; the navigation links to it."""
    client, tokens, plans = site
    response = _get(client, f"/plan?date={DAY}", tokens.coordinator)
    assert response.status_code == 200
    page = response.text
    found = plans.day("north", dt.date.fromisoformat(DAY))
    planned = sum(len(r.stops) for r in found.plan.routes)
    assert len(re.findall(r'<rect [^>]*data-visit="', page)) == planned
    used = sum(1 for r in found.plan.routes if r.stops)
    assert len(re.findall(r'<g data-run="', page)) == used
    assert len(re.findall(r"<tr data-unplaced-visit=", page)) == len(found.plan.unassigned)
    assert "simulated council day" in page
    assert '<a href="/plan" aria-current="page">Carer plan</a>' in page
    assert "https://" not in page.split("<main", 1)[1]  # no tiles, no CDN


def test_csv_export_lists_every_visit(site) -> None:
    """The CSV has a row per visit of the day, placed or not, and downloads as a file."""
    client, tokens, plans = site
    response = _get(client, f"/plan/export.csv?date={DAY}", tokens.coordinator)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(response.text)))
    found = plans.day("north", dt.date.fromisoformat(DAY))
    assert sorted(r["visit"] for r in table) == sorted(v.id for v in found.problem.visits)


def test_carer_page_and_calendar_match_the_run(site) -> None:
    """A carer's phone page lists each visit of their run in order and the .ics has one
    event per visit and break, on the day asked."""
    client, tokens, plans = site
    found = plans.day("north", dt.date.fromisoformat(DAY))
    route = max(found.plan.routes, key=lambda r: len(r.stops))
    page = _get(client, f"/plan/carers/{route.carer}?date={DAY}", tokens.carer)
    assert page.status_code == 200
    assert page.text.count('data-step="visit"') == len(route.stops)
    assert 'name="viewport"' in page.text
    ics = _get(client, f"/plan/carers/{route.carer}/run.ics?date={DAY}", tokens.carer)
    assert ics.headers["content-type"].startswith("text/calendar")
    events = icalendar.Calendar.from_ical(ics.content).walk("VEVENT")
    assert len(events) == len(route.stops) + len(route.breaks)
    assert {e.decoded("dtstart").date().isoformat() for e in events} == {DAY}


def test_bad_date_unknown_carer_and_plant_are_refused(site) -> None:
    """A malformed date is 422, an unknown carer 404, and a plant has no carer plan."""
    client, tokens, _ = site
    assert _get(client, "/plan?date=08-12-2026", tokens.coordinator).status_code == 422
    assert _get(client, f"/plan/carers/nobody?date={DAY}", tokens.coordinator).status_code == 404
    assert _get(client, f"/plan?date={DAY}", tokens.engineer).status_code == 404
