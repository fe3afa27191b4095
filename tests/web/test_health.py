"""``/healthz`` and ``/metrics`` report the pipeline through ``Platform.health()``, and no
web module reaches into the platform's log, writer or runtime."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import vigil.web
from vigil.platform import Platform
from vigil.web import create_app

INTERNALS = {"log", "writer", "runtime", "_runtime", "engine"}
"""What the web must not touch on a platform: it reads ``health()`` and repositories."""


@pytest.fixture
def site(platform_factory: Callable[..., Platform]) -> Iterator[tuple[TestClient, Platform]]:
    platform = platform_factory()
    platform.settings.web.metrics_public = True
    with TestClient(create_app(platform)) as client:
        yield client, platform


def test_healthz_reports_offsets_from_health(site: tuple[TestClient, Platform]) -> None:
    """Once everything is processed, both offsets are the log's last, status ok."""
    client, platform = site
    platform.tick(platform.clock())
    assert platform.wait_until_processed()
    health = platform.health()
    assert health.ok and health.log_offset > 0
    assert health.processed_offset == health.log_offset
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "log_offset": health.log_offset,
        "processed_offset": health.log_offset,
        "lag": 0,
        "undecodable_log_records": 0,
        "detail": None,
    }


def test_healthz_is_503_when_the_runtime_failed(site: tuple[TestClient, Platform]) -> None:
    """A failed runtime shows as 503 with the reason."""
    client, platform = site
    platform.runtime.failed = RuntimeError("disk on fire")
    try:
        answer = client.get("/healthz")
        assert platform.health().failure is platform.runtime.failed
    finally:
        platform.runtime.failed = None
    assert answer.status_code == 503
    assert answer.json()["status"] == "failed"
    assert "disk on fire" in answer.json()["detail"]


def test_metrics_gauges_come_from_health(site: tuple[TestClient, Platform]) -> None:
    """The offset gauges and the commit counter equal what ``health()`` says."""
    client, platform = site
    platform.tick(platform.clock())
    assert platform.wait_until_processed()
    text = client.get("/metrics").text
    health = platform.health()
    assert f"vigil_log_offset {float(health.log_offset)}" in text
    assert f"vigil_processed_offset {float(health.processed_offset)}" in text
    assert health.writer_commits > 0
    assert "vigil_writer_commits_total" in text


def _web_modules() -> list[Path]:
    names = [vigil.web.__name__] + [
        info.name for info in pkgutil.walk_packages(vigil.web.__path__, prefix="vigil.web.")
    ]
    files = [importlib.import_module(name).__file__ for name in names]
    return sorted(Path(f) for f in files if f is not None)


def _platform_internals(path: Path) -> list[str]:
    """``platform.log``, ``self.platform.writer``, ... in one module: any attribute in
    ``INTERNALS`` read from something named ``platform``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr in INTERNALS:
            owner = node.value
            name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
            if name == "platform":
                found.append(f"{path.name}:{node.lineno}: platform.{node.attr}")
    return found


def test_the_web_reads_no_platform_internals() -> None:
    """No web module touches the platform's log, writer, runtime or database engine."""
    modules = _web_modules()
    assert len(modules) > 10  # the walk found the routers too
    assert [hit for path in modules for hit in _platform_internals(path)] == []


def test_the_internals_check_can_fail(tmp_path: Path) -> None:
    """The check sees both spellings."""
    probe = tmp_path / "probe.py"
    probe.write_text("a = platform.log.next_offset\nb = self.platform.runtime.failed\n")
    assert _platform_internals(probe) == [
        "probe.py:1: platform.log",
        "probe.py:2: platform.runtime",
    ]
