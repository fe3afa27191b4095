"""Opening a database: SQLite (WAL) embedded, or PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from vigil.errors import ConfigurationError, StoreError


def open_engine(url: str, *, sqlite_synchronous: str = "FULL") -> Engine:
    """An engine for ``url``; SQLite files get WAL so readers never block the writer."""
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise ConfigurationError(f"invalid store URL {url!r}") from err
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=8,
            max_overflow=8,
        )
        _install_sqlite_pragmas(engine, sqlite_synchronous)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_size=8, max_overflow=8, pool_pre_ping=True)
    raise ConfigurationError(f"unsupported database {parsed.get_backend_name()!r}")


def _install_sqlite_pragmas(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def translate(err: SQLAlchemyError, doing: str) -> StoreError:
    """The project's error for a database failure, keeping the cause."""
    return StoreError(f"database error while {doing}: {err.__class__.__name__}: {err}")
