"""Stores to run the engine's scenarios on: a SQLite file, or a PostgreSQL database of
the test's own on the real server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import require_server
from vigil.config import Settings

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(params=["sqlite", "postgresql"])
def new_settings(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., Settings]]:
    """Settings for a fresh, empty store each call (all dropped after the test)."""
    created: list[str] = []
    if request.param == "postgresql":
        require_server(5432, "PostgreSQL")

    def make(**engine: object) -> Settings:
        engine = {"checkpoint_interval_seconds": 0.2, "tick_seconds": 0.0, **engine}
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / f'vigil-{len(created)}.db'}"
            created.append(url)
            return Settings(store={"url": url, "sqlite_synchronous": "NORMAL"}, engine=engine)
        import psycopg

        name = f"vigil_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(ADMIN, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        return Settings(store={"url": url}, engine=engine)

    make.kind = request.param  # type: ignore[attr-defined]
    yield make
    if request.param == "postgresql":
        import psycopg

        with psycopg.connect(ADMIN, autocommit=True) as connection:
            for name in created:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
