"""Fuzzed bad input over MQTT, through the real Mosquitto to Vigil's MQTT ingest as
``vigil serve`` runs it (issue 7).

The same derandomized Hypothesis draws as the HTTP fuzz (``tests/fuzzing.py``), each
published at QoS 1 on a topic prefix of this test's own and followed by a good
message (MQTT payloads are JSON: each MessagePack one ends as exactly one dead
letter). Every message must end acknowledged, with exactly the events it deserves
accepted and the dead letters it deserves kept under its topic; good messages keep
flowing; at the end the subscriber is still connected and the runtime is healthy
and has processed the whole log.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as paho
import pytest
from hypothesis import given
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from tests.conftest import small_catalog
from tests.fuzzing import (
    EXPLICIT,
    BatchPlan,
    Case,
    Plan,
    Sender,
    fuzz_settings,
    plans,
    seeded,
    serve,
    with_explicit_plans,
)
from vigil.ingest.mqtt import MqttSubscriber
from vigil.ingest.topics import device_topic, gateway_topic
from vigil.platform import Platform
from vigil.store.schema import dead_letters

pytestmark = pytest.mark.integration

EXAMPLES = 200
DEVICE = "north.home-2.temperature"


def _until(condition: Callable[[], bool], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.002)


@dataclass
class Mqtt:
    prefix: str
    platform: Platform
    subscriber: MqttSubscriber
    client: paho.Client
    base_url: str
    sender: Sender = field(default_factory=lambda: Sender((DEVICE,)))
    published: int = 0

    def publish(self, topic: str, payload: bytes) -> None:
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(10)
        assert info.is_published(), topic
        self.published += 1

    def dead_letters(self, topic: str) -> int:
        query = select(func.count()).select_from(dead_letters).where(dead_letters.c.source == topic)
        with self.platform.engine.connect() as connection:
            return connection.execute(query).scalar_one()

    def accepted(self) -> int:
        return self.platform.ingestor.counters.accepted["mqtt"]

    def all_acknowledged(self) -> None:
        _until(lambda: self.subscriber.acknowledged >= self.published, "acknowledgements")


@pytest.fixture
def mqtt(tmp_path: Path, mqtt_prefix: str) -> Iterator[Mqtt]:
    platform = Platform(fuzz_settings(tmp_path))
    platform.apply_catalog(small_catalog())
    settings = platform.settings.mqtt.model_copy(
        update={"enabled": True, "topic_prefix": mqtt_prefix, "client_id": f"{mqtt_prefix}-in"}
    )
    subscriber = MqttSubscriber(settings, platform.ingestor)

    async def mqtt_ingest(_platform: Any) -> None:  # mqtt_service, keeping the subscriber
        await subscriber.run()

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"{mqtt_prefix}-pub")
    with serve(platform, services=[mqtt_ingest]) as url:
        client.connect("127.0.0.1", 1883)
        client.loop_start()
        try:
            fuzz = Mqtt(mqtt_prefix, platform, subscriber, client, url)
            _until(subscriber.connected.is_set, "the subscriber to connect")
            # The subscription is in place once a first message (re-sent until seen) is.
            warm_up = gateway_topic(mqtt_prefix, "north", "warm-up")
            deadline = time.monotonic() + 15
            while subscriber.messages == 0:
                assert time.monotonic() < deadline, "the subscriber never received anything"
                fuzz.publish(warm_up, b"{}")
                time.sleep(0.1)
            _until(lambda: subscriber.acknowledged >= subscriber.messages, "the warm-up")
            fuzz.published = subscriber.messages
            yield fuzz
        finally:
            client.loop_stop()
            client.disconnect()
            purge = paho.Client(CallbackAPIVersion.VERSION2, client_id=settings.client_id)
            purge.connect("127.0.0.1", 1883)  # clean session: drop the persistent one
            purge.disconnect()


def check(mqtt: Mqtt, case: Case, topic: str) -> None:
    """One message is acknowledged with exactly the events and dead letters it deserves."""
    dead_before, accepted_before = mqtt.dead_letters(topic), mqtt.accepted()
    mqtt.publish(topic, case.body)
    mqtt.all_acknowledged()
    accepted = mqtt.accepted() - accepted_before
    dead = mqtt.dead_letters(topic) - dead_before
    if case.or_empty and (accepted, dead) == (0, 0):
        return
    if case.format == "msgpack":  # MQTT payloads are JSON: any other bytes are malformed
        assert (accepted, dead) == (0, 1), (case.what, topic)
        return
    assert (accepted, dead) == (case.accepted, case.dead_letters), (case.what, topic)
    mqtt.sender.accepted.extend(case.accepted_events)


def test_fuzzed_messages_over_mqtt_are_acknowledged_and_kept(mqtt: Mqtt) -> None:
    """200 drawn messages and the explicit ones, each followed by a good one, on device
    and gateway topics: every one acknowledged, every rejection dead-lettered under its
    topic, every good event in the log; the subscriber stays connected and the runtime
    catches up."""
    examples: list[str] = []
    prefix = mqtt.prefix

    @seeded(EXAMPLES)
    @with_explicit_plans
    @given(plan=plans())
    def one(plan: Plan) -> None:
        case = mqtt.sender.case(plan)
        n = len(examples)
        examples.append(case.what)
        # A device's own topic (events naming another device are ``wrong_topic``) or a
        # gateway's, a new one each time.
        if n % 3 == 0:
            topic = device_topic(prefix, "north", DEVICE)
        else:
            topic = gateway_topic(prefix, "north", f"gw-{n}")
        check(mqtt, case, topic)
        good = mqtt.sender.case(BatchPlan("json", ("good",)))
        check(mqtt, good, gateway_topic(prefix, "north", "good"))

    start = time.monotonic()
    one()
    elapsed = time.monotonic() - start
    assert len(examples) == EXAMPLES + len(EXPLICIT)
    assert mqtt.subscriber.connected.is_set()
    assert mqtt.subscriber.acknowledged == mqtt.subscriber.messages == mqtt.published
    assert mqtt.platform.log.count("north") == len(mqtt.sender.accepted)
    reasons = mqtt.platform.dead_letters.counts("north")
    assert "internal_error" not in reasons and "store_rejected" not in reasons, reasons
    with httpx.Client(base_url=mqtt.base_url, timeout=10) as client:
        health = client.get("/healthz")
        assert health.status_code == 200, health.text
        log_offset = health.json()["log_offset"]
        _until(lambda: client.get("/healthz").json()["processed_offset"] >= log_offset, "catch-up")
        assert client.get("/healthz").json()["status"] == "ok"
    print(f"fuzz over MQTT: {len(examples)} messages (+ as many good) in {elapsed:.1f} s")


def test_a_burst_of_poison_messages_does_not_stop_mqtt_ingest(mqtt: Mqtt) -> None:
    """250 copies of the 38-byte body that used to fill the receive window (issue 7,
    item 1), published at once, then a good message: all are acknowledged, each poison
    copy is one ``malformed`` dead letter, and the good event lands."""
    poison = b'{"v":1,"events":[{"type":"nope"} x]}'
    before = mqtt.platform.dead_letters.counts("north")
    topic = gateway_topic(mqtt.prefix, "north", "poison")
    infos = [mqtt.client.publish(topic, poison, qos=1) for _ in range(250)]
    good = mqtt.sender.case(BatchPlan("json", ("good",)))
    infos.append(mqtt.client.publish(gateway_topic(mqtt.prefix, "north", "good"), good.body, qos=1))
    for info in infos:
        info.wait_for_publish(10)
        assert info.is_published()
    mqtt.published += len(infos)
    mqtt.all_acknowledged()
    assert mqtt.dead_letters(topic) == 250
    assert mqtt.platform.dead_letters.counts("north") == {**before, "malformed": 250}
    _until(lambda: mqtt.platform.log.count("north") == 1, "the good event")
