"""Projection tables: written with the operators' checkpoints, read by pages and the API.

Nothing a page shows comes from an operator's memory, so pages stay right when the
operators run in another process. Rows replace rows with the same key, so writing
one again during a replay changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from sqlalchemy import Connection, Engine, Table, delete, func, select

from vigil.engine.projection_rows import (
    ConditionEvent,
    ConditionRow,
    HistoryBucket,
    LatestValue,
    Projection,
)
from vigil.store.schema import condition_events, conditions, history_buckets, latest_values
from vigil.store.upsert import upsert, upsert_rows

_TABLES: dict[type[Any], tuple[Table, tuple[str, ...]]] = {
    LatestValue: (latest_values, ("tenant", "entity", "device", "metric")),
    HistoryBucket: (
        history_buckets,
        ("tenant", "entity", "resolution", "device", "metric", "start"),
    ),
    ConditionEvent: (condition_events, ("tenant", "condition", "number")),
}
_FIELDS = {kind: kind.__struct_fields__ for kind in _TABLES}


def write_projections(connection: Connection, rows: Sequence[Projection]) -> None:
    """Upsert each row into its table; ``rows`` holds at most one row per key."""
    by_type: dict[type[Any], list[Projection]] = {}
    for row in rows:
        by_type.setdefault(type(row), []).append(row)
    for kind, group in by_type.items():
        if kind is ConditionRow:
            # JSON and booleans: through the columns' types (conditions are few).
            upsert(
                connection,
                conditions,
                [msgspec.structs.asdict(row) for row in group],
                keys=("tenant", "id"),
                update=tuple(
                    f for f in ConditionRow.__struct_fields__ if f not in ("tenant", "id")
                ),
            )
            continue
        table, keys = _TABLES[kind]
        fields = _FIELDS[kind]
        upsert_rows(
            connection,
            table,
            fields,
            [msgspec.structs.astuple(row) for row in group],
            keys=keys,
            update=tuple(f for f in fields if f not in keys),
        )


class ProjectionRepository:
    """What pages read: latest values and downsampled history."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def latest(self, tenant: str, entity: str) -> list[LatestValue]:
        query = (
            select(latest_values)
            .where(latest_values.c.tenant == tenant, latest_values.c.entity == entity)
            .order_by(latest_values.c.device, latest_values.c.metric)
        )
        with self.engine.connect() as connection:
            return [LatestValue(**row) for row in connection.execute(query).mappings()]

    def last_seen(self, tenant: str, entities: Sequence[str] | None = None) -> dict[str, float]:
        """Per entity, the time of its newest reading (only ``entities``, if given)."""
        query = select(latest_values.c.entity, func.max(latest_values.c.time)).where(
            latest_values.c.tenant == tenant
        )
        if entities is not None:
            query = query.where(latest_values.c.entity.in_(list(entities)))
        query = query.group_by(latest_values.c.entity)
        with self.engine.connect() as connection:
            return {entity: time for entity, time in connection.execute(query).all()}

    def latest_of(
        self, tenant: str, entities: Sequence[str], *, device: str, metrics: Sequence[str]
    ) -> dict[str, dict[str, LatestValue]]:
        """Per entity of ``entities``, its latest value of each of ``metrics`` from
        ``device``: a summary of many entities (a list page) in one query."""
        if not entities or not metrics:
            return {}
        query = select(latest_values).where(
            latest_values.c.tenant == tenant,
            latest_values.c.entity.in_(list(entities)),
            latest_values.c.device == device,
            latest_values.c.metric.in_(list(metrics)),
        )
        found: dict[str, dict[str, LatestValue]] = {}
        with self.engine.connect() as connection:
            for row in connection.execute(query).mappings():
                value = LatestValue(**row)
                found.setdefault(value.entity, {})[value.metric] = value
        return found

    def history(
        self,
        tenant: str,
        entity: str,
        *,
        resolution: int,
        since: float,
        until: float | None = None,
    ) -> list[HistoryBucket]:
        """Closed buckets of one resolution starting in ``[since, until)``, oldest first."""
        query = select(history_buckets).where(
            history_buckets.c.tenant == tenant,
            history_buckets.c.entity == entity,
            history_buckets.c.resolution == resolution,
            history_buckets.c.start >= since,
        )
        if until is not None:
            query = query.where(history_buckets.c.start < until)
        query = query.order_by(
            history_buckets.c.start, history_buckets.c.device, history_buckets.c.metric
        )
        with self.engine.connect() as connection:
            return [HistoryBucket(**row) for row in connection.execute(query).mappings()]

    def prune(self, retention: Mapping[int, float], now: float) -> int:
        """Delete buckets older than their resolution's retention (seconds)."""
        removed = 0
        with self.engine.begin() as connection:
            for resolution, keep in retention.items():
                result = connection.execute(
                    delete(history_buckets).where(
                        history_buckets.c.resolution == resolution,
                        history_buckets.c.start < now - keep,
                    )
                )
                removed += result.rowcount or 0
        return removed


OPEN_STATUSES = ("open", "acknowledged")


class ConditionRepository:
    """The alert queue and each condition's history."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def open(
        self, tenant: str, *, routes: Sequence[str] | None = None, limit: int = 200
    ) -> list[ConditionRow]:
        """Open conditions, most severe and oldest first."""
        query = select(conditions).where(
            conditions.c.tenant == tenant, conditions.c.status.in_(OPEN_STATUSES)
        )
        if routes is not None:
            query = query.where(conditions.c.route.in_(list(routes)))
        query = query.order_by(conditions.c.opened).limit(limit)
        with self.engine.connect() as connection:
            rows = [ConditionRow(**row) for row in connection.execute(query).mappings()]
        order = {"critical": 0, "warning": 1, "info": 2}
        return sorted(rows, key=lambda row: (order.get(row.severity, 3), row.opened))

    def recent_closed(self, tenant: str, *, limit: int = 50) -> list[ConditionRow]:
        query = (
            select(conditions)
            .where(conditions.c.tenant == tenant, conditions.c.status.not_in(OPEN_STATUSES))
            .order_by(conditions.c.closed.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [ConditionRow(**row) for row in connection.execute(query).mappings()]

    def for_entity(self, tenant: str, entity: str, *, limit: int = 50) -> list[ConditionRow]:
        query = (
            select(conditions)
            .where(conditions.c.tenant == tenant, conditions.c.entity == entity)
            .order_by(conditions.c.opened.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [ConditionRow(**row) for row in connection.execute(query).mappings()]

    def get(self, tenant: str, condition: str) -> ConditionRow | None:
        query = select(conditions).where(
            conditions.c.tenant == tenant, conditions.c.id == condition
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else ConditionRow(**row)

    def history(self, tenant: str, condition: str) -> list[ConditionEvent]:
        query = (
            select(condition_events)
            .where(condition_events.c.tenant == tenant, condition_events.c.condition == condition)
            .order_by(condition_events.c.number)
        )
        with self.engine.connect() as connection:
            return [ConditionEvent(**row) for row in connection.execute(query).mappings()]

    def open_counts(self, tenant: str, *, routes: Sequence[str] | None = None) -> Counter[str]:
        """Open conditions per entity."""
        query = select(conditions.c.entity, func.count()).where(
            conditions.c.tenant == tenant, conditions.c.status.in_(OPEN_STATUSES)
        )
        if routes is not None:
            query = query.where(conditions.c.route.in_(list(routes)))
        query = query.group_by(conditions.c.entity)
        with self.engine.connect() as connection:
            return Counter({entity: count for entity, count in connection.execute(query).all()})
