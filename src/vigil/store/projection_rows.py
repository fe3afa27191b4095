"""Moved to ``vigil.engine.projection_rows``: the rows are the engine's outputs, and the
store only writes them. Kept so that older imports go on working."""

from vigil.engine.projection_rows import (
    PROJECTION_TYPES,
    ConditionEvent,
    ConditionRow,
    HistoryBucket,
    LatestValue,
    Projection,
    projection_key,
)

__all__ = [
    "PROJECTION_TYPES",
    "ConditionEvent",
    "ConditionRow",
    "HistoryBucket",
    "LatestValue",
    "Projection",
    "projection_key",
]
