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


class Stores:
    """Fresh, empty stores of one kind, as many as a test needs; dropped after it."""

    def __init__(self, kind: str, directory: Path) -> None:
        self.kind, self.directory = kind, directory
        self.created: list[str] = []

    def url(self) -> str:
        if self.kind == "sqlite":
            self.created.append(str(self.directory / f"vigil-{len(self.created)}.db"))
            return f"sqlite:///{self.created[-1]}"
        import psycopg

        name = f"vigil_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(ADMIN, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"

    def drop(self) -> None:
        if self.kind != "postgresql":
            return
        import psycopg

        with psycopg.connect(ADMIN, autocommit=True) as connection:
            for name in self.created:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_stores(kind: str, directory: Path) -> Iterator[Stores]:
    if kind == "postgresql":
        require_server(5432, "PostgreSQL")
    made = Stores(kind, directory)
    try:
        yield made
    finally:
        made.drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    yield from make_stores(request.param, tmp_path)


@pytest.fixture
def new_settings(stores: Stores) -> Callable[..., Settings]:
    """Settings for a fresh store each call; ``engine`` settings as keywords."""

    def make(**engine: object) -> Settings:
        engine = {"checkpoint_interval_seconds": 0.2, "tick_seconds": 0.0, **engine}
        store = {"url": stores.url()}
        if stores.kind == "sqlite":
            store["sqlite_synchronous"] = "NORMAL"
        return Settings(store=store, engine=engine)

    make.kind = stores.kind  # type: ignore[attr-defined]
    return make
