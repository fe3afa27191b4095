"""Reading queries for pages and the API: latest values and recent history."""

from __future__ import annotations

import msgspec
from sqlalchemy import Engine, func, select

from vigil.events import Reading, decode_event_json
from vigil.store.schema import entities, event_log, latest_values


class LatestValue(msgspec.Struct, frozen=True):
    device: str
    metric: str
    value: float | None
    text: str | None
    time: float


class HistoryPoint(msgspec.Struct, frozen=True):
    time: float
    device: str
    metric: str
    value: float | str | bool


class ReadingRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def latest(self, tenant: str, entity: str) -> list[LatestValue]:
        query = (
            select(
                latest_values.c.device,
                latest_values.c.metric,
                latest_values.c.value,
                latest_values.c.text,
                latest_values.c.time,
            )
            .where(latest_values.c.tenant == tenant, latest_values.c.entity == entity)
            .order_by(latest_values.c.device, latest_values.c.metric)
        )
        with self.engine.connect() as connection:
            return [LatestValue(*row) for row in connection.execute(query)]

    def last_seen(self, tenant: str) -> dict[str, float]:
        """Per entity of the tenant, the event time of its newest reading."""
        query = (
            select(latest_values.c.entity, func.max(latest_values.c.time))
            .where(latest_values.c.tenant == tenant)
            .group_by(latest_values.c.entity)
        )
        with self.engine.connect() as connection:
            return {entity: time for entity, time in connection.execute(query)}

    def history(
        self, tenant: str, entity: str, *, since: float, limit: int = 2000
    ) -> list[HistoryPoint]:
        """Readings of one entity from ``since`` on, newest last."""
        number = (
            select(entities.c.number)
            .where(entities.c.tenant == tenant, entities.c.id == entity)
            .scalar_subquery()
        )
        query = (
            select(event_log.c.body)
            .where(
                event_log.c.tenant == tenant,
                event_log.c.entity_number == number,
                event_log.c.time >= since,
                event_log.c.type == "reading",
            )
            .order_by(event_log.c.time.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            bodies = connection.execute(query).scalars().all()
        points = []
        for body in reversed(bodies):
            event = decode_event_json(body)
            if isinstance(event, Reading):
                points.append(
                    HistoryPoint(event.timestamp, event.device, event.metric, event.value)
                )
        return points
