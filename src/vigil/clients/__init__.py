"""Sending events into Vigil the way devices do: over HTTP, over MQTT, or in-process."""

from vigil.clients.direct import DirectSink
from vigil.clients.feed import EventSink, FeedProgress, feed
from vigil.clients.http import HttpSink
from vigil.clients.mqtt import MqttSink

__all__ = ["DirectSink", "EventSink", "FeedProgress", "HttpSink", "MqttSink", "feed"]
