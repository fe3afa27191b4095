"""Insert-or-update in whichever dialect the store runs on.

Cold paths (the registry, findings) use the dialects' own
``insert().on_conflict_do_update``. The hot ones (per-batch sequence marks of
ingest, operator state in checkpoints) use ``upsert_rows``: both SQLite and
PostgreSQL speak ``INSERT ... ON CONFLICT (...) DO UPDATE SET col = excluded.col``,
so one statement text serves both, sent with plain positional parameters because
SQLAlchemy's per-row parameter processing cost more than the database's own work.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from vigil.errors import ConfigurationError


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
    """Insert dictionaries (all with the same keys) through the columns' types; where
    ``keys`` exist already, overwrite ``update`` (or leave the row when it is empty).
    For the colder paths (registry, findings) that store JSON or booleans."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        statement = postgresql.insert(table)
    elif connection.dialect.name == "sqlite":
        statement = sqlite.insert(table)
    else:  # open_engine accepts no other
        raise ConfigurationError(f"unsupported database {connection.dialect.name!r}")
    if update:
        action = statement.on_conflict_do_update(
            index_elements=list(keys), set_={c: statement.excluded[c] for c in update}
        )
    else:
        action = statement.on_conflict_do_nothing(index_elements=list(keys))
    connection.execute(action, list(rows))
