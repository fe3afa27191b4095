"""Versioned documents: only the next version is written, with its audit row."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.store import migrate
from vigil.store.audit import AuditRepository
from vigil.store.database import open_engine
from vigil.store.documents import DocumentRepository
from vigil.store.writer import GroupCommitWriter


@pytest.fixture(params=["sqlite", "postgresql"])
def documents(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'docs.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = open_engine(url)
    migrate.upgrade(engine)
    writer = GroupCommitWriter(engine)
    writer.start()
    yield DocumentRepository(engine, writer), AuditRepository(engine)
    writer.stop()
    engine.dispose()


def _save(repo: DocumentRepository, version: int, body: bytes, **kwargs: object) -> bool:
    return repo.save(
        "north",
        "carer_plan",
        "2030-01-15",
        version,
        body,
        time=100.0 + version,
        actor="coord",
        action="plan.move",
        summary=f"v{version}",
        **kwargs,
    )


def test_only_the_next_version_is_saved_and_the_newest_is_read(documents) -> None:
    """Version 1 then 2 are saved; a second version 2 (someone else's, saved at the same
    time) and a version 4 are refused; the newest read back is version 2, with its body;
    the history lists both, newest first; another tenant sees nothing."""
    repo, _ = documents
    assert repo.latest("north", "carer_plan", "2030-01-15") is None
    assert _save(repo, 1, b"one", audit=False)
    assert _save(repo, 2, b"two")
    assert not _save(repo, 2, b"other two")
    assert not _save(repo, 4, b"four")
    newest = repo.latest("north", "carer_plan", "2030-01-15")
    assert (newest.version, newest.body, newest.actor) == (2, b"two", "coord")
    assert [v.version for v in repo.history("north", "carer_plan", "2030-01-15")] == [2, 1]
    assert repo.latest("south", "carer_plan", "2030-01-15") is None


def test_a_saved_version_is_audited_and_a_refused_one_is_not(documents) -> None:
    """Each saved version made by a person has one audit row; a refused save has none."""
    repo, audit = documents
    _save(repo, 1, b"one", audit=False)
    _save(repo, 2, b"two")
    _save(repo, 2, b"again")
    rows = audit.recent("north")
    assert [(r.actor, r.action, r.target) for r in rows] == [
        ("coord", "plan.move", "carer_plan/2030-01-15: v2")
    ]
