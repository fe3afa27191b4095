"""Entity and device numbers come from the database, not from ``max(number) + 1``."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from vigil.catalog import Catalog, Device, Entity, Tenant
from vigil.store import migrate, registry
from vigil.store.database import open_engine
from vigil.store.registry import RegistryRepository
from vigil.store.schema import devices, entities, metadata


def _catalog(tenant: str) -> Catalog:
    return Catalog(
        tenants=(Tenant(id=tenant, name=tenant.title(), kind="council"),),
        entities=(Entity(tenant=tenant, id=f"{tenant}.h1", kind="home", name="Home 1"),),
        devices=(
            Device(
                tenant=tenant, id=f"{tenant}.h1.t", entity=f"{tenant}.h1", kind="t", metrics=("x",)
            ),
        ),
    )


def _numbers(engine: Engine, table: Any) -> dict[tuple[str, str], int]:
    with engine.connect() as connection:
        rows = connection.execute(select(table.c.tenant, table.c.id, table.c.number))
        return {(t, i): n for t, i, n in rows}


@pytest.mark.integration
def test_concurrent_catalogs_get_distinct_numbers(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes' worth of ``apply`` at the same moment on PostgreSQL both succeed
    with distinct numbers (``max()+1`` in two transactions handed out the same one)."""
    engine = open_engine(postgres_url)
    migrate.upgrade(engine)
    barrier = threading.Barrier(2, timeout=10)
    real_upsert = registry.upsert
    calls = threading.local()

    def upsert_in_step(connection: Any, table: Any, *args: Any, **kwargs: Any) -> None:
        if table is entities and not getattr(calls, "waited", False):
            calls.waited = True
            barrier.wait()  # both transactions are past any read of the numbers
        real_upsert(connection, table, *args, **kwargs)

    monkeypatch.setattr(registry, "upsert", upsert_in_step)
    errors: list[BaseException] = []

    def apply(tenant: str) -> None:
        try:
            RegistryRepository(engine).apply(_catalog(tenant))
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=apply, args=(t,)) for t in ("north", "south")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    try:
        assert errors == []
        for table in (entities, devices):
            numbers = _numbers(engine, table)
            assert len(numbers) == 2
            assert len(set(numbers.values())) == 2
    finally:
        engine.dispose()


def test_numbers_survive_the_migration_and_continue_above(tmp_path: Path) -> None:
    """A database numbered by revision 0001 keeps its numbers (the event log refers to
    them) through 0002, and new entities are numbered above the highest."""
    engine = open_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate.upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.execute(
            metadata.tables["tenants"].insert().values(id="north", name="North", kind="council")
        )
        connection.exec_driver_sql(
            "INSERT INTO entities (tenant, id, number, kind, name, attributes) "
            "VALUES ('north', 'north.old', 41, 'home', 'Old', '{}')"
        )
    migrate.upgrade(engine)
    repository = RegistryRepository(engine)
    repository.apply(_catalog("north"))
    repository.apply(_catalog("north"))  # again: nothing renumbered
    try:
        assert _numbers(engine, entities) == {("north", "north.old"): 41, ("north", "north.h1"): 42}
    finally:
        engine.dispose()
