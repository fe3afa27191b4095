"""Sparkplug B over MQTT: a Sparkplug 3.0 host application feeding the one ingest path.

``codec`` (protobuf payloads), ``topics`` (the namespace), ``session`` (the pure
host state machine), ``mapping`` (Sparkplug names to Vigil's) and ``host`` (the
MQTT client at the edge).
"""

from vigil.ingest.sparkplug.codec import DataType, Metric, Payload, decode_payload, encode_payload
from vigil.ingest.sparkplug.host import SparkplugHost, sparkplug_service
from vigil.ingest.sparkplug.mapping import EventMapper, vigil_device
from vigil.ingest.sparkplug.session import EdgeSessions, Outcome, Presence, Problem, Sample
from vigil.ingest.sparkplug.topics import SparkplugTopic, parse_topic, state_topic

__all__ = [
    "DataType",
    "EdgeSessions",
    "EventMapper",
    "Metric",
    "Outcome",
    "Payload",
    "Presence",
    "Problem",
    "Sample",
    "SparkplugHost",
    "SparkplugTopic",
    "decode_payload",
    "encode_payload",
    "parse_topic",
    "sparkplug_service",
    "state_topic",
    "vigil_device",
]
