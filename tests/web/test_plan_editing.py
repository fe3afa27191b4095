"""Changing a stored plan from the page: lock, move, re-optimise, urgent visit; who may;
what is refused; what survives a restart; what is audited."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from vigil.care import plan_pages
from vigil.care.plan_editing import client_for
from vigil.planning.book import KIND, decode
from vigil.planning.edits import partner
from vigil.planning.scenario import council_day
from vigil.platform import Platform
from vigil.web.app import create_app

if TYPE_CHECKING:
    from tests.web.conftest import Tokens

DAY = "2030-01-15"  # in the future: no visit has started, whatever the wall clock says


@pytest.fixture(scope="module")
def small_plans() -> plan_pages.SimulatedPlans:
    return plan_pages.SimulatedPlans(
        seconds=1.0, problem_for=lambda tenant, day: council_day(visits=60, carers=8, seed=5)
    )


@pytest.fixture
def plans(
    small_plans: plan_pages.SimulatedPlans, monkeypatch: pytest.MonkeyPatch
) -> plan_pages.SimulatedPlans:
    monkeypatch.setattr(plan_pages, "PLANS", small_plans)
    return small_plans


def _get(client: TestClient, path: str, token: str):
    client.cookies.clear()
    return client.get(path, headers={"Cookie": f"vigil_token={token}"}, follow_redirects=False)


def _post(http: TestClient, path: str, token: str, **form: object):
    http.cookies.clear()
    return http.post(
        path,
        data={"date": DAY, **form},  # a form's own date wins
        headers={"Cookie": f"vigil_token={token}"},
        follow_redirects=False,
    )


def _stored(platform: Platform):
    found = platform.documents.latest("north", KIND, DAY)
    return decode(found.body, found.version)


def _a_visit(record) -> str:
    """The first placed visit of the day."""
    return next(s.visit for r in record.plan.routes for s in r.stops)


def _movable(platform: Platform, client: TestClient, token: str) -> tuple[str, str]:
    """A single visit and another carer the page accepts it on (tried in order)."""
    record = _stored(platform)
    for route in record.plan.routes:
        for stop in route.stops:
            if partner(record.problem, stop.visit) is not None:
                continue
            for carer in (c.id for c in record.problem.carers if c.id != route.carer):
                answer = _post(
                    client, "/plan/move", token, visit=stop.visit, carer=carer, version=""
                )
                if answer.status_code == 303:
                    return stop.visit, carer
    raise AssertionError("no visit could be moved")


def test_lock_move_reoptimise_survive_a_restart_and_are_audited(
    platform_factory: Callable[..., Platform],
    tokens_for: Callable[[Platform], Tokens],
    plans: plan_pages.SimulatedPlans,
) -> None:
    """A coordinator locks a visit, moves another and re-optimises: each is a new
    version with an audit row; the page lists what changed and why; after the platform
    restarts on the same database the page shows the same version and the same plan."""
    platform = platform_factory()
    tokens = tokens_for(platform)
    with TestClient(create_app(platform)) as client:
        assert _get(client, f"/plan?date={DAY}", tokens.coordinator).status_code == 200
        first = _stored(platform)
        locked_visit = _a_visit(first)
        answer = _post(client, "/plan/lock", tokens.coordinator, visit=locked_visit, version=1)
        assert answer.status_code == 303
        moved, carer = _movable(platform, client, tokens.coordinator)
        version = _stored(platform).version
        answer = _post(client, "/plan/reoptimise", tokens.coordinator, version=version)
        assert answer.status_code == 303
        record = _stored(platform)
        assert record.version == version + 1
        assert record.plan.assignment()[moved][0] == carer
        locked_carer = first.plan.assignment()[locked_visit][0]
        assert record.plan.assignment()[locked_visit][0] == locked_carer
        page = _get(client, f"/plan?date={DAY}", tokens.coordinator).text
        assert f'data-plan-version="{record.version}"' in page
        assert len(re.findall(r"<tr data-change=", page)) == len(record.notes)
        assert re.search(rf'data-locked[^>]*>|data-visit="{moved}"[^>]*data-locked', page)
        csv_before = _get(client, f"/plan/export.csv?date={DAY}", tokens.coordinator).text
    actions = [e.action for e in platform.audit.recent("north")]
    assert actions[:3] == ["plan.reoptimise", "plan.move", "plan.lock"]

    again = platform_factory()
    with TestClient(create_app(again)) as client:
        page = _get(client, f"/plan?date={DAY}", tokens.coordinator).text
        assert f'data-plan-version="{record.version}"' in page
        csv_after = _get(client, f"/plan/export.csv?date={DAY}", tokens.coordinator).text
        assert csv_after == csv_before
        assert _stored(again).locks == record.locks


def test_a_move_that_breaks_a_rule_is_refused_and_nothing_changes(
    platform_factory: Callable[..., Platform],
    tokens_for: Callable[[Platform], Tokens],
    plans: plan_pages.SimulatedPlans,
) -> None:
    """Moving half of a double-handed visit onto the carer with the other half is
    refused (409) with the checker's reason on the page; the stored plan is unchanged."""
    platform = platform_factory()
    tokens = tokens_for(platform)
    with TestClient(create_app(platform)) as client:
        _get(client, f"/plan?date={DAY}", tokens.coordinator)
        record = _stored(platform)
        where = record.plan.assignment()
        link = next(k for k in record.problem.links if k.first in where)
        answer = _post(
            client,
            "/plan/move",
            tokens.coordinator,
            visit=link.first,
            carer=where[link.second][0],
            version=1,
        )
        assert answer.status_code == 409
        assert "data-refused" in answer.text
        assert f"both by {where[link.second][0]}" in answer.text
        assert _stored(platform).version == 1


