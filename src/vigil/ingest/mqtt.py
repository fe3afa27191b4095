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
from collections import deque
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
from vigil.ingest.validation import Reason

log = logging.getLogger(__name__)

SESSION_EXPIRY_SECONDS = 7 * 86400
STORE_RETRY_MAX_SECONDS = 5.0


def paho_client(settings: MqttSettings, client_id: str) -> paho.Client:
    """An MQTT 5 client that acknowledges a message only when told to (once what it
    carried is committed or dead-lettered) and reconnects by itself."""
    client = paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=paho.MQTTv5,
        manual_ack=True,
        reconnect_on_failure=True,
    )
    if settings.username:
        client.username_pw_set(settings.username, settings.password)
    client.max_inflight_messages_set(100)
    return client


class MqttSubscriber:
    def __init__(self, settings: MqttSettings, ingestor: Ingestor) -> None:
        self.settings = settings
        self.ingestor = ingestor
        self.connected = asyncio.Event()
        self.messages = 0
        self.acknowledged = 0

    def _client(self, loop: asyncio.AbstractEventLoop, inbox: asyncio.Queue[Any]) -> paho.Client:
        client = paho_client(self.settings, self.settings.client_id)

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
        try:
            await self.dispatch(client, inbox)
        finally:
            client.disconnect()
            client.loop_stop()

    async def dispatch(self, client: Any, inbox: asyncio.Queue[Any]) -> None:
        """Handle messages from ``inbox`` until cancelled, ``concurrency`` at a time.

        Acknowledgements go out in the order the messages arrived (MQTT 5, 4.6:
        PUBACKs in the order of the PUBLISH packets), each once its message and
        every earlier one are durable: a message that finishes early waits for
        the ones before it.
        """
        pending: set[asyncio.Task[None]] = set()
        slots = asyncio.Semaphore(self.settings.concurrency)
        order: deque[_InFlight] = deque()

        def finished(task: asyncio.Task[None]) -> None:
            pending.discard(task)
            slots.release()

        try:
            while True:
                message = await inbox.get()
                await slots.acquire()
                entry = _InFlight(message)
                order.append(entry)
                # Started in arrival order: validation runs before the first await,
                # so one device's messages are checked in the order it sent them.
                task = asyncio.create_task(self._handle_and_ack(client, entry, order))
                pending.add(task)
                task.add_done_callback(finished)
        finally:
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    async def _handle_and_ack(self, client: Any, entry: _InFlight, order: deque[_InFlight]) -> None:
        await self._handle(client, entry.message)
        entry.done = True
        while order and order[0].done:
            message = order.popleft().message
            if message.qos > 0:
                client.ack(message.mid, message.qos)
            self.acknowledged += 1

    async def _handle(self, client: Any, message: paho.MQTTMessage) -> None:
        """Ingest one message until it is durable: accepted, or dead-lettered with a
        reason. Returns only then, so that every message can be acknowledged."""
        self.messages += 1
        failures = 0
        while True:
            try:
                await self._ingest(client, message)
                return
            except StoreError:
                failures += 1
                log.exception(
                    "could not store MQTT message on %s (attempt %d)", message.topic, failures
                )
            except Exception as err:  # a bug must not wedge the session: keep the bytes
                log.exception("unexpected error ingesting MQTT message on %s", message.topic)
                if await self._dead_letter(message, Reason.INTERNAL_ERROR, repr(err)):
                    return
                failures += 1
            if failures == 2:
                # Failed twice: if the store takes a dead letter, the message is what it
                # cannot hold; keep it with its reason and go on.
                detail = "the store refused this message's events; see the server log"
                if await self._dead_letter(message, Reason.STORE_REJECTED, detail):
                    return
            # The store is down: nothing can progress, try again (this holds the window).
            await asyncio.sleep(min(0.1 * 2**failures, STORE_RETRY_MAX_SECONDS))

    async def _dead_letter(self, message: paho.MQTTMessage, reason: Reason, detail: str) -> bool:
        address = parse_topic(self.settings.topic_prefix, message.topic)
        try:
            await self.ingestor.record_rejection(
                IngestError(reason, detail),
                tenant=None if address is None else address.tenant,
                transport="mqtt",
                source=message.topic,
                body=message.payload,
            )
        except Exception:
            log.exception("could not dead-letter MQTT message on %s", message.topic)
            return False
        return True

    async def _ingest(self, client: Any, message: paho.MQTTMessage) -> None:
        prefix = self.settings.topic_prefix
        address = parse_topic(prefix, message.topic)
        try:
            if address is None:
                await self.ingestor.record_rejection(
                    IngestError(
                        Reason.WRONG_TOPIC, f"topic {message.topic!r} is not in the layout"
                    ),
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


class _InFlight:
    __slots__ = ("done", "message")

    def __init__(self, message: paho.MQTTMessage) -> None:
        self.message = message
        self.done = False


def mqtt_service(settings: MqttSettings) -> Any:
    """A background service for ``create_app`` that runs the subscriber."""

    async def mqtt_ingest(platform: Any) -> None:
        await MqttSubscriber(settings, platform.ingestor).run()

    return mqtt_ingest
