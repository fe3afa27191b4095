"""The care domain's caseload page and API: residents ordered by concern, with a reason."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from fastapi.testclient import TestClient

from vigil.platform import Platform
from vigil.web.app import create_app

if TYPE_CHECKING:
    from tests.web.conftest import Sequencer, Tokens


def test_caseload_puts_the_resident_with_an_alarm_first(
    platform_factory: Callable[..., Platform],
    sequencer: Sequencer,
    tokens_for: Callable[[Platform], Tokens],
    evil_name: str,
) -> None:
    """A fall alarm in the second home puts it at the top, critical, with a one-line
    reason linking to the alert; the quiet home follows with "no concerns"; the page is
    in the council's navigation, escapes names, and the API says the same."""
    platform = platform_factory()
    tokens = tokens_for(platform)
    with TestClient(create_app(platform)) as client:
        now = time.time()
        body = sequencer.batch(
            sequencer.event("north", "north.h1.motion", "north.h1", metric="motion", value=1),
            sequencer.event(
                "north", "north.h2.temp", "north.h2", type="alarm", alarm="fall", time=now
            ),
        )
        response = client.post(
            "/api/v1/ingest",
            content=body,
            headers={"Authorization": f"Bearer {tokens.gateway}"},
        )
        assert response.status_code == 200
        deadline = time.monotonic() + 10
        while not platform.conditions.open("north") and time.monotonic() < deadline:
            platform.wait_until_processed()
            time.sleep(0.05)
        headers = {"Cookie": f"vigil_token={tokens.coordinator}"}
        page = client.get("/caseload", headers=headers)
        assert page.status_code == 200
        html = page.text
        assert '<a href="/caseload"' in html  # in the navigation
        assert evil_name not in html and "&lt;script&gt;" in html
        first, second = html.index('data-home="north.h2"'), html.index('data-home="north.h1"')
        assert first < second
        row = html[first:second]
        assert "sev-critical" in row
        assert "fall detected at " in row
        assert "/alerts/help_alarm%3Anorth.h2~1" in row
        assert "no concerns" in html[second:]
        api = client.get("/api/v1/care/caseload", headers=headers).json()
        assert [r["entity"] for r in api] == ["north.h2", "north.h1"]
        assert api[0]["severity"] == "critical"
        assert api[0]["reason"].startswith("fall detected at ")
        assert api[1]["reason"] == "no concerns"
        assert client.get("/caseload", follow_redirects=False).status_code == 303
