"""The MQTT subscriber's dispatch, without a broker: PUBACKs in the order of receipt
(MQTT 5, 4.6), every message acknowledged whatever it holds, and rejection reasons
from the ``Reason`` enum (issue 7, items 1 and 22)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import batch_json, reading
from vigil.config import MqttSettings
from vigil.errors import IngestError, StoreError
from vigil.ingest.mqtt import MqttSubscriber
from vigil.ingest.service import IngestResult
from vigil.ingest.topics import device_topic
from vigil.ingest.validation import Reason
from vigil.platform import Platform

PREFIX = "vigil"
TOPIC = device_topic(PREFIX, "north", "north.home-1.temperature")


@dataclass
class Message:
    topic: str
    payload: bytes
    mid: int
    qos: int = 1


@dataclass
class FakeClient:
    acks: list[int] = field(default_factory=list)
    published: list[tuple[str, bytes]] = field(default_factory=list)

    def ack(self, mid: int, qos: int) -> None:
        self.acks.append(mid)

    def publish(self, topic: str, payload: bytes, qos: int = 0) -> None:
        self.published.append((topic, payload))


class GatedIngestor:
    """Each payload finishes when its gate opens, so completion order is the test's."""

    def __init__(self) -> None:
        self.gates: dict[bytes, asyncio.Event] = {}
        self.rejections: list[IngestError] = []

    async def ingest(self, body: bytes, **_kw: Any) -> IngestResult:
        await self.gates.setdefault(body, asyncio.Event()).wait()
        return IngestResult(accepted=1, duplicates=0, rejected=[])

    async def record_rejection(self, err: IngestError, **_kw: Any) -> None:
        self.rejections.append(err)


async def until(condition: Any, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


async def stop(task: asyncio.Task[None]) -> None:
    """Cancel the dispatch loop; a message it still waits for must not hang the test."""
    task.cancel()
    await asyncio.wait([task], timeout=2)


async def run_dispatch(subscriber: MqttSubscriber, client: FakeClient, messages: list[Message]):
    inbox: asyncio.Queue[Any] = asyncio.Queue()
    for message in messages:
        inbox.put_nowait(message)
    return asyncio.create_task(subscriber.dispatch(client, inbox))


async def test_pubacks_go_out_in_order_of_receipt() -> None:
    """Messages that finish in reverse order are still acknowledged 1, 2, 3: none
    before every earlier one is durable."""
    ingestor = GatedIngestor()
    subscriber = MqttSubscriber(MqttSettings(topic_prefix=PREFIX), ingestor)  # type: ignore[arg-type]
    client = FakeClient()
    payloads = [b"one", b"two", b"three"]
    for payload in payloads:
        ingestor.gates[payload] = asyncio.Event()
    task = await run_dispatch(
        subscriber, client, [Message(TOPIC, p, mid) for mid, p in enumerate(payloads, 1)]
    )
    try:
        await until(lambda: subscriber.messages == 3)
        ingestor.gates[b"three"].set()
        ingestor.gates[b"two"].set()
        await asyncio.sleep(0.05)
        assert client.acks == []  # 2 and 3 are durable, but 1 is not yet
        ingestor.gates[b"one"].set()
        await until(lambda: len(client.acks) == 3)
        assert client.acks == [1, 2, 3]
    finally:
        await stop(task)


async def test_wrong_topic_reason_is_the_enum_member() -> None:
    """A topic outside the layout is refused with ``Reason.WRONG_TOPIC`` itself."""
    ingestor = GatedIngestor()
    subscriber = MqttSubscriber(MqttSettings(topic_prefix=PREFIX), ingestor)  # type: ignore[arg-type]
    client = FakeClient()
    task = await run_dispatch(subscriber, client, [Message("vigil/v1//devices/x/events", b"{}", 7)])
    try:
        await until(lambda: client.acks == [7])
        [err] = ingestor.rejections
        assert err.reason is Reason.WRONG_TOPIC
    finally:
        await stop(task)


async def test_poison_messages_are_all_acknowledged(platform: Platform) -> None:
    """More poison messages than the receive window, then a good one: every message is
    acknowledged, each poison one dead-lettered as ``malformed``, the good one logged."""
    subscriber = MqttSubscriber(MqttSettings(topic_prefix=PREFIX), platform.ingestor)
    client = FakeClient()
    poison = [Message(TOPIC, b'{"v":1,"events":[{"type":"nope"} x]}', mid) for mid in range(250)]
    deep = [Message(TOPIC, b'{"v":1,"events":' + b"[" * 3000 + b"]" * 3000 + b"}", 250)]
    good = [Message(TOPIC, batch_json(reading(seq=1)), 251)]
    task = await run_dispatch(subscriber, client, poison + deep + good)
    try:
        await until(lambda: len(client.acks) == 252, timeout=20)
        assert client.acks == list(range(252))
        assert platform.dead_letters.counts("north") == {"malformed": 251}
        assert platform.log.count("north") == 1
    finally:
        await stop(task)


class FlakyStore(GatedIngestor):
    """The database fails the first ``failures`` attempts at anything."""

    def __init__(self, failures: int, *, rejects_events: bool = False) -> None:
        super().__init__()
        self.failures = failures
        self.rejects_events = rejects_events
        self.ingested = 0

    async def ingest(self, body: bytes, **_kw: Any) -> IngestResult:
        if self.rejects_events or self.failures > 0:
            self.failures -= 1
            raise StoreError("database error while writing: OperationalError")
        self.ingested += 1
        return IngestResult(accepted=1, duplicates=0, rejected=[])

    async def record_rejection(self, err: IngestError, **kw: Any) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise StoreError("database error while writing: OperationalError")
        await super().record_rejection(err, **kw)


async def test_store_outage_is_retried_until_durable() -> None:
    """While the database is down the message is retried, not dropped or acknowledged;
    once the database is back it is ingested and acknowledged."""
    store = FlakyStore(failures=4)
    subscriber = MqttSubscriber(MqttSettings(topic_prefix=PREFIX), store)  # type: ignore[arg-type]
    client = FakeClient()
    task = await run_dispatch(subscriber, client, [Message(TOPIC, b"{}", 1)])
    try:
        await until(lambda: client.acks == [1], timeout=10)
        assert (store.ingested, store.rejections) == (1, [])
    finally:
        await stop(task)


async def test_message_the_store_refuses_is_dead_lettered() -> None:
    """A message whose events the store keeps refusing, while it takes dead letters, is
    kept as ``store_rejected`` and acknowledged, so it cannot block the session."""
    store = FlakyStore(failures=0, rejects_events=True)
    subscriber = MqttSubscriber(MqttSettings(topic_prefix=PREFIX), store)  # type: ignore[arg-type]
    client = FakeClient()
    task = await run_dispatch(subscriber, client, [Message(TOPIC, b"{}", 1)])
    try:
        await until(lambda: client.acks == [1], timeout=10)
        assert [e.reason for e in store.rejections] == [Reason.STORE_REJECTED]
    finally:
        await stop(task)