def test_a_change_from_a_stale_page_is_refused(
    platform_factory: Callable[..., Platform],
    tokens_for: Callable[[Platform], Tokens],
    plans: plan_pages.SimulatedPlans,
) -> None:
    """A form carrying an older version than the stored one changes nothing."""
    platform = platform_factory()
    tokens = tokens_for(platform)
    with TestClient(create_app(platform)) as client:
        _get(client, f"/plan?date={DAY}", tokens.coordinator)
        visit = _a_visit(_stored(platform))
        assert _post(client, "/plan/lock", tokens.coordinator, visit=visit, version=1).is_redirect
        answer = _post(client, "/plan/unlock", tokens.coordinator, visit=visit, version=1)
        assert answer.status_code == 409
        assert "changed since this page showed version 1" in answer.text
        assert _stored(platform).version == 2


def test_only_a_coordinator_may_change_the_plan(
    platform_factory: Callable[..., Platform],
    tokens_for: Callable[[Platform], Tokens],
    plans: plan_pages.SimulatedPlans,
) -> None:
    """A carer sees the plan but no change forms, and their post is refused (403)."""
    platform = platform_factory()
    tokens = tokens_for(platform)
    with TestClient(create_app(platform)) as client:
        page = _get(client, f"/plan?date={DAY}", tokens.carer)
        assert page.status_code == 200
        assert "data-plan-editing" not in page.text
        visit = _a_visit(_stored(platform))
        assert _post(client, "/plan/lock", tokens.carer, visit=visit).status_code == 403
        assert _stored(platform).version == 1
        coordinator = _get(client, f"/plan?date={DAY}", tokens.coordinator).text
        assert "data-plan-editing" in coordinator


def test_urgent_visit_for_a_client_is_added_and_explained(
    platform_factory: Callable[..., Platform],
    tokens_for: Callable[[Platform], Tokens],
    plans: plan_pages.SimulatedPlans,
) -> None:
    """An urgent welfare visit for a client is added to today's plan at 10:00, placed
    within two hours, and the change list says it is an urgent welfare visit; on a day
    that has not begun it is refused."""
    platform = platform_factory()
    platform.clock = lambda: dt.datetime.fromisoformat(f"{DAY}T10:00:00+00:00").timestamp()
    tokens = tokens_for(platform)
    with TestClient(create_app(platform)) as client:
        _get(client, f"/plan?date={DAY}", tokens.coordinator)
        client_id = _stored(platform).problem.visits[0].client
        answer = _post(client, "/plan/urgent", tokens.coordinator, client=client_id, version=1)
        assert answer.status_code == 303
        record = _stored(platform)
        urgent = [v for v in record.problem.visits if v.id.startswith("urgent-")]
        assert [v.client for v in urgent] == [client_id]
        note = next(n for n in record.notes if n.visit == urgent[0].id)
        assert "urgent welfare visit" in note.why
        start = record.plan.assignment()[urgent[0].id][1]
        assert 10 * 3600 <= start <= 12 * 3600
        later = _post(
            client, "/plan/urgent", tokens.coordinator, client=client_id, date="2030-01-16"
        )
        assert later.status_code == 409
        assert "today" in later.text


def test_an_alerts_home_maps_to_one_client_of_the_simulated_day() -> None:
    """A home that is a client is that client; otherwise the n-th home by id stands for
    the n-th client, always the same one."""
    problem = council_day(visits=60, carers=8, seed=5)
    homes = ["north.h2", "north.h1", "north.h10"]
    first = client_for(problem, "north.h1", homes)
    assert first == client_for(problem, "north.h1", list(reversed(homes)))
    assert first != client_for(problem, "north.h2", homes)
    client = problem.visits[3].client
    assert client_for(problem, client, homes) == client


def test_urgent_visit_from_an_open_alert(
    platform_factory: Callable[..., Platform],
    tokens_for: Callable[[Platform], Tokens],
    plans: plan_pages.SimulatedPlans,
) -> None:
    """An open care alert on a home is offered on the plan page; choosing it adds an
    urgent visit to the client that home stands for, and the note quotes the alert."""
    from vigil.store.schema import conditions

    platform = platform_factory()
    now = dt.datetime.fromisoformat(f"{DAY}T10:00:00+00:00").timestamp()
    platform.clock = lambda: now
    tokens = tokens_for(platform)
    message = "Usually up by 08:10; no movement since 22:45"
    with platform.engine.begin() as connection:  # as the condition tracker would write it
        connection.execute(
            conditions.insert().values(
                tenant="north",
                id="not_up:north.h1~1",
                key="not_up:north.h1",
                entity="north.h1",
                kind="not_up",
                source="care_monitor",
                severity="warning",
                route="coordinator",
                status="open",
                active=True,
                message=message,
                evidence={},
                opened=now - 600,
                updated=now - 600,
                escalations=0,
            )
        )
    with TestClient(create_app(platform)) as client:
        page = _get(client, f"/plan?date={DAY}", tokens.coordinator).text
        assert 'value="not_up:north.h1~1"' in page
        answer = _post(client, "/plan/urgent", tokens.coordinator, alert="not_up:north.h1~1")
        assert answer.status_code == 303
        record = _stored(platform)
        expected = client_for(record.problem, "north.h1", ["north.h1", "north.h2"])
        urgent = next(v for v in record.problem.visits if v.id.startswith("urgent-"))
        assert urgent.client == expected
        note = next(n for n in record.notes if n.visit == urgent.id)
        assert message in note.why
