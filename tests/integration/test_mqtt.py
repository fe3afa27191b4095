"""MQTT ingest against the real Mosquitto: events land and reach the operators, bad
input is dead-lettered and answered on the reply topic, re-sends are harmless."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import msgspec
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.conftest import batch_json, reading
from vigil.config import Settings
from vigil.events import encode_json
from vigil.ingest.mqtt import MqttSubscriber
from vigil.ingest.topics import device_topic, gateway_topic
from vigil.platform import Platform

pytestmark = pytest.mark.integration

DEVICE = "north.home-1.temperature"


@dataclass
class Broker:
    """A publisher and a listener on the reply topics, both real clients of Mosquitto."""

    prefix: str
    platform: Platform
    client: paho.Client
    replies: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def publish(self, topic: str, payload: bytes) -> None:
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(5)
        assert info.is_published()

    def device(self, device: str = DEVICE, tenant: str = "north") -> str:
        return device_topic(self.prefix, tenant, device)

    async def until(self, condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"timed out waiting for {what}")

    def replies_on(self, topic_end: str) -> list[dict[str, object]]:
        with self.lock:
            return [body for topic, body in self.replies if topic.endswith(topic_end)]


def _client(client_id: str) -> paho.Client:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    return client


@pytest.fixture
async def broker(platform: Platform, settings: Settings, mqtt_prefix: str) -> AsyncIterator[Broker]:
    mqtt = settings.mqtt.model_copy(
        update={"enabled": True, "topic_prefix": mqtt_prefix, "client_id": f"{mqtt_prefix}-in"}
    )
    subscriber = MqttSubscriber(mqtt, platform.ingestor)
    task = asyncio.create_task(subscriber.run())
    client = _client(f"{mqtt_prefix}-pub")
    broker = Broker(mqtt_prefix, platform, client)

    def on_message(_c: object, _u: object, message: paho.MQTTMessage) -> None:
        with broker.lock:
            broker.replies.append((message.topic, msgspec.json.decode(message.payload)))

    client.on_message = on_message
    client.subscribe(f"{mqtt_prefix}/v1/+/+/+/rejected", qos=1)
    try:
        await asyncio.wait_for(subscriber.connected.wait(), 10)
        # The subscription is in place once a first event (re-sent until seen) lands.
        warm_up = encode_json(reading("north.home-2.temperature", seq=1))
        deadline = time.monotonic() + 10
        while platform.log.count("north") == 0:
            assert time.monotonic() < deadline, "the subscriber never received anything"
            broker.publish(broker.device("north.home-2.temperature"), warm_up)
            await asyncio.sleep(0.1)
        await broker.until(lambda: subscriber.messages >= 1, "the warm-up")
        await asyncio.to_thread(platform.wait_until_processed)
        with broker.lock:
            broker.replies.clear()
        yield broker
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        client.loop_stop()
        client.disconnect()
        purge = paho.Client(CallbackAPIVersion.VERSION2, client_id=mqtt.client_id)
        purge.connect("127.0.0.1", 1883)  # clean session: drop the persistent one
        purge.disconnect()


async def test_device_and_gateway_events_reach_log_and_operators(broker: Broker) -> None:
    """Events on a device topic and a gateway batch are logged and processed."""
    platform = broker.platform
    before = platform.log.count("north")
    broker.publish(broker.device(), encode_json(reading(seq=1, value=22.25)))
    gateway = gateway_topic(broker.prefix, "north", "hub-1")
    broker.publish(
        gateway,
        batch_json(
            reading("north.home-1.kitchen-motion", seq=1, metric="motion", value=1),
            reading("north.home-2.kitchen-motion", seq=1, metric="motion", value=0),
        ),
    )
    await broker.until(lambda: platform.log.count("north") == before + 3, "three events")
    assert await asyncio.to_thread(platform.wait_until_processed)
    latest = {
        (v.device, v.metric): v.value for v in platform.projections.latest("north", "north.home-1")
    }
    assert latest[(DEVICE, "temperature")] == 22.25
    assert latest[("north.home-1.kitchen-motion", "motion")] == 1.0
    assert platform.runtime.runner("device_health").state_of("north", DEVICE) is not None
    assert broker.replies == []


async def test_malformed_payload_is_dead_lettered_and_answered(broker: Broker) -> None:
    """A payload that is not JSON: dead letter ``malformed`` and a reply on ``rejected``."""
    broker.publish(broker.device(), b"{not json at all")
    await broker.until(lambda: broker.replies_on(f"{DEVICE}/rejected"), "the reply")
    [reply] = broker.replies_on(f"{DEVICE}/rejected")
    assert reply["reason"] == "malformed"
    assert broker.platform.dead_letters.counts("north").get("malformed") == 1
    [letter] = [d for d in broker.platform.dead_letters.recent("north") if d.reason == "malformed"]
    assert (letter.transport, letter.source) == ("mqtt", broker.device())


async def test_event_of_another_device_on_a_device_topic_is_wrong_topic(broker: Broker) -> None:
    """A device topic carries only that device's events; others are ``wrong_topic``."""
    platform = broker.platform
    before = platform.log.count("north")
    other = reading("north.home-1.kitchen-motion", seq=1, metric="motion", value=1)
    broker.publish(broker.device(), encode_json(other))
    await broker.until(lambda: broker.replies_on(f"{DEVICE}/rejected"), "the reply")
    [reply] = broker.replies_on(f"{DEVICE}/rejected")
    assert [r["reason"] for r in reply["rejected"]] == ["wrong_topic"]  # type: ignore[union-attr]
    assert platform.dead_letters.counts("north").get("wrong_topic") == 1
    assert platform.log.count("north") == before


async def test_topic_outside_the_layout_is_unattributed(broker: Broker) -> None:
    """A message matching the subscription but not the layout (empty tenant level) is kept
    as a dead letter with no tenant."""
    platform = broker.platform
    before = platform.dead_letters.count_unattributed()
    broker.publish(f"{broker.prefix}/v1//devices/{DEVICE}/events", encode_json(reading(seq=1)))
    await broker.until(
        lambda: platform.dead_letters.count_unattributed() == before + 1, "the dead letter"
    )
    assert platform.log.count("north") == 1  # only the warm-up


async def test_republished_message_is_a_duplicate(broker: Broker) -> None:
    """Publishing the same event twice stores it once; the second is a ``duplicate``."""
    platform = broker.platform
    before = platform.log.count("north")
    payload = encode_json(reading(seq=1, value=19.0))
    broker.publish(broker.device(), payload)
    await broker.until(lambda: platform.log.count("north") == before + 1, "the event")
    broker.publish(broker.device(), payload)
    await broker.until(
        lambda: platform.dead_letters.counts("north").get("duplicate", 0) >= 1, "the duplicate"
    )
    assert platform.log.count("north") == before + 1
    await broker.until(lambda: broker.replies_on(f"{DEVICE}/rejected"), "the reply")
    [reply] = broker.replies_on(f"{DEVICE}/rejected")
    assert reply["duplicates"] == 1


async def test_reading_is_visible_within_a_second(broker: Broker) -> None:
    """From publish to the latest-values projection takes under one second."""
    platform = broker.platform
    start = time.monotonic()
    broker.publish(broker.device(), encode_json(reading(seq=7, value=23.75)))

    def arrived() -> bool:
        return any(v.value == 23.75 for v in platform.projections.latest("north", "north.home-1"))

    await broker.until(arrived, "the reading", timeout=5)
    assert time.monotonic() - start < 1.0
