"""The rows operators keep in the store for pages to read.

Pages never read an operator's memory: they read these tables, written in the
same transaction as the operators' checkpoints, so that they are right whether
the operators run in this process or in others. Each row replaces the row with
the same key, so a replay that writes it again changes nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeAlias

import msgspec


class LatestValue(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The newest value of one sensor (entity, device, metric).

    It is also the live ``reading`` update that pages watching the entity receive:
    the runtime publishes each row as it goes into the projection, with the same
    face as an ``Output`` (``kind``, ``durable``, ``data``, ``message``). A second
    object per reading just to announce it had cost about a quarter of the
    runtime's time per reading."""

    tenant: str
    entity: str
    device: str
    metric: str
    value: float | None
    text: str | None
    time: float
    unit: str | None = None

    kind: ClassVar[str] = "reading"
    durable: ClassVar[bool] = False
    message: ClassVar[str] = ""

    @property
    def data(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "metric": self.metric,
            "value": self.text if self.text is not None else self.value,
            "unit": self.unit,
        }


class HistoryBucket(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """count/min/max/sum of one numeric sensor over ``[start, start + resolution)``."""

    tenant: str
    entity: str
    device: str
    metric: str
    resolution: int
    """Seconds: 60, 900, 3600, 86400."""
    start: float
    count: int
    min: float
    max: float
    sum: float


class ConditionRow(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A condition as the alert queue shows it: its whole current state."""

    tenant: str
    id: str
    """``key~instance``: one situation, from opening to closing."""
    key: str
    entity: str
    kind: str
    source: str
    severity: str
    route: str
    status: str
    """open, acknowledged, closed (cleared by itself) or resolved (by a person)."""
    active: bool
    """Whether the operator that raised it still sees the situation."""
    message: str
    evidence: dict[str, Any]
    opened: float
    updated: float
    acknowledged: float | None = None
    acknowledged_by: str | None = None
    assignee: str | None = None
    escalations: int = 0
    escalate_at: float | None = None
    closed: float | None = None
    outcome: str | None = None


class ConditionEvent(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One line of a condition's history: raised, updated, acknowledged by whom, ..."""

    tenant: str
    condition: str
    number: int
    """Position in the condition's history, from 1."""
    time: float
    what: str
    actor: str | None
    detail: str


Projection: TypeAlias = LatestValue | HistoryBucket | ConditionRow | ConditionEvent
PROJECTION_TYPES = (LatestValue, HistoryBucket, ConditionRow, ConditionEvent)


def projection_key(row: Projection) -> tuple[Any, ...]:
    """The identity a later row of the same thing replaces.

    >>> projection_key(LatestValue(tenant="t", entity="e", device="d", metric="m",
    ...                            value=1.0, text=None, time=0.0))
    ('latest', 't', 'e', 'd', 'm')
    """
    kind = type(row)
    if kind is LatestValue:
        return ("latest", row.tenant, row.entity, row.device, row.metric)  # type: ignore[union-attr]
    if kind is HistoryBucket:
        return (  # type: ignore[union-attr]
            "bucket",
            row.tenant,
            row.entity,
            row.device,
            row.metric,
            row.resolution,
            row.start,
        )
    if kind is ConditionRow:
        return ("condition", row.tenant, row.id)  # type: ignore[union-attr]
    return ("condition_event", row.tenant, row.condition, row.number)  # type: ignore[union-attr]
