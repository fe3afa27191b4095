"""Transports and the one ingest path behind them: decode, validate, write, acknowledge."""

from vigil.ingest.directory import DeviceDirectory, SequenceTracker
from vigil.ingest.mqtt import MqttSubscriber, mqtt_service
from vigil.ingest.service import IngestCounters, Ingestor, IngestResult
from vigil.ingest.topics import TopicAddress, parse_topic, subscriptions
from vigil.ingest.validation import Reason, Rejection, TimeWindow, check_event, check_sequence

__all__ = [
    "DeviceDirectory",
    "IngestCounters",
    "IngestResult",
    "Ingestor",
    "MqttSubscriber",
    "Reason",
    "Rejection",
    "SequenceTracker",
    "TimeWindow",
    "TopicAddress",
    "check_event",
    "check_sequence",
    "mqtt_service",
    "parse_topic",
    "subscriptions",
]
