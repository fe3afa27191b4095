"""The Sparkplug B host application: Vigil's MQTT client for edge nodes (Sparkplug 3.0).

On connect it subscribes to the groups it serves and to its own STATE topic,
then publishes its birth (``spBv1.0/STATE/{host_id}``, retained, QoS 1,
``{"online": true, "timestamp": ...}``); its MQTT Will is the same message with
``online`` false, so the broker announces the host's death. The session is
clean (Clean Start, no session expiry), as the specification requires of a
host: after a reconnect, edge nodes are asked to rebirth instead.

Each message is decoded and run through the pure ``EdgeSessions`` in arrival
order, then its events and dead letters are committed through the one ingest
service; a QoS 1 message is acknowledged only then, in arrival order. Every
message ends accepted or dead-lettered with a reason.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import msgspec
import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from vigil.config import MqttSettings, SparkplugSettings
from vigil.errors import IngestError, MalformedPayload, StoreError
from vigil.events import Event
from vigil.ingest.mqtt import paho_client
from vigil.ingest.service import Ingestor
from vigil.ingest.sparkplug.codec import DataType, Metric, Payload, decode_payload, encode_payload
from vigil.ingest.sparkplug.mapping import EventMapper
from vigil.ingest.sparkplug.session import REBIRTH, EdgeSessions
from vigil.ingest.sparkplug.topics import (
    NAMESPACE,
    ncmd_topic,
    parse_topic,
    state_topic,
    subscriptions,
)
from vigil.ingest.validation import Reason, Rejection

log = logging.getLogger(__name__)

TRANSPORT = "sparkplug"
STORE_RETRY_MAX_SECONDS = 5.0
TIMER_SECONDS = 0.05


class _Job(msgspec.Struct):
    """What one message amounts to, decided in arrival order before any await."""

    topic: str
    tenant: str | None
    raw: bytes
    events: list[Event] = []
    rejections: list[Rejection] = []


def state_payload(online: bool, timestamp: int) -> bytes:
    """The STATE body (specification 4.2.3.1.2 and 4.2.3.2.2): UTF-8 JSON."""
    return json.dumps({"online": online, "timestamp": timestamp}).encode()


def rebirth_payload(timestamp: int) -> bytes:
    """An NCMD asking for a rebirth: ``Node Control/Rebirth``, a Boolean, true."""
    metric = Metric(name=REBIRTH, timestamp=timestamp, datatype=DataType.BOOLEAN, value=True)
    return encode_payload(Payload(timestamp=timestamp, metrics=[metric]))


def connect_properties() -> Properties:
    """MQTT 5 CONNECT of a host: Session Expiry 0 (with Clean Start, the session is new)."""
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 0
    return properties


class SparkplugHost:
    def __init__(
        self,
        mqtt: MqttSettings,
        settings: SparkplugSettings,
        ingestor: Ingestor,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.mqtt = mqtt
        self.settings = settings
        self.ingestor = ingestor
        self.clock = clock
        self.sessions = EdgeSessions(
            reorder_timeout=settings.reorder_timeout_seconds,
            rebirth_interval=settings.rebirth_interval_seconds,
        )
        self.mapper = EventMapper(ingestor.directory, ingestor.sequences.last)
        self.state_topic = state_topic(settings.host_id)
        self.birth_timestamp = self._millis()
        self.online = asyncio.Event()
        """Set once the STATE birth is published (after the subscriptions)."""
        self.client: paho.Client | None = None
        self._stopping = False
        self.messages = 0
        self.acknowledged = 0
        self.rebirths_requested = 0

    def _millis(self) -> int:
        return int(self.clock() * 1000)

    # -- the MQTT client ----------------------------------------------------------------

    def _client(self, loop: asyncio.AbstractEventLoop, inbox: asyncio.Queue[Any]) -> paho.Client:
        client = paho_client(self.mqtt, self.settings.client_id)
        self._set_will(client)

        def on_connect(client: paho.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            if reason.is_failure:
                log.error("Sparkplug host: connection refused: %s", reason)
                return
            topics = [*subscriptions(self.settings.groups), self.state_topic]
            client.subscribe([(topic, 1) for topic in topics])

        def on_subscribe(client: paho.Client, *_args: Any) -> None:
            # The birth goes out only once the subscriptions are in place.
            self._publish_birth(client)
            loop.call_soon_threadsafe(self.online.set)

        def on_disconnect(client: paho.Client, *_args: Any) -> None:
            if self._stopping:
                return
            loop.call_soon_threadsafe(self.online.clear)
            loop.call_soon_threadsafe(self._lost)
            # The next CONNECT carries a Will of its own time; its birth will match it.
            self.birth_timestamp = self._millis()
            self._set_will(client)

        def on_message(_c: paho.Client, _u: Any, message: paho.MQTTMessage) -> None:
            loop.call_soon_threadsafe(inbox.put_nowait, message)

        client.on_connect = on_connect
        client.on_subscribe = on_subscribe
        client.on_disconnect = on_disconnect
        client.on_message = on_message
        return client

    def _set_will(self, client: paho.Client) -> None:
        death = state_payload(False, self.birth_timestamp)
        client.will_set(self.state_topic, death, qos=1, retain=True)

    def _publish_birth(self, client: Any) -> None:
        birth = state_payload(True, self.birth_timestamp)
        client.publish(self.state_topic, birth, qos=1, retain=True)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[paho.MQTTMessage] = asyncio.Queue()
        self._loop = loop
        self.client = client = self._client(loop, inbox)
        self._pending: set[asyncio.Task[None]] = set()
        client.connect_async(
            self.mqtt.host,
            self.mqtt.port,
            keepalive=30,
            clean_start=True,
            properties=connect_properties(),
        )
        client.loop_start()
        timer = asyncio.create_task(self._timers(client))
        try:
            await self.dispatch(client, inbox)
        finally:
            timer.cancel()
            self._stopping = True
            if client.is_connected():
                # A clean stop: the death first, then DISCONNECT (the Will is not sent).
                info = client.publish(
                    self.state_topic, state_payload(False, self.birth_timestamp), qos=1, retain=True
                )
                await asyncio.to_thread(info.wait_for_publish, 2.0)
            client.disconnect()
            client.loop_stop()

    async def _timers(self, client: Any) -> None:
        """Ask for a rebirth when a gap in an edge node's seq outlives the reorder timeout."""
        while True:
            await asyncio.sleep(TIMER_SECONDS)
            for group, node in self.sessions.due(self.clock()):
                self._request_rebirth(client, group, node)

    def _request_rebirth(self, client: Any, group: str, node: str) -> None:
        log.info("Sparkplug host: asking %s/%s for a rebirth", group, node)
        self.rebirths_requested += 1
        client.publish(ncmd_topic(group, node), rebirth_payload(self._millis()), qos=0)

    # -- messages -------------------------------------------------------------------------

    async def dispatch(self, client: Any, inbox: asyncio.Queue[Any]) -> None:
        """Handle messages until cancelled; PUBACKs in arrival order, each once durable."""
        slots = asyncio.Semaphore(self.settings.concurrency)
        order: deque[list[Any]] = deque()
        pending = self._pending

        def finished(task: asyncio.Task[None]) -> None:
            pending.discard(task)
            slots.release()

        try:
            while True:
                message = await inbox.get()
                await slots.acquire()
                self.messages += 1
                entry = [message, False]
                order.append(entry)
                job = self._prepare(client, message)  # in arrival order, no await
                task = asyncio.create_task(self._commit_and_ack(client, job, entry, order))
                pending.add(task)
                task.add_done_callback(finished)
        finally:
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    async def _commit_and_ack(
        self, client: Any, job: _Job | None, entry: list[Any], order: deque[list[Any]]
    ) -> None:
        if job is not None:
            await self._commit(job)
        entry[1] = True
        while order and order[0][1]:
            message = order.popleft()[0]
            if message.qos > 0:
                client.ack(message.mid, message.qos)
            self.acknowledged += 1

    def _prepare(self, client: Any, message: paho.MQTTMessage) -> _Job | None:
        topic, raw = message.topic, bytes(message.payload)
        try:
            return self._decide(client, topic, raw)
        except Exception as err:  # a bug must not stop the host: keep the bytes
            log.exception("Sparkplug host: unexpected error on %s", topic)
            return _Job(topic, None, raw, rejections=[_rejection(Reason.INTERNAL_ERROR, repr(err))])

    def _decide(self, client: Any, topic: str, raw: bytes) -> _Job | None:
        if topic == self.state_topic:
            self._own_state(client, raw)
            return None
        if topic.startswith(f"{NAMESPACE}/STATE/"):
            return None  # another host application's STATE
        address = parse_topic(topic)
        directory = self.ingestor.directory
        if address is None:
            parts = topic.split("/")
            group = parts[1] if len(parts) > 1 and directory.has_tenant(parts[1]) else None
            detail = f"topic {topic!r} is not a Sparkplug B edge node or device topic"
            return _Job(topic, group, raw, rejections=[_rejection(Reason.WRONG_TOPIC, detail)])
        if address.verb in ("NCMD", "DCMD"):
            return None  # commands to edge nodes, ours among them: not input
        if not directory.has_tenant(address.group):
            detail = f"Sparkplug group {address.group!r} is not a Vigil tenant with devices"
            return _Job(topic, None, raw, rejections=[_rejection(Reason.UNKNOWN_DEVICE, detail)])
        limit = self.ingestor.settings.max_body_bytes
        if len(raw) > limit:
            detail = f"payload of {len(raw)} bytes exceeds the limit of {limit}"
            rejection = _rejection(Reason.PAYLOAD_TOO_LARGE, detail)
            return _Job(topic, address.group, raw, rejections=[rejection])
        try:
            payload = decode_payload(raw)
        except MalformedPayload as err:
            rejection = _rejection(Reason.MALFORMED, err.detail)
            return _Job(topic, address.group, raw, rejections=[rejection])
        outcome = self.sessions.step(address, payload, self.clock())
        if outcome.rebirth:
            self._request_rebirth(client, address.group, address.node)
        events, problems = self.mapper.events(
            address.group, address.node, outcome.samples, outcome.presence
        )
        rejections = [
            _rejection(Reason(p.reason), p.detail, p.device) for p in outcome.problems + problems
        ]
        return _Job(topic, address.group, raw, events, rejections)

    def _own_state(self, client: Any, raw: bytes) -> None:
        """Someone says this host is offline (a stale Will, a rogue client): say otherwise."""
        try:
            online = json.loads(raw).get("online")
        except (ValueError, AttributeError):
            online = None
        if online is False and client.is_connected():
            self._publish_birth(client)

    def _lost(self) -> None:
        """Connection lost: every node and device known is stale until it is reborn."""
        by_node: dict[tuple[str, str], list[Any]] = {}
        for group, node, presence in self.sessions.lose_all(self.clock()):
            by_node.setdefault((group, node), []).append(presence)
        for (group, node), presence in by_node.items():
            events, _ = self.mapper.events(group, node, [], presence)
            if events:
                job = _Job(f"{NAMESPACE}/{group}/NDEATH/{node}", group, b"", events)
                task = asyncio.create_task(self._commit(job))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)

    async def _commit(self, job: _Job) -> None:
        """Write the job until it is durable; a store that refuses it twice gets a dead letter."""
        failures = 0
        while True:
            try:
                await self._write(job)
                return
            except StoreError:
                failures += 1
                log.exception("Sparkplug host: could not store %s (%d)", job.topic, failures)
            except Exception as err:
                log.exception("Sparkplug host: unexpected error storing %s", job.topic)
                rejection = _rejection(Reason.INTERNAL_ERROR, repr(err))
                job = _Job(job.topic, job.tenant, job.raw, [], [rejection])
                failures += 1
            if failures == 2 and job.events:
                detail = "the store refused this message's events; see the server log"
                rejection = _rejection(Reason.STORE_REJECTED, detail)
                job = _Job(job.topic, job.tenant, job.raw, [], [rejection])
            await asyncio.sleep(min(0.1 * 2**failures, STORE_RETRY_MAX_SECONDS))

    async def _write(self, job: _Job) -> None:
        if job.tenant is None:
            for rejection in job.rejections:
                await self.ingestor.record_rejection(
                    IngestError(rejection.reason, rejection.detail),
                    tenant=None,
                    transport=TRANSPORT,
                    source=job.topic,
                    body=job.raw,
                )
            return
        await self.ingestor.ingest_events(
            list(enumerate(job.events)),
            tenant=job.tenant,
            transport=TRANSPORT,
            source=job.topic,
            decode_rejections=[(rejection, job.raw) for rejection in job.rejections],
        )


def _rejection(reason: Reason, detail: str, device: str | None = None) -> Rejection:
    return Rejection(index=None, reason=reason, detail=detail, device=device)


def sparkplug_service(mqtt: MqttSettings, settings: SparkplugSettings) -> Any:
    """A background service for ``create_app`` that runs the host application."""

    async def sparkplug_host(platform: Any) -> None:
        await SparkplugHost(mqtt, settings, platform.ingestor).run()

    return sparkplug_host
