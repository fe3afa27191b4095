"""Versioned documents: records people change that no operator derives from the log.

A day's carer plan is one: a coordinator locks or moves a visit, or re-optimises,
and every page (and every process) must then show that plan, after a restart too.
It cannot live in the log as actions to replay, because the plan is the result of a
search under a time limit, which gives a different plan on a different machine or
under other load; so the result itself is stored, every version of it, each
naming who made it and why. The store never looks inside ``body``.

Writes go through the group-commit writer (SQLite has one write lock), with the
audit row of the person who caused them in the same transaction. A version is
written only if it is the next one, so two coordinators changing the same plan at
once cannot overwrite each other: the second is told the plan has moved on.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from sqlalchemy import Connection, Engine, func, select

from vigil.engine.seams import AuditRow
from vigil.errors import StoreError
from vigil.store.audit import insert_audit
from vigil.store.schema import documents
from vigil.store.writer import GroupCommitWriter


class DocumentVersion(msgspec.Struct, frozen=True):
    """One version's facts, without its body (a history list)."""

    version: int
    time: float
    actor: str
    action: str
    summary: str


class StoredDocument(msgspec.Struct, frozen=True):
    """The newest version of a document, with its body."""

    version: int
    time: float
    actor: str
    action: str
    summary: str
    body: bytes


class _SaveVersion:
    """A ``WriteJob``: insert ``version`` only if the newest stored one is ``version - 1``."""

    def __init__(self, row: dict[str, object], audit: Sequence[AuditRow]) -> None:
        self.row = row
        self.audit = audit

    def write(self, connection: Connection) -> bool:
        newest = connection.execute(
            select(func.max(documents.c.version)).where(
                documents.c.tenant == self.row["tenant"],
                documents.c.kind == self.row["kind"],
                documents.c.key == self.row["key"],
            )
        ).scalar()
        if (newest or 0) != int(self.row["version"]) - 1:  # type: ignore[call-overload]
            return False
        connection.execute(documents.insert(), [self.row])
        insert_audit(connection, self.audit)
        return True

    def committed(self, result: bool) -> None:
        pass

    def rolled_back(self) -> None:
        pass


class DocumentRepository:
    """Read the newest version or the history; write the next version (audited)."""

    def __init__(self, engine: Engine, writer: GroupCommitWriter) -> None:
        self.engine = engine
        self.writer = writer

    def latest(self, tenant: str, kind: str, key: str) -> StoredDocument | None:
        query = (
            select(
                documents.c.version,
                documents.c.time,
                documents.c.actor,
                documents.c.action,
                documents.c.summary,
                documents.c.body,
            )
            .where(documents.c.tenant == tenant, documents.c.kind == kind, documents.c.key == key)
            .order_by(documents.c.version.desc())
            .limit(1)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else StoredDocument(*row[:5], body=bytes(row[5]))

    def history(
        self, tenant: str, kind: str, key: str, *, limit: int = 50
    ) -> list[DocumentVersion]:
        """Newest first."""
        query = (
            select(
                documents.c.version,
                documents.c.time,
                documents.c.actor,
                documents.c.action,
                documents.c.summary,
            )
            .where(documents.c.tenant == tenant, documents.c.kind == kind, documents.c.key == key)
            .order_by(documents.c.version.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [DocumentVersion(*row) for row in connection.execute(query)]

    def save(
        self,
        tenant: str,
        kind: str,
        key: str,
        version: int,
        body: bytes,
        *,
        time: float,
        actor: str,
        action: str,
        summary: str,
        audit: bool = True,
    ) -> bool:
        """Write ``version`` (1 for a new document); False when that version is taken
        (someone else saved first). With ``audit`` the action is in the audit log."""
        row = {
            "tenant": tenant,
            "kind": kind,
            "key": key,
            "version": version,
            "time": time,
            "actor": actor,
            "action": action,
            "summary": summary,
            "body": body,
        }
        rows = [(tenant, time, actor, action, f"{kind}/{key}: {summary}")] if audit else []
        try:
            return bool(self.writer.submit(_SaveVersion(row, rows)).result())
        except StoreError:
            # Another process inserted the same version between our check and insert
            # (PostgreSQL's primary key refused it): that is "taken", not a failure.
            newest = self.latest(tenant, kind, key)
            if newest is not None and newest.version >= version:
                return False
            raise


__all__ = ["DocumentRepository", "DocumentVersion", "StoredDocument"]
