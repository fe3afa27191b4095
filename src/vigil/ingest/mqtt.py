"""MQTT ingest: subscribe at QoS 1 and acknowledge each message only once it is durable.

The session is persistent (MQTT 5, with a session expiry) and acknowledgements
are manual, so a message whose events were not yet committed when the process
died is delivered again by the broker; the per-device sequence makes that
re-delivery harmless.
Topic authorisation (who may publish under which tenant) is the broker's job:
see docs/ingest.md for the Mosquitto ACL that goes with this layout.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from vigil.config import MqttSettings
from vigil.errors import IngestError, StoreError
from vigil.events import encode_json
from vigil.ingest.service import Ingestor
from vigil.ingest.topics import parse_topic, subscriptions

log = logging.getLogger(__name__)

SESSION_EXPIRY_SECONDS = 7 * 86400


class MqttSubscriber:
    def __init__(self, settings: MqttSettings, ingestor: Ingestor) -> None:
        self.settings = settings
        self.ingestor = ingestor
        self.connected = asyncio.Event()
        self.messages = 0

    def _client(self, loop: asyncio.AbstractEventLoop, inbox: asyncio.Queue[Any]) -> paho.Client:
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.settings.client_id,
            protocol=paho.MQTTv5,
            manual_ack=True,
            reconnect_on_failure=True,
        )
        if self.settings.username:
            client.username_pw_set(self.settings.username, self.settings.password)
        client.max_inflight_messages_set(100)

        def on_connect(client: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            if reason.is_failure:
                log.error("MQTT connection refused: %s", reason)
                return
            client.subscribe([(topic, 1) for topic in subscriptions(self.settings.topic_prefix)])
            loop.call_soon_threadsafe(self.connected.set)

        def on_disconnect(*_args: Any) -> None:
            loop.call_soon_threadsafe(self.connected.clear)

        def on_message(_c: paho.Client, _u: Any, message: paho.MQTTMessage) -> None:
            loop.call_soon_threadsafe(inbox.put_nowait, message)

        client.on_connect = on_connect
        client.on_disconnect = on_disconnect
        client.on_message = on_message
        return client

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[paho.MQTTMessage] = asyncio.Queue()
        client = self._client(loop, inbox)
        # MQTT 5: a session that outlives disconnects (unacknowledged messages come
        # again), and a receive maximum above Mosquitto's default of 20 messages in
        # flight, so that group commit has enough batches to gather.
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY_SECONDS
        properties.ReceiveMaximum = self.settings.receive_maximum
        client.connect_async(
            self.settings.host,
            self.settings.port,
            keepalive=30,
            clean_start=False,
            properties=properties,
        )
        client.loop_start()
        pending: set[asyncio.Task[None]] = set()
        slots = asyncio.Semaphore(self.settings.concurrency)

        def finished(task: asyncio.Task[None]) -> None:
            pending.discard(task)
            slots.release()

        try:
            while True:
                message = await inbox.get()
                await slots.acquire()
                # Started in arrival order: validation runs before the first await,
                # so one device's messages are checked in the order it sent them.
                task = asyncio.create_task(self._handle(client, message))
                pending.add(task)
                task.add_done_callback(finished)
        finally:
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            client.disconnect()
            client.loop_stop()

    async def _handle(self, client: paho.Client, message: paho.MQTTMessage) -> None:
        self.messages += 1
        prefix = self.settings.topic_prefix
        address = parse_topic(prefix, message.topic)
        try:
            if address is None:
                await self.ingestor.record_rejection(
                    IngestError("wrong_topic", f"topic {message.topic!r} is not in the layout"),
                    tenant=None,
                    transport="mqtt",
                    source=message.topic,
                    body=message.payload,
                )
            else:
                result = await self.ingestor.ingest(
                    message.payload,
                    tenant=address.tenant,
                    transport="mqtt",
                    source=message.topic,
                    expected_device=address.sender if address.kind == "devices" else None,
                )
                if result.rejected:
                    client.publish(address.reply_topic(prefix), encode_json(result), qos=0)
        except IngestError as err:
            if address is not None:
                body = encode_json({"reason": err.reason, "detail": err.detail})
                client.publish(address.reply_topic(prefix), body, qos=0)
        except StoreError:
            # Not durable: leave it unacknowledged. The broker keeps it in the session
            # and delivers it again when the session resumes (the next connection).
            log.exception("could not store MQTT message on %s; left unacknowledged", message.topic)
            return
        if message.qos > 0:
            client.ack(message.mid, message.qos)


def mqtt_service(settings: MqttSettings) -> Any:
    """A background service for ``create_app`` that runs the subscriber."""

    async def mqtt_ingest(platform: Any) -> None:
        await MqttSubscriber(settings, platform.ingestor).run()

    return mqtt_ingest
