"""The caseload: a council's residents, those who most need the care team first.

Pure: it ranks what pages read from the store (open conditions, each home's latest
day summary) and says in one line why each resident is where they are.

>>> from vigil.catalog import Entity
>>> from vigil.engine.projection_rows import ConditionRow
>>> homes = [Entity(tenant="t", id=f"t.h{i}", kind="home", name=f"Home {i}") for i in (1, 2)]
>>> row = ConditionRow(tenant="t", id="not_up:t.h2~1", key="not_up:t.h2", entity="t.h2",
...     kind="not_up", source="care", severity="warning", route="coordinator",
...     status="open", active=True, message="...", opened=0.0, updated=0.0,
...     evidence={"reason": "not up, 1 h 10 min after the usual 08:10"})
>>> [(c.entity, c.reason) for c in rank(homes, [row], {})]
[('t.h2', 'not up, 1 h 10 min after the usual 08:10'), ('t.h1', 'no concerns')]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from vigil.care.monitor import CONDITION_KINDS
from vigil.catalog import Entity
from vigil.engine.projection_rows import ConditionRow

_WEIGHT = {"critical": 100, "warning": 10, "info": 1}


@dataclass(frozen=True)
class CaseloadRow:
    entity: str
    name: str
    resident: str
    concern: int
    """Higher is more urgent: critical alerts outweigh any number of warnings."""
    severity: str | None
    reason: str
    alerts: list[ConditionRow] = field(default_factory=list)
    summary: str = ""
    """The latest day's indicators ("up 07:42; 1 night bathroom visit; ...")."""


def rank(
    homes: Sequence[Entity],
    conditions: Sequence[ConditionRow],
    summaries: Mapping[str, str],
) -> list[CaseloadRow]:
    """Homes ordered by concern (then by the oldest open alert, then by name)."""
    by_home: dict[str, list[ConditionRow]] = {}
    for row in conditions:
        if row.kind in CONDITION_KINDS and row.status in ("open", "acknowledged"):
            by_home.setdefault(row.entity, []).append(row)
    rows = []
    for home in homes:
        alerts = sorted(
            by_home.get(home.id, []), key=lambda r: (-_WEIGHT.get(r.severity, 0), r.opened)
        )
        concern = sum(_WEIGHT.get(r.severity, 0) + 5 * r.escalations for r in alerts)
        reasons = [str(r.evidence.get("reason") or r.message) for r in alerts]
        rows.append(
            CaseloadRow(
                entity=home.id,
                name=home.name,
                resident=str(home.attributes.get("resident") or ""),
                concern=concern,
                severity=alerts[0].severity if alerts else None,
                reason="; ".join(reasons) if reasons else "no concerns",
                alerts=alerts,
                summary=summaries.get(home.id, ""),
            )
        )
    oldest = {r.entity: min((a.opened for a in r.alerts), default=float("inf")) for r in rows}
    rows.sort(key=lambda r: (-r.concern, oldest[r.entity], r.name))
    return rows
