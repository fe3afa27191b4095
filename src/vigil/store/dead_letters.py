"""Rejected input, for the people who have to find out why a device is not heard."""

from __future__ import annotations

import msgspec
from sqlalchemy import Engine, func, select

from vigil.store.schema import dead_letters


class DeadLetterRecord(msgspec.Struct, frozen=True):
    id: int
    tenant: str | None
    received: float
    transport: str
    source: str | None
    reason: str
    detail: str
    device: str | None
    raw: str
    """The start of the payload as text (invalid UTF-8 shown escaped)."""


class DeadLetterRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def recent(self, tenant: str, *, limit: int = 200) -> list[DeadLetterRecord]:
        query = (
            select(dead_letters)
            .where(dead_letters.c.tenant == tenant)
            .order_by(dead_letters.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [
            DeadLetterRecord(
                id=row["id"],
                tenant=row["tenant"],
                received=row["received"],
                transport=row["transport"],
                source=row["source"],
                reason=row["reason"],
                detail=row["detail"],
                device=row["device"],
                raw=(row["raw"] or b"")[:2000].decode("utf-8", errors="backslashreplace"),
            )
            for row in rows
        ]

    def counts(self, tenant: str) -> dict[str, int]:
        query = (
            select(dead_letters.c.reason, func.count())
            .where(dead_letters.c.tenant == tenant)
            .group_by(dead_letters.c.reason)
        )
        with self.engine.connect() as connection:
            return {reason: count for reason, count in connection.execute(query)}

    def count_unattributed(self) -> int:
        """Rejections whose sender could not be tied to a tenant (for administrators)."""
        query = (
            select(func.count()).select_from(dead_letters).where(dead_letters.c.tenant.is_(None))
        )
        with self.engine.connect() as connection:
            return connection.execute(query).scalar_one()
