"""Rejected input, for the people who have to find out why a device is not heard.

Dead letters are bounded: at most ``max_per_source`` are kept for each tenant and
source (a token's name, an MQTT topic), at most ``max_per_tenant`` for each tenant,
and none older than ``max_age_seconds``. What retention removes is added to
``dead_letter_counts`` first, so counts by reason still cover all time.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import msgspec
from sqlalchemy import Connection, Engine, and_, delete, func, select

from vigil.store.schema import dead_letter_counts, dead_letters


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
        """Rejections by reason, all time: those kept and those retention removed."""
        kept = (
            select(dead_letters.c.reason, func.count())
            .where(dead_letters.c.tenant == tenant)
            .group_by(dead_letters.c.reason)
        )
        removed = (
            select(dead_letter_counts.c.reason, func.sum(dead_letter_counts.c.count))
            .where(dead_letter_counts.c.tenant == tenant)
            .group_by(dead_letter_counts.c.reason)
        )
        totals: Counter[str] = Counter()
        with self.engine.connect() as connection:
            for query in (kept, removed):
                for reason, count in connection.execute(query):
                    totals[reason] += int(count)
        return dict(totals)

    def stored(self, tenant: str | None) -> int:
        """Dead letters held now for ``tenant`` (None: unattributed)."""
        query = select(func.count()).select_from(dead_letters).where(_tenant_is(tenant))
        with self.engine.connect() as connection:
            return connection.execute(query).scalar_one()

    def count_unattributed(self) -> int:
        """Rejections whose sender could not be tied to a tenant (for administrators)."""
        removed = select(func.coalesce(func.sum(dead_letter_counts.c.count), 0)).where(
            dead_letter_counts.c.tenant == ""
        )
        with self.engine.connect() as connection:
            return self.stored(None) + int(connection.execute(removed).scalar_one())


def _tenant_is(tenant: str | None) -> Any:
    column = dead_letters.c.tenant
    return column.is_(None) if tenant is None else column == tenant


def _source_is(source: str | None) -> Any:
    column = dead_letters.c.source
    return column.is_(None) if source is None else column == source


class PruneDeadLetters:
    """A ``WriteJob``: apply retention, counting what it removes. Run by the writer,
    so it never competes with ingest for the write lock."""

    def __init__(
        self, *, max_per_source: int, max_per_tenant: int, max_age_seconds: float, now: float
    ) -> None:
        self.max_per_source = max_per_source
        self.max_per_tenant = max_per_tenant
        self.max_age_seconds = max_age_seconds
        self.now = now

    def write(self, connection: Connection) -> int:
        removed = 0
        table = dead_letters.c
        over_source = connection.execute(
            select(table.tenant, table.source)
            .group_by(table.tenant, table.source)
            .having(func.count() > self.max_per_source)
        ).all()
        for tenant, source in over_source:
            where = and_(_tenant_is(tenant), _source_is(source))
            removed += self._remove_beyond(connection, where, self.max_per_source)
        over_tenant = connection.execute(
            select(table.tenant).group_by(table.tenant).having(func.count() > self.max_per_tenant)
        ).all()
        for (tenant,) in over_tenant:
            removed += self._remove_beyond(connection, _tenant_is(tenant), self.max_per_tenant)
        removed += self._remove(connection, table.received < self.now - self.max_age_seconds)
        return removed

    def _remove_beyond(self, connection: Connection, where: Any, keep: int) -> int:
        """Remove all but the newest ``keep`` matching ``where``."""
        newest_removed = connection.execute(
            select(dead_letters.c.id)
            .where(where)
            .order_by(dead_letters.c.id.desc())
            .offset(keep)
            .limit(1)
        ).scalar()
        if newest_removed is None:
            return 0
        return self._remove(connection, and_(where, dead_letters.c.id <= newest_removed))

    def _remove(self, connection: Connection, where: Any) -> int:
        table = dead_letters.c
        counts = connection.execute(
            select(table.tenant, table.source, table.reason, func.count())
            .where(where)
            .group_by(table.tenant, table.source, table.reason)
        ).all()
        if not counts:
            return 0
        for tenant, source, reason, count in counts:
            key = and_(
                dead_letter_counts.c.tenant == (tenant or ""),
                dead_letter_counts.c.source == (source or ""),
                dead_letter_counts.c.reason == reason,
            )
            updated = connection.execute(
                dead_letter_counts.update()
                .where(key)
                .values(count=dead_letter_counts.c.count + count)
            ).rowcount
            if not updated:
                connection.execute(
                    dead_letter_counts.insert().values(
                        tenant=tenant or "", source=source or "", reason=reason, count=count
                    )
                )
        return connection.execute(delete(dead_letters).where(where)).rowcount

    def committed(self, result: int) -> None:
        pass

    def rolled_back(self) -> None:
        pass
