"""The OPC UA client against a real OPC UA server (asyncua's own, in a child process of
the test, on a free port of its own) and a real platform on SQLite."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from vigil.config import OpcUaNode, OpcUaServer, OpcUaSettings
from vigil.events import DeviceStatus, Reading
from vigil.ingest.opcua import OpcUaSource
from vigil.platform import Platform

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).with_name("opcua_server.py")
DEVICE, ENTITY = "plant.press-1.plc", "plant.press-1"
"""Of ``tests.conftest.small_catalog``."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """The test's OPC UA server: started, commanded and stopped as a child process."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.endpoint = f"opc.tcp://127.0.0.1:{port}/vigil/"
        self.process: subprocess.Popen[str] | None = None

    def _start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(SCRIPT), str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.strip() == "ready", f"the OPC UA server did not start: {line!r}"

    def _send(self, order: dict[str, Any]) -> dict[str, Any]:
        assert self.process and self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(order) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def _stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.process = None

    async def start(self) -> None:
        await asyncio.to_thread(self._start)

    async def write(self, tag: str, value: object) -> float:
        """Write a good value; its source timestamp (epoch s)."""
        answer = await asyncio.to_thread(self._send, {"write": f"m1.{tag}", "value": value})
        return float(answer["source_time"])

    async def bad(self, tag: str) -> None:
        await asyncio.to_thread(self._send, {"bad": f"m1.{tag}"})

    async def stop(self) -> None:
        await asyncio.to_thread(self._stop)


def node(tag: str, metric: str, device: str = DEVICE, **kwargs: Any) -> OpcUaNode:
    return OpcUaNode(node_id=f"ns=2;s=m1.{tag}", device=device, metric=metric, **kwargs)


GOOD_NODES = [
    node("temperature", "temperature", unit="degC"),
    node("cycle_count", "cycle_count", scale=2.0),
    node("running", "running"),
]


@dataclass
class Rig:
    platform: Platform
    server: ServerProcess
    source: OpcUaSource

    async def until(self, condition: Callable[[], object], what: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}")

    def events(self) -> list[Reading | DeviceStatus]:
        return [
            record.event
            for record in self.platform.log.read(0, 100_000)
            if isinstance(record.event, Reading | DeviceStatus) and record.event.tenant == "plant"
        ]

    def readings(self, metric: str) -> list[Reading]:
        return [e for e in self.events() if isinstance(e, Reading) and e.metric == metric]

    def presence(self) -> list[bool | None]:
        return [e.online for e in self.events() if isinstance(e, DeviceStatus)]

    def values(self, metric: str) -> list[float | str | bool]:
        return [r.value for r in self.readings(metric)]


def opcua_settings(endpoint: str, nodes: list[OpcUaNode]) -> OpcUaSettings:
    return OpcUaSettings(
        enabled=True,
        servers=[OpcUaServer(endpoint=endpoint, tenant="plant", nodes=nodes)],
        publishing_interval_ms=20,
        watchdog_seconds=0.2,
        request_timeout_seconds=2,
        reconnect_min_seconds=0.1,
        reconnect_max_seconds=0.4,
    )


@asynccontextmanager
async def running(platform: Platform, nodes: list[OpcUaNode]) -> AsyncIterator[Rig]:
    """A server of the test's own and a source subscribed to it."""
    server = ServerProcess(free_port())
    await server.start()
    settings = opcua_settings(server.endpoint, nodes)
    source = OpcUaSource(settings.servers[0], settings, platform.ingestor)
    task = asyncio.create_task(source.run())
    try:
        await asyncio.wait_for(source.connected.wait(), 10)
        yield Rig(platform, server, source)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await server.stop()


@pytest.fixture
async def rig(platform: Platform) -> AsyncIterator[Rig]:
    async with running(platform, GOOD_NODES) as made:
        yield made


async def test_values_written_on_the_server_arrive_as_readings(rig: Rig) -> None:
    """Each node's current value, then every value written, becomes a reading of its
    device and metric at the value's source timestamp, scaled, with its unit."""
    await rig.until(lambda: len(rig.events()) >= 4, "the initial values")
    assert rig.values("temperature") == [20.0]
    assert rig.values("cycle_count") == [0.0]
    assert rig.values("running") == [1.0]  # a Boolean is 1 or 0
    assert rig.presence() == [True]
    written = await rig.server.write("temperature", 21.5)
    count_time = await rig.server.write("cycle_count", 7)
    await rig.until(lambda: len(rig.values("cycle_count")) == 2, "the written values")
    [_, reading] = rig.readings("temperature")
    assert (reading.device, reading.entity, reading.value, reading.unit) == (
        DEVICE,
        ENTITY,
        21.5,
        "degC",
    )
    assert reading.timestamp == pytest.approx(written, abs=1e-5)
    assert rig.readings("cycle_count")[1].value == 14.0  # scale 2
    assert rig.readings("cycle_count")[1].timestamp == pytest.approx(count_time, abs=1e-5)
    seqs = [event.seq for event in rig.events()]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


