"""The WAL stays bounded while a writer writes without pause."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Engine, text

from vigil.store.database import WalCheckpointer, open_engine


def write_for(engine: Engine, seconds: float) -> None:
    """Commit after commit with no gap, as ingest under load does."""
    payload = "x" * 2000
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO filler (body) VALUES (:body)"), [{"body": payload}] * 50
            )


def wal_pages(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size // 4096 if wal.exists() else 0


def run(tmp_path: Path, restart_frames: int) -> tuple[int, WalCheckpointer]:
    path = tmp_path / "wal.db"
    engine = open_engine(f"sqlite:///{path}", sqlite_synchronous="OFF")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT)"))
    checkpointer = WalCheckpointer(engine, every=0.02, restart_frames=restart_frames)
    checkpointer.start()
    try:
        write_for(engine, 1.5)
        pages = wal_pages(path)
    finally:
        checkpointer.stop()
        engine.dispose()
    return pages, checkpointer


def test_wal_starts_again_under_sustained_writes(tmp_path: Path) -> None:
    pages, checkpointer = run(tmp_path, restart_frames=200)
    assert checkpointer.restarts > 0
    # The file is cut back to journal_size_limit (64 MiB) at most; far less here.
    assert pages < 5_000


def test_without_restarts_the_wal_only_grows(tmp_path: Path) -> None:
    """The case the RESTART checkpoints are for: the same load, never restarted."""
    pages, checkpointer = run(tmp_path, restart_frames=10**9)
    assert checkpointer.restarts == 0
    bounded, _ = run(tmp_path / "bounded", restart_frames=200)
    assert pages > 2 * bounded
