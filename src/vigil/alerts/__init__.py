"""One alert model for every domain: conditions, their lifecycle, and who acted on them."""

from vigil.alerts.tracker import (
    ACKNOWLEDGED,
    CLOSED,
    DEFAULT_ESCALATION,
    OPEN,
    OUTCOMES,
    RESOLVED,
    ConditionTracker,
    TrackedCondition,
    condition_key,
)

__all__ = [
    "ACKNOWLEDGED",
    "CLOSED",
    "DEFAULT_ESCALATION",
    "OPEN",
    "OUTCOMES",
    "RESOLVED",
    "ConditionTracker",
    "TrackedCondition",
    "condition_key",
]
