"""Insert-or-update in whichever dialect the store runs on.

Cold paths (the registry, findings) use the dialects' own
``insert().on_conflict_do_update``. The hot ones (per-batch sequence marks of
ingest, operator state and projections in checkpoints) use ``upsert_rows``: both
SQLite and PostgreSQL speak ``INSERT ... ON CONFLICT (...) DO UPDATE SET col =
excluded.col``, so one statement text serves both, sent with plain positional
parameters because SQLAlchemy's per-row parameter processing cost more than the
database's own work.

Thousands of rows go in one statement, not one statement a row (``executemany``):
a driver lets go of the GIL around every statement and then waits behind the other
threads to get it back, and psycopg builds every row's statement in Python. On
SQLite the rows go in multi-row ``VALUES``; on PostgreSQL a large set is streamed
with binary ``COPY`` into a temporary table and upserted from there in one
statement, which cost a tenth of the client CPU of either (``benchmarks/pg_insert.py``
measures the same for the log).
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Connection, Float, Integer, LargeBinary, Table
from sqlalchemy.dialects import postgresql, sqlite

from vigil.errors import ConfigurationError


def positional_marker(connection: Connection) -> str:
    """The DB-API placeholder of the connection's driver."""
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


_MAX_PARAMETERS = 32_766
"""SQLite's limit on a statement's parameters (PostgreSQL's is 65,535)."""


def max_rows_per_statement(columns: int) -> int:
    """The largest power of two of rows whose parameters fit in one statement."""
    return 1 << ((_MAX_PARAMETERS // columns).bit_length() - 1)


def chunk_sizes(count: int, max_rows: int) -> list[int]:
    """Full statements, then the rest in powers of two, largest first.

    Only a dozen statement sizes ever occur. Drivers cache prepared statements per
    connection (and sqlite3 keeps the values last bound to each): a statement for
    every possible count would hold megabytes of old rows per cached size.

    >>> chunk_sizes(5000, 2048)
    [2048, 2048, 512, 256, 128, 8]
    """
    sizes = [max_rows] * (count // max_rows)
    rest = count % max_rows
    sizes += [1 << bit for bit in reversed(range(rest.bit_length())) if rest >> bit & 1]
    return sizes


@lru_cache(maxsize=256)
def _statement(
    table: Table,
    columns: tuple[str, ...],
    keys: tuple[str, ...],
    update: tuple[str, ...],
    marker: str,
    rows: int,
) -> str:
    """``INSERT ... VALUES`` with ``rows`` rows of ``marker`` placeholders."""
    row = "(" + ", ".join([marker] * len(columns)) + ")"
    return _upsert_from(table, columns, keys, update, "VALUES " + ", ".join([row] * rows))


def _upsert_from(
    table: Table,
    columns: tuple[str, ...],
    keys: tuple[str, ...],
    update: tuple[str, ...],
    source: str,
) -> str:
    """``INSERT INTO table (columns) <source> ON CONFLICT (keys) DO ...``."""
    names = ", ".join(f'"{c}"' for c in columns)
    conflict = ", ".join(f'"{k}"' for k in keys)
    if update:
        action = "DO UPDATE SET " + ", ".join(f'"{c}" = excluded."{c}"' for c in update)
    else:
        action = "DO NOTHING"
    return f'INSERT INTO "{table.name}" ({names}) {source} ON CONFLICT ({conflict}) {action}'


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
    columns (or leave the row as it is when ``update`` is empty).

    ``rows`` holds at most one row per key: PostgreSQL refuses a statement that
    would update a row twice."""
    if not rows:
        return
    if connection.dialect.name == "postgresql" and len(rows) >= _COPY_FROM_ROWS:
        _postgresql_copy_upsert(connection, table, tuple(columns), tuple(keys), tuple(update), rows)
        return
    shape = (table, tuple(columns), tuple(keys), tuple(update), positional_marker(connection))
    start = 0
    for size in chunk_sizes(len(rows), max_rows_per_statement(len(columns))):
        chunk = rows[start : start + size]
        start += size
        parameters = tuple(itertools.chain.from_iterable(chunk))
        connection.exec_driver_sql(_statement(*shape, size), parameters)


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


_COPY_FROM_ROWS = 64
"""Below this, one multi-row statement costs less than a temporary table's round trips."""


def postgresql_type(column: Column[Any]) -> str:
    """The type binary ``COPY`` is told to send a column's values as."""
    kind = column.type
    if isinstance(kind, BigInteger):
        return "int8"
    if isinstance(kind, Integer):
        return "int4"
    if isinstance(kind, Float):
        return "float8"
    if isinstance(kind, LargeBinary):
        return "bytea"
    if isinstance(kind, Boolean):
        return "bool"
    return "text"  # varchar and text have the same binary form


def _postgresql_copy_upsert(
    connection: Connection,
    table: Table,
    columns: tuple[str, ...],
    keys: tuple[str, ...],
    update: tuple[str, ...],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    types = [postgresql_type(table.c[name]) for name in columns]
    names = ", ".join(f'"{c}"' for c in columns)
    # A staging table per set of columns, for the session, emptied at commit -- and
    # after use, as one transaction can upsert the same table more than once.
    staging = f'"_upsert_{table.name}_{zlib.crc32(names.encode()):08x}"'
    definition = ", ".join(f'"{c}" {t}' for c, t in zip(columns, types, strict=True))
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ({definition}) ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY {staging} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            write_row = copy.write_row
            for row in rows:
                write_row(row)
        cursor.execute(_upsert_from(table, columns, keys, update, f"SELECT {names} FROM {staging}"))
        cursor.execute(f"TRUNCATE {staging}")
