"""The OPC UA client: Vigil subscribes to each configured server's nodes (asyncua).

One ``OpcUaSource`` per server. It connects, creates one subscription with a
monitored item per configured node, and waits; the server publishes what
changed. Each change is turned into plain values at once and queued; one writer
per server maps them (``mapping.NodeMap``, pure) and writes the events and dead
letters through the one ingest service, in the order they came, so validation,
dead letters, sequences and back-pressure are the same as for every transport.

When the connection is lost (the server stopped, the network, a subscription the
server dropped, or more changes waiting than ``opcua.max_pending``), every device
of the server goes offline, and the source connects again with back-off
(``reconnect_min_seconds`` doubling to ``reconnect_max_seconds``) and creates its
subscription anew. A new subscription starts with each node's current value; the
mapping drops the ones already read (same source timestamp), so nothing accepted
is read twice. Every change ends as events or a dead letter with a reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

import msgspec
from asyncua import Client, ua

from vigil.config import OpcUaServer, OpcUaSettings
from vigil.errors import ConfigurationError, IngestError, StoreError
from vigil.events import Event
from vigil.ingest.opcua.mapping import Change, NodeMap, raw
from vigil.ingest.service import Ingestor
from vigil.ingest.validation import Reason, Rejection

log = logging.getLogger(__name__)

TRANSPORT = "opcua"
BATCH = 1000
"""Changes written in one call to the ingest service, at most."""
STORE_RETRY_MAX_SECONDS = 5.0


class _Lost(msgspec.Struct, frozen=True):
    """The connection ended: its devices go offline at ``when``."""

    when: float
    why: str


class _Refused(msgspec.Struct, frozen=True):
    """The server would not monitor a configured node."""

    node_id: str
    status: str


Item = Change | _Lost | _Refused


def epoch(stamp: datetime | None) -> float | None:
    """An OPC UA timestamp as epoch seconds (asyncua's are UTC; a naive one is taken as UTC).

    >>> epoch(datetime(2024, 1, 1, tzinfo=UTC)), epoch(None)
    (1704067200.0, None)
    """
    if stamp is None:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


def change_of(node_id: str, value: Any, data: ua.DataValue, received: float) -> Change:
    """asyncua's data value as a plain ``Change``."""
    status = data.StatusCode or ua.StatusCode()
    return Change(
        node_id=node_id,
        value=value,
        status=status.name,
        source_time=epoch(data.SourceTimestamp),
        server_time=epoch(data.ServerTimestamp),
        received=received,
        bad=status.is_bad(),
    )


def parse_node_ids(server: OpcUaServer) -> dict[ua.NodeId, str]:
    """Each configured node id parsed, against its text; a bad one is a configuration error."""
    parsed: dict[ua.NodeId, str] = {}
    for node in server.nodes:
        try:
            parsed[ua.NodeId.from_string(node.node_id)] = node.node_id
        except (ValueError, ua.UaError) as err:
            raise ConfigurationError(
                f"opcua: node id {node.node_id!r} of {server.endpoint} is not valid: {err}"
            ) from err
    return parsed


class _Handler:
    """asyncua's subscription callbacks for one connection, turned into queued items."""

    def __init__(self, source: OpcUaSource) -> None:
        self.source = source
        self.live = True

    def datachange_notification(self, node: Any, value: Any, data: Any) -> None:
        if not self.live:
            self.source.late += 1
            return
        node_id = self.source.node_ids.get(node.nodeid, node.nodeid.to_string())
        self.source.received(change_of(node_id, value, data.monitored_item.Value, time.time()))

    def status_change_notification(self, status: Any) -> None:
        self.source.connection_lost(f"the subscription's status is {status.Status.name}")


class OpcUaSource:
    """One OPC UA server's nodes as Vigil events, through reconnections."""

    def __init__(
        self,
        server: OpcUaServer,
        settings: OpcUaSettings,
        ingestor: Ingestor,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.server = server
        self.settings = settings
        self.ingestor = ingestor
        self.clock = clock
        self.node_ids = parse_node_ids(server)
        self.map = NodeMap(server, ingestor.directory, ingestor.sequences.last)
        self.queue: asyncio.Queue[Item] = asyncio.Queue()
        self.connected = asyncio.Event()
        """Set while subscribed; cleared when the connection is lost."""
        self.connections = 0
        self.changes = 0
        self.dropped = 0
        """Changes not queued because too many were waiting (the connection is then renewed)."""
        self.late = 0
        """Changes that came after their connection ended (read again on resubscribing)."""
        self.client: Client | None = None
        """The current connection's asyncua client (tests break its socket)."""
        self._lost: asyncio.Event | None = None
        self._why = ""

    @property
    def source(self) -> str:
        """The dead letters' source: the endpoint without credentials."""
        return self.server.endpoint.split("@")[-1]

    # -- the connection ---------------------------------------------------------------

    async def run(self) -> None:
        """Connect, subscribe, and on every loss connect again with back-off, until cancelled."""
        writer = asyncio.create_task(self._write_loop())
        delay = self.settings.reconnect_min_seconds
        try:
            while True:
                try:
                    if await self._connection():
                        delay = self.settings.reconnect_min_seconds
                except (OSError, TimeoutError, ua.UaError, ConnectionError) as err:
                    log.warning("OPC UA %s: cannot connect: %r", self.source, err)
                except Exception:
                    log.exception("OPC UA %s: unexpected error", self.source)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.reconnect_max_seconds)
        finally:
            await self._drain(writer)

    async def _drain(self, writer: asyncio.Task[None]) -> None:
        """On a stop, what is queued is written before the writer ends."""
        with suppress(asyncio.CancelledError, TimeoutError):
            async with asyncio.timeout(5):
                await self.queue.join()
        writer.cancel()
        await asyncio.gather(writer, return_exceptions=True)

    async def _connection(self) -> bool:
        """One connection, until it is lost; True if it got as far as subscribing."""
        settings = self.settings
        client = Client(
            self.server.endpoint,
            timeout=settings.request_timeout_seconds,
            watchdog_intervall=settings.watchdog_seconds,
        )
        if self.server.username:
            client.set_user(self.server.username)
            client.set_password(self.server.password or "")
        lost = self._lost = asyncio.Event()
        self._why = ""

        async def on_lost(err: Exception) -> None:
            self.connection_lost(f"connection lost: {err!r}")

        client.connection_lost_callback = on_lost
        handler = _Handler(self)
        self.client = client
        await client.connect()
        subscribed = stopping = False
        try:
            await self._subscribe(client, handler)
            subscribed = True
            self.connections += 1
            self.connected.set()
            log.info("OPC UA %s: subscribed to %d nodes", self.source, len(self.node_ids))
            await lost.wait()
            log.warning("OPC UA %s: %s", self.source, self._why)
        except asyncio.CancelledError:
            stopping = True  # Vigil is stopping: the devices' state is not known, not offline
            raise
        finally:
            handler.live = False
            self.connected.clear()
            self._lost = None
            if not stopping:
                self.queue.put_nowait(_Lost(self.clock(), self._why or "subscribing failed"))
            with suppress(Exception):
                await asyncio.wait_for(client.disconnect(), 2)
        return subscribed

    async def _subscribe(self, client: Client, handler: _Handler) -> None:
        settings = self.settings
        subscription = await client.create_subscription(settings.publishing_interval_ms, handler)
        ids = list(self.node_ids)
        results = await subscription.subscribe_data_change(
            [client.get_node(node_id) for node_id in ids],
            queuesize=settings.item_queue_size,
            sampling_interval=settings.sampling_interval_ms,
        )
        for node_id, result in zip(ids, results, strict=True):
            if isinstance(result, ua.StatusCode):
                log.error("OPC UA %s: cannot monitor %s: %s", self.source, node_id, result.name)
                self.queue.put_nowait(_Refused(self.node_ids[node_id], result.name))

    def connection_lost(self, why: str) -> None:
        """End the current connection (called from asyncua's callbacks and on overflow)."""
        if self._lost is not None and not self._lost.is_set():
            self._why = why
            self._lost.set()

    def received(self, change: Change) -> None:
        """Queue one change; beyond ``max_pending`` waiting, renew the connection instead."""
        if self.queue.qsize() >= self.settings.max_pending:
            self.dropped += 1
            self.connection_lost(f"more than {self.settings.max_pending} changes waiting")
            return
        self.changes += 1
        self.queue.put_nowait(change)

    # -- writing ------------------------------------------------------------------------

    async def _write_loop(self) -> None:
        """The one writer: items in arrival order, a batch at a time."""
        while True:
            batch = [await self.queue.get()]
            while len(batch) < BATCH and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            try:
                await self._commit(*self._prepare(batch))
            finally:
                for _ in batch:
                    self.queue.task_done()

    def _prepare(self, batch: list[Item]) -> tuple[list[Event], list[tuple[Rejection, bytes]]]:
        events: list[Event] = []
        rejections: list[tuple[Rejection, bytes]] = []
        for item in batch:
            if isinstance(item, _Lost):
                events.extend(self.map.lost(item.when))
            elif isinstance(item, _Refused):
                body = msgspec.json.encode({"node": item.node_id, "status": item.status})
                rejections.append((self.map.unmonitored(item.node_id, item.status), body))
            else:
                try:
                    new, problems = self.map.step(item)
                except Exception as err:  # a bug must not stop the source: keep the change
                    log.exception("OPC UA %s: unexpected error on %s", self.source, item.node_id)
                    new = []
                    problems = [_rejection(Reason.INTERNAL_ERROR, repr(err))]
                events.extend(new)
                rejections.extend((problem, raw(item)) for problem in problems)
        return events, rejections

    async def _commit(self, events: list[Event], rejections: list[tuple[Rejection, bytes]]) -> None:
        """Write until durable; a store that refuses the events twice gets a dead letter."""
        failures = 0
        while True:
            try:
                await self._write(events, rejections)
                return
            except StoreError:
                failures += 1
                log.exception("OPC UA %s: could not store %d events", self.source, len(events))
            except Exception as err:
                log.exception("OPC UA %s: unexpected error storing", self.source)
                events, rejections = [], [(_rejection(Reason.INTERNAL_ERROR, repr(err)), b"")]
                failures += 1
            if failures == 2 and events:
                detail = f"the store refused {len(events)} events; see the server log"
                events, rejections = [], [(_rejection(Reason.STORE_REJECTED, detail), b"")]
            await asyncio.sleep(min(0.1 * 2**failures, STORE_RETRY_MAX_SECONDS))

    async def _write(self, events: list[Event], rejections: list[tuple[Rejection, bytes]]) -> None:
        if not events and not rejections:
            return
        tenant = self.server.tenant
        if not self.ingestor.directory.has_tenant(tenant):
            for rejection, body in rejections:
                await self.ingestor.record_rejection(
                    IngestError(rejection.reason, rejection.detail),
                    tenant=None,
                    transport=TRANSPORT,
                    source=self.source,
                    body=body,
                )
            return
        await self.ingestor.ingest_events(
            list(enumerate(events)),
            tenant=tenant,
            transport=TRANSPORT,
            source=self.source,
            decode_rejections=rejections,
        )


def _rejection(reason: Reason, detail: str) -> Rejection:
    return Rejection(index=None, reason=reason, detail=detail)


def opcua_service(settings: OpcUaSettings) -> Any:
    """A background service for ``create_app``: one source per configured server."""

    async def opcua_client(platform: Any) -> None:
        sources = [OpcUaSource(server, settings, platform.ingestor) for server in settings.servers]
        await asyncio.gather(*(source.run() for source in sources))

    return opcua_client
