"""Who read or changed what: every read of personal data leaves a row here."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec
from sqlalchemy import Connection, Engine, select

from vigil.engine.records import Accepted, LogRecord
from vigil.store.event_log import AppendJob, EventLog
from vigil.store.schema import audit_log


def insert_audit(connection: Connection, rows: Sequence[tuple[str, float, str, str, str]]) -> None:
    """Audit rows ``(tenant, time, actor, action, target)`` in the caller's transaction."""
    if rows:
        connection.execute(
            audit_log.insert(),
            [
                {"tenant": t, "time": when, "actor": actor, "action": action, "target": target}
                for t, when, actor, action, target in rows
            ],
        )


class AuditEntry(msgspec.Struct, frozen=True):
    time: float
    actor: str
    action: str
    target: str


class AuditRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def recent(self, tenant: str, *, limit: int = 200) -> list[AuditEntry]:
        query = (
            select(audit_log.c.time, audit_log.c.actor, audit_log.c.action, audit_log.c.target)
            .where(audit_log.c.tenant == tenant)
            .order_by(audit_log.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [AuditEntry(*row) for row in connection.execute(query)]


class AuditedAppend:
    """Platform events appended to the log with the audit rows that record who caused
    them, in one transaction of the writer (a ``WriteJob``): an action on an alert is
    never in the log without its audit row, nor the reverse."""

    def __init__(
        self,
        log: EventLog,
        events: Sequence[Accepted],
        audit: Sequence[tuple[str, float, str, str, str]],
        *,
        on_commit: Callable[[list[LogRecord]], None] | None = None,
    ) -> None:
        self._append = AppendJob(log, events, on_commit=on_commit)
        self.audit = audit

    def write(self, connection: Connection) -> list[LogRecord]:
        records = self._append.write(connection)
        insert_audit(connection, self.audit)
        return records

    def committed(self, result: list[LogRecord]) -> None:
        self._append.committed(result)

    def rolled_back(self) -> None:
        self._append.rolled_back()
