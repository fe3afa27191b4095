"""The keyed operator engine: the operator contract and the runtimes that run it."""

from vigil.engine.bus import LiveBus, Subscription
from vigil.engine.embedded import EmbeddedRuntime, OutputSink, OutputsLost
from vigil.engine.keyed import Emitted, KeyedRunner, KeyState
from vigil.engine.operator import Emission, KeyedOperator, LatePolicy, Output
from vigil.store.projection_rows import (
    ConditionEvent,
    ConditionRow,
    HistoryBucket,
    LatestValue,
    Projection,
    projection_key,
)

__all__ = [
    "ConditionEvent",
    "ConditionRow",
    "EmbeddedRuntime",
    "Emission",
    "Emitted",
    "HistoryBucket",
    "KeyState",
    "KeyedOperator",
    "KeyedRunner",
    "LatePolicy",
    "LatestValue",
    "LiveBus",
    "Output",
    "OutputSink",
    "OutputsLost",
    "Projection",
    "Subscription",
    "projection_key",
]
