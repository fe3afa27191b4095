"""Opening a database: SQLite (WAL) embedded, or PostgreSQL by URL."""

from __future__ import annotations

import logging
import os
import stat
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from vigil.errors import ConfigurationError, StoreError

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000


def open_engine(url: str, *, sqlite_synchronous: str = "FULL") -> Engine:
    """An engine for ``url``; SQLite files get WAL so readers never block the writer."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        # Not the URL itself: it may hold a password.
        raise ConfigurationError(
            "invalid store URL: expected sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_file(Path(parsed.database))
        engine = create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            pool_size=8,
            max_overflow=8,
        )
        _install_sqlite_pragmas(engine, sqlite_synchronous)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_size=8, max_overflow=8, pool_pre_ping=True)
    raise ConfigurationError(f"unsupported database {parsed.get_backend_name()!r}")


def _private_file(path: Path) -> None:
    """Create the SQLite file readable by its owner only (0600), or take the group's and
    others' rights from an existing one: it holds personal data and token hashes.
    SQLite gives its ``-wal`` and ``-shm`` files the database file's permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_RDONLY, 0o600))
        for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if each.exists() and stat.S_IMODE(each.stat().st_mode) & 0o077:
                each.chmod(stat.S_IMODE(each.stat().st_mode) & 0o700)
    except OSError as err:
        raise ConfigurationError(f"cannot create the database file {path}: {err}") from err


def _install_sqlite_pragmas(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA cache_size=-65536")
        # Checkpoints run on their own thread (``WalCheckpointer``), not inside commits.
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        # When the WAL starts again, its file is cut back to this (bytes).
        cursor.execute("PRAGMA journal_size_limit=67108864")
        cursor.close()


class WalCheckpointer:
    """Copies the SQLite write-ahead log back into the database on a thread of its own.

    Left to SQLite, the commit that crosses the WAL's size limit does that work
    itself, and the writer (which every acknowledgement waits for) stalls. A
    PASSIVE checkpoint here never blocks the writer; SQLite does it in C, without
    the GIL, so it runs on the other core.

    Under sustained writes a PASSIVE checkpoint never catches the writer, so the
    WAL never starts again from its beginning and only grows; every page the
    writer reads then searches a longer WAL index (ingest fell by a fifth after a
    million events). Once the WAL holds ``restart_frames`` pages, a RESTART
    checkpoint holds the writer back for what the PASSIVE one left (a moment),
    and the next commit starts the WAL afresh.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        every: float = 0.5,
        restart_frames: int = 4096,
        restart_wait_ms: int = 200,
    ) -> None:
        self.engine = engine
        self.every = every
        self.restart_frames = restart_frames
        self.restart_wait_ms = restart_wait_ms
        """How long a RESTART waits for readers; the writer waits as long, so short."""
        self.restarts = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vigil-wal-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.tick()
        self.checkpoint("TRUNCATE")

    def tick(self) -> None:
        _, frames, _ = self.checkpoint("PASSIVE")
        if frames >= self.restart_frames:
            busy, _, _ = self.checkpoint("RESTART", wait_ms=self.restart_wait_ms)
            if not busy:
                self.restarts += 1

    def checkpoint(self, mode: str, *, wait_ms: int | None = None) -> tuple[int, int, int]:
        """SQLite's answer: (busy, pages in the WAL, pages copied); busy if it failed.

        ``wait_ms`` bounds the wait for readers (and so the writer's wait behind it)
        instead of the connection's busy timeout of 30 s; a RESTART that runs out of
        time is tried again on a later tick."""
        try:
            with self.engine.connect() as connection:
                if wait_ms is not None:
                    connection.exec_driver_sql(f"PRAGMA busy_timeout={int(wait_ms)}")
                try:
                    row = connection.exec_driver_sql(f"PRAGMA wal_checkpoint({mode})").one()
                finally:
                    if wait_ms is not None:
                        connection.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except SQLAlchemyError:
            log.exception("WAL checkpoint failed; will try again")
            return 1, 0, 0
        return int(row[0]), int(row[1]), int(row[2])


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def translate(err: SQLAlchemyError, doing: str) -> StoreError:
    """The project's error for a database failure, keeping the cause."""
    return StoreError(f"database error while {doing}: {err.__class__.__name__}: {err}")
