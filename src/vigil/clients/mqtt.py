"""MQTT sink: publishes gateway batches at QoS 1 and waits for the broker's acknowledgement."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from vigil.events import Batch, Event, encode_json
from vigil.ingest.topics import gateway_topic


class MqttSink:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1883,
        *,
        prefix: str = "vigil",
        gateway: str = "simulator",
        client_id: str | None = None,
    ) -> None:
        self.prefix = prefix
        self.gateway = gateway
        self.host, self.port = host, port
        self._ids = itertools.count()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id or f"vigil-sim-{id(self)}"
        )
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self._pending: dict[int, asyncio.Future[None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connected: asyncio.Event | None = None

    async def connect(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._connected = asyncio.Event()
        loop, connected = self._loop, self._connected

        def on_connect(*_args: Any) -> None:
            loop.call_soon_threadsafe(connected.set)

        def on_publish(_c: Any, _u: Any, mid: int, _rc: Any, _p: Any) -> None:
            loop.call_soon_threadsafe(self._acknowledged, mid)

        self.client.on_connect = on_connect
        self.client.on_publish = on_publish
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        await asyncio.wait_for(connected.wait(), 10)

    def _acknowledged(self, mid: int) -> None:
        future = self._pending.pop(mid, None)
        if future is not None and not future.done():
            future.set_result(None)

    async def send(self, events: list[Event]) -> None:
        if self._loop is None:
            await self.connect()
        assert self._loop is not None
        by_tenant: dict[str, list[Event]] = {}
        for event in events:
            by_tenant.setdefault(event.tenant, []).append(event)
        waits = []
        for tenant, group in by_tenant.items():
            future: asyncio.Future[None] = self._loop.create_future()
            info = self.client.publish(
                gateway_topic(self.prefix, tenant, self.gateway),
                encode_json(Batch(events=group)),
                qos=1,
            )
            self._pending[info.mid] = future
            if info.is_published():
                self._acknowledged(info.mid)
            waits.append(future)
        await asyncio.gather(*waits)

    async def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
