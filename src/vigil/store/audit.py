"""Who read or changed what: every read of personal data leaves a row here."""

from __future__ import annotations

import msgspec
from sqlalchemy import Engine, select

from vigil.store.schema import audit_log


class AuditEntry(msgspec.Struct, frozen=True):
    time: float
    actor: str
    action: str
    target: str


class AuditRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, tenant: str, *, actor: str, action: str, target: str, now: float) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                audit_log.insert().values(
                    tenant=tenant, time=now, actor=actor, action=action, target=target
                )
            )

    def recent(self, tenant: str, *, limit: int = 200) -> list[AuditEntry]:
        query = (
            select(audit_log.c.time, audit_log.c.actor, audit_log.c.action, audit_log.c.target)
            .where(audit_log.c.tenant == tenant)
            .order_by(audit_log.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [AuditEntry(*row) for row in connection.execute(query)]
