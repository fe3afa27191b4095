"""``upsert_rows`` on SQLite and PostgreSQL: many rows a statement (and COPY through a
staging table on PostgreSQL) must land exactly what row-by-row upserts would."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select

from vigil.store.schema import latest_values, metadata, operator_state
from vigil.store.upsert import upsert_rows

STATE_COLUMNS = ("operator", "tenant", "key", "state")
STATE_KEYS = ("operator", "tenant", "key")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'upsert.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    metadata.create_all(engine, tables=[operator_state, latest_values])
    return engine


def _states(engine: Engine) -> dict[tuple[str, str, str], bytes]:
    with engine.connect() as connection:
        rows = connection.execute(select(operator_state)).all()
    return {(r.operator, r.tenant, r.key): r.state for r in rows}


@pytest.mark.parametrize("count", [1, 63, 64, 5_000, 20_000])
def test_inserts_then_overwrites_every_row(engine: Engine, count: int) -> None:
    """Sizes below and above the COPY threshold, and more rows than one statement holds."""
    first = [("op", "north", f"k{i:05d}", f"v1-{i}".encode()) for i in range(count)]
    with engine.begin() as connection:
        upsert_rows(connection, operator_state, STATE_COLUMNS, first, keys=STATE_KEYS)
    # Half of them again with new state, and some new keys, in one call.
    second = [("op", "north", f"k{i:05d}", f"v2-{i}".encode()) for i in range(0, count + 10, 2)]
    with engine.begin() as connection:
        upsert_rows(
            connection, operator_state, STATE_COLUMNS, second, keys=STATE_KEYS, update=("state",)
        )
    expected = {row[:3]: row[3] for row in first} | {row[:3]: row[3] for row in second}
    assert _states(engine) == expected


def test_the_same_table_twice_in_one_transaction(engine: Engine) -> None:
    """A commit group can upsert one table more than once (two operators' checkpoints):
    the second must not see the first's staged rows again."""
    alpha = [("alpha", "north", f"k{i}", b"a") for i in range(100)]
    again = [("alpha", "north", f"k{i}", b"b") for i in range(80)]
    with engine.begin() as connection:
        upsert_rows(connection, operator_state, STATE_COLUMNS, alpha, keys=STATE_KEYS)
        upsert_rows(
            connection, operator_state, STATE_COLUMNS, again, keys=STATE_KEYS, update=("state",)
        )
    with engine.begin() as connection:  # and the staging table is empty in a new one
        upsert_rows(connection, operator_state, STATE_COLUMNS, again[:70], keys=STATE_KEYS)
    states = _states(engine)
    assert len(states) == 100
    assert sorted(states.values()).count(b"b") == 80


def test_nulls_floats_and_text_keep_their_types(engine: Engine) -> None:
    columns = ("tenant", "entity", "device", "metric", "value", "text", "time", "unit")
    rows = [
        ("north", f"e{i}", "d", "m", None if i % 3 == 0 else i / 7, "on" if i % 3 == 0 else None,
         1_700_000_000.25 + i, None if i % 2 else "°C")
        for i in range(200)
    ]  # fmt: skip
    with engine.begin() as connection:
        upsert_rows(
            connection,
            latest_values,
            columns,
            rows,
            keys=("tenant", "entity", "device", "metric"),
            update=("value", "text", "time", "unit"),
        )
    with engine.connect() as connection:
        stored = connection.execute(
            select(*(latest_values.c[c] for c in columns)).order_by(latest_values.c.time)
        ).all()
    assert [tuple(r) for r in stored] == rows
