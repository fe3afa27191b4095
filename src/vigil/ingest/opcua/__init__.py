"""OPC UA: Vigil subscribes to servers' nodes and feeds their changes to the one ingest path.

``mapping`` (pure: data changes to readings and device presence) and ``client``
(the asyncua client at the edge: subscriptions, reconnection, writing).
"""

from vigil.ingest.opcua.client import OpcUaSource, opcua_service
from vigil.ingest.opcua.mapping import Change, NodeMap, NotNumeric, event_time, numeric

__all__ = [
    "Change",
    "NodeMap",
    "NotNumeric",
    "OpcUaSource",
    "event_time",
    "numeric",
    "opcua_service",
]
