"""``vigil.web.api``, the web's public API for domains: a domain's router built only
from it serves a page in the shared layout and a JSON route, for the caller's tenant."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, Request, Response
from fastapi.testclient import TestClient

from tests.conftest import small_catalog
from vigil.config import Settings
from vigil.domains import Domain, DomainRegistry
from vigil.platform import Platform
from vigil.web import create_app
from vigil.web.api import Conditions, Now, PageRoute, Pages, Projections, Reader, Registry


def _domain(templates: Path) -> Domain:
    """A domain whose routes use nothing from the web but ``vigil.web.api``."""
    templates.mkdir()
    (templates / "homes_here.html").write_text(
        '{% extends "base.html" %}{% block content %}'
        '<p id="count">{{ homes|length }} homes, {{ open }} open</p>{% endblock %}'
    )
    pages = Pages(templates)
    router = APIRouter(route_class=PageRoute, include_in_schema=False)
    api = APIRouter(prefix="/api/v1/probe")

    @router.get("/homes-here")
    def homes_here(
        request: Request, principal: Reader, registry: Registry, conditions: Conditions
    ) -> Response:
        homes = registry.entities(principal.tenant, kind="home")
        open_now = len(conditions.open(principal.tenant))
        return pages.render(
            request, principal, "homes_here.html", title="Homes here", homes=homes, open=open_now
        )

    @api.get("/latest/{entity}")
    def latest(entity: str, principal: Reader, projections: Projections, now: Now) -> dict:
        values = projections.latest(principal.tenant, entity)
        return {"now": now, "metrics": sorted(v.metric for v in values)}

    return Domain(name="probe", routers=(router, api))


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[TestClient, Platform, str]]:
    settings = Settings(store={"url": f"sqlite:///{tmp_path / 'v.db'}"})
    domains = DomainRegistry([*DomainRegistry.discover().domains, _domain(tmp_path / "t")])
    platform = Platform(settings, domains=domains, clock=lambda: 1_800_000_000.0)
    platform.apply_catalog(small_catalog())
    token = platform.tokens.create("north", "coord", "coordinator", now=platform.clock())
    with TestClient(create_app(platform)) as client:
        yield client, platform, token


def test_a_domain_page_renders_in_the_layout(site: tuple[TestClient, Platform, str]) -> None:
    """The page has the shared navigation and the caller's tenant's homes only."""
    client, _, token = site
    client.cookies.set("vigil_token", token)
    page = client.get("/homes-here")
    assert page.status_code == 200, page.text
    assert '<p id="count">2 homes, 0 open</p>' in page.text
    assert "North Council" in page.text and 'aria-current="page"' not in page.text


def test_a_domain_api_route_reads_projections(site: tuple[TestClient, Platform, str]) -> None:
    """A JSON route gets the repositories and the clock as dependencies."""
    client, _, token = site
    answer = client.get(
        "/api/v1/probe/latest/north.home-1", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"now": 1_800_000_000.0, "metrics": []}


def test_a_domain_route_needs_sign_in(site: tuple[TestClient, Platform, str]) -> None:
    """``Reader`` refuses an anonymous caller: 401 for the API."""
    client, _, _ = site
    assert client.get("/api/v1/probe/latest/north.home-1").status_code == 401