async def test_a_bad_status_takes_the_device_offline_until_good_again(rig: Rig) -> None:
    """A node whose status turns Bad gives no reading and the device goes offline; a
    good value brings it back online with a reading."""
    await rig.until(lambda: rig.presence() == [True], "online")
    await rig.server.bad("temperature")
    await rig.until(lambda: rig.presence() == [True, False], "offline on Bad")
    await rig.server.write("temperature", 30.0)
    await rig.until(lambda: rig.presence() == [True, False, True], "online again")
    await rig.until(lambda: rig.values("temperature") == [20.0, 30.0], "the good value")


async def test_survives_the_server_restarting(rig: Rig) -> None:
    """The server stops and starts again on the same port: the device goes offline and
    back online, the subscription is made again, values written after the restart
    arrive, and no sample is read twice (one reading per node and source time)."""
    await rig.server.write("temperature", 21.0)
    await rig.server.write("temperature", 22.0)
    await rig.until(lambda: rig.values("temperature") == [20.0, 21.0, 22.0], "before")
    await rig.server.stop()
    await rig.until(lambda: rig.presence() == [True, False], "offline when the server went")
    assert not rig.source.connected.is_set()
    await rig.server.start()
    await asyncio.wait_for(rig.source.connected.wait(), 10)
    await rig.server.write("temperature", 23.0)
    # The restarted server's own initial value (20.0, stamped at its start) is a new sample.
    await rig.until(lambda: rig.values("temperature") == [20.0, 21.0, 22.0, 20.0, 23.0], "after")
    assert rig.presence() == [True, False, True]
    assert rig.source.connections == 2
    readings = [e for e in rig.events() if isinstance(e, Reading)]
    samples = [(r.metric, r.timestamp) for r in readings]
    assert len(samples) == len(set(samples))
    seqs = [event.seq for event in rig.events()]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


async def test_a_lost_connection_to_a_running_server_duplicates_nothing(rig: Rig) -> None:
    """The connection breaks while the server runs on: Vigil subscribes again, the
    server sends each node's current value again, and those samples, already read, are
    dropped; the device was offline meanwhile; the next value arrives."""
    await rig.server.write("temperature", 25.0)
    await rig.until(lambda: rig.values("temperature") == [20.0, 25.0], "before")
    assert rig.source.client is not None
    rig.source.client.uaclient.protocol.transport.close()  # type: ignore[union-attr]
    await rig.until(lambda: rig.source.connections == 2, "the new subscription")
    await rig.server.write("temperature", 26.0)
    await rig.until(lambda: rig.values("temperature") == [20.0, 25.0, 26.0], "after")
    assert rig.presence() == [True, False, True]
    assert rig.values("cycle_count") == [0.0] and rig.values("running") == [1.0]
    assert rig.source.map.resent == 3


async def test_bad_configuration_is_dead_lettered_and_the_good_nodes_go_on(
    platform: Platform,
) -> None:
    """An unknown node id (``unknown_node``), a node whose value is text
    (``invalid_event``) and a node of an unregistered device (``unknown_device``) are
    dead letters with a clear detail; the source stays up and the good node's values
    arrive."""
    nodes = [
        node("temperature", "temperature"),
        node("missing", "pressure"),
        node("state", "state"),
        node("cycle_count", "cycle_count", device="plant.press-9.plc"),
    ]
    async with running(platform, nodes) as rig:
        await rig.until(lambda: len(platform.dead_letters.counts("plant")) == 3, "dead letters")
        assert platform.dead_letters.counts("plant") == {
            "unknown_node": 1,
            "invalid_event": 1,
            "unknown_device": 1,
        }
        details = {d.reason: d.detail for d in platform.dead_letters.recent("plant")}
        assert "BadNodeIdUnknown" in details["unknown_node"]
        assert "ns=2;s=m1.missing" in details["unknown_node"]
        assert "value of type str is not a number" in details["invalid_event"]
        assert "'plant.press-9.plc'" in details["unknown_device"]
        await rig.server.write("temperature", 24.0)
        await rig.until(lambda: rig.values("temperature") == [20.0, 24.0], "the good node")
        assert rig.source.connected.is_set()


async def test_a_server_that_is_not_up_yet_is_waited_for(platform: Platform) -> None:
    """Vigil starts before the server: it retries with back-off, no crash, and
    subscribes once the server is there."""
    server = ServerProcess(free_port())
    settings = opcua_settings(server.endpoint, GOOD_NODES)
    source = OpcUaSource(settings.servers[0], settings, platform.ingestor)
    task = asyncio.create_task(source.run())
    try:
        await asyncio.sleep(0.5)
        assert not task.done() and source.connections == 0
        await server.start()
        await asyncio.wait_for(source.connected.wait(), 10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await server.stop()
