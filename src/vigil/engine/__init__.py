"""The keyed operator engine: the operator contract and the runtimes that run it."""

from vigil.engine.bus import LiveBus, Subscription
from vigil.engine.embedded import EmbeddedRuntime, OutputsLost
from vigil.engine.keyed import Emitted, KeyedRunner, KeyState
from vigil.engine.operator import Emission, KeyedOperator, LatePolicy, Output
from vigil.engine.projection_rows import (
    ConditionEvent,
    ConditionRow,
    HistoryBucket,
    LatestValue,
    Projection,
    projection_key,
)
from vigil.engine.records import Accepted, Checkpoint, FindingRow, LogRecord
from vigil.engine.seams import (
    CheckpointBatch,
    CheckpointStore,
    LogAppender,
    LogSource,
    OutputSink,
    Runtime,
)

__all__ = [
    "Accepted",
    "Checkpoint",
    "CheckpointBatch",
    "CheckpointStore",
    "ConditionEvent",
    "ConditionRow",
    "EmbeddedRuntime",
    "Emission",
    "Emitted",
    "FindingRow",
    "HistoryBucket",
    "KeyState",
    "KeyedOperator",
    "KeyedRunner",
    "LatePolicy",
    "LatestValue",
    "LiveBus",
    "LogAppender",
    "LogRecord",
    "LogSource",
    "Output",
    "OutputSink",
    "OutputsLost",
    "Projection",
    "Runtime",
    "Subscription",
    "projection_key",
]
