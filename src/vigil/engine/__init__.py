"""The keyed operator engine: the operator contract and the runtimes that run it."""

from vigil.engine.bus import LiveBus, Subscription
from vigil.engine.embedded import EmbeddedRuntime, OutputSink
from vigil.engine.keyed import Emitted, KeyedRunner, KeyState
from vigil.engine.operator import KeyedOperator, LatePolicy, Output

__all__ = [
    "EmbeddedRuntime",
    "Emitted",
    "KeyState",
    "KeyedOperator",
    "KeyedRunner",
    "LatePolicy",
    "LiveBus",
    "Output",
    "OutputSink",
    "Subscription",
]
