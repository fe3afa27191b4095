"""The migrations and ``vigil.store.schema`` describe the same database, on both dialects."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from vigil.store import migrate
from vigil.store.database import open_engine
from vigil.store.schema import metadata


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = open_engine(url)
    request.addfinalizer(engine.dispose)
    return engine


def test_upgrade_reaches_head(fresh_engine: Engine) -> None:
    """On an empty database, ``upgrade`` ends at the newest revision with every table."""
    assert migrate.current(fresh_engine) is None
    migrate.upgrade(fresh_engine)
    assert migrate.head() is not None
    assert migrate.current(fresh_engine) == migrate.head()
    tables = set(inspect(fresh_engine).get_table_names())
    assert set(metadata.tables) <= tables


def test_migrations_match_schema(fresh_engine: Engine) -> None:
    """After the migrations, autogenerate finds nothing to change: schema.py agrees."""
    migrate.upgrade(fresh_engine)
    assert _differences(fresh_engine) == []


def test_upgrade_twice_is_harmless(fresh_engine: Engine) -> None:
    """A second upgrade neither fails nor changes anything, and data survives it."""
    migrate.upgrade(fresh_engine)
    with fresh_engine.begin() as connection:
        connection.execute(
            metadata.tables["tenants"].insert().values(id="north", name="North", kind="council")
        )
    migrate.upgrade(fresh_engine)
    assert migrate.current(fresh_engine) == migrate.head()
    assert _differences(fresh_engine) == []
    with fresh_engine.connect() as connection:
        rows = connection.execute(metadata.tables["tenants"].select()).all()
    assert [row.id for row in rows] == ["north"]
