"""Insert-or-update in whichever dialect the store runs on, fast enough for the hot path.

Both SQLite and PostgreSQL speak ``INSERT ... ON CONFLICT (...) DO UPDATE SET
col = excluded.col``, so one statement text serves both; it is sent with plain
positional parameters because SQLAlchemy's per-row parameter processing cost
more than the database's own work for the per-batch upserts of ingest.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table


def positional_marker(connection: Connection) -> str:
    """The DB-API placeholder of the connection's driver."""
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


@cache
def _statement(
    table: Table,
    columns: tuple[str, ...],
    keys: tuple[str, ...],
    update: tuple[str, ...],
    marker: str,
) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    markers = ", ".join([marker] * len(columns))
    conflict = ", ".join(f'"{k}"' for k in keys)
    if update:
        action = "DO UPDATE SET " + ", ".join(f'"{c}" = excluded."{c}"' for c in update)
    else:
        action = "DO NOTHING"
    return (
        f'INSERT INTO "{table.name}" ({names}) VALUES ({markers}) ON CONFLICT ({conflict}) {action}'
    )


def upsert_rows(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    keys: Sequence[str],
    update: Sequence[str] = (),
) -> None:
    """Insert tuples of ``columns``; where ``keys`` exist already, overwrite ``update``
    columns (or leave the row as it is when ``update`` is empty)."""
    if not rows:
        return
    statement = _statement(
        table, tuple(columns), tuple(keys), tuple(update), positional_marker(connection)
    )
    connection.exec_driver_sql(statement, list(rows))


def upsert(
    connection: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
    update: Sequence[str] | None = None,
) -> None:
    """``upsert_rows`` for dictionaries (all with the same keys), through the columns'
    types, for the colder paths (registry, checkpoints) that store JSON or booleans."""
    if not rows:
        return
    columns = [c for c in table.columns if c.name in rows[0]]
    dialect = connection.dialect
    processors = [c.type._cached_bind_processor(dialect) for c in columns]
    tuples = [
        tuple(
            value if process is None else process(value)
            for process, value in zip(processors, (row[c.name] for c in columns), strict=True)
        )
        for row in rows
    ]
    upsert_rows(
        connection, table, [c.name for c in columns], tuples, keys=keys, update=update or ()
    )
