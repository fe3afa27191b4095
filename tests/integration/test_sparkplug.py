"""The Sparkplug B host application against the real Mosquitto, fed by a real edge node.

Each test names the Sparkplug 3.0 normative requirement (its ``tck-id``) it checks."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.integration.sparkplug_edge import EdgeNode, metric, now_ms, sp
from vigil.catalog import Catalog, Device, Entity, Tenant
from vigil.config import Settings, SparkplugSettings
from vigil.events import DeviceStatus, Reading
from vigil.ingest.sparkplug import SparkplugHost
from vigil.platform import Platform

pytestmark = pytest.mark.integration

NODE = "line-1.m-01"
DOUBLE, BOOLEAN, STRING = sp.DataType.DOUBLE, sp.DataType.BOOLEAN, sp.DataType.STRING


def plant(group: str) -> Catalog:
    """A plant tenant named as the Sparkplug group, one machine with a PLC and a sensor."""
    machine = f"{group}.{NODE}"
    return Catalog(
        tenants=(Tenant(id=group, name="Sparkplug plant", kind="plant"),),
        entities=(Entity(tenant=group, id=machine, kind="machine", name="M1"),),
        devices=tuple(
            Device(tenant=group, id=f"{machine}.{name}", entity=machine, kind=name, heartbeat=600)
            for name in ("plc", "condition")
        ),
    )


class Watcher:
    """A plain MQTT client recording what arrives on some topics (retained flag and QoS too)."""

    def __init__(self, client_id: str, *topics: str) -> None:
        self.messages: list[paho.MQTTMessage] = []
        self.lock = threading.Lock()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", 1883)
        self.client.loop_start()
        for topic in topics:
            self.client.subscribe(topic, qos=1)

    def _on_message(self, _c: object, _u: object, message: paho.MQTTMessage) -> None:
        with self.lock:
            self.messages.append(message)

    def seen(self) -> list[paho.MQTTMessage]:
        with self.lock:
            return list(self.messages)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@dataclass
class Rig:
    platform: Platform
    host: SparkplugHost
    group: str
    settings: SparkplugSettings

    async def until(self, condition: Callable[[], object], what: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}")

    def events(self) -> list[Reading | DeviceStatus]:
        records = self.platform.log.read(0, 100_000)
        return [
            r.event
            for r in records
            if isinstance(r.event, Reading | DeviceStatus) and r.event.tenant == self.group
        ]

    def readings(self, device: str) -> list[Reading]:
        return [e for e in self.events() if isinstance(e, Reading) and e.device.endswith(device)]

    def statuses(self) -> list[DeviceStatus]:
        return [e for e in self.events() if isinstance(e, DeviceStatus)]

    def dead(self) -> dict[str, int]:
        return self.platform.dead_letters.counts(self.group)

    def edge(self, **kwargs: int) -> EdgeNode:
        return EdgeNode(self.group, NODE, **kwargs)


async def start_host(platform: Platform, mqtt: object, settings: SparkplugSettings) -> tuple:
    host = SparkplugHost(mqtt, settings, platform.ingestor)  # type: ignore[arg-type]
    task = asyncio.create_task(host.run())
    await asyncio.wait_for(host.online.wait(), 10)
    return host, task


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
async def rig(platform: Platform, settings: Settings, mqtt_prefix: str) -> AsyncIterator[Rig]:
    group = mqtt_prefix
    platform.apply_catalog(plant(group))
    sparkplug = SparkplugSettings(
        enabled=True,
        host_id=f"{group}-host",
        groups=[group],
        client_id=f"{group}-host",
        reorder_timeout_seconds=0.3,
        rebirth_interval_seconds=0.5,
    )
    host, task = await start_host(platform, settings.mqtt, sparkplug)
    try:
        yield Rig(platform, host, group, sparkplug)
    finally:
        await stop(task)
        clear = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"{group}-clear")
        clear.connect("127.0.0.1", 1883)
        clear.loop_start()
        clear.publish(host.state_topic, b"", qos=1, retain=True).wait_for_publish(5)
        clear.loop_stop()
        clear.disconnect()


def born(edge: EdgeNode) -> None:
    """NBIRTH, then DBIRTHs of the PLC and the sensor with aliases 1-3."""
    ts = now_ms()
    edge.nbirth()
    edge.dbirth(
        "plc",
        metric("state", 1, "running", STRING, ts),
        metric("cycle_count", 2, 10.0, DOUBLE, ts),
    )
    edge.dbirth("condition", metric("temperature", 3, 30.0, DOUBLE, ts))


# -- the host's STATE ------------------------------------------------------------------------


async def test_host_publishes_state_birth_retained(rig: Rig) -> None:
    """[tck-id-host-topic-phid-birth-topic] [tck-id-host-topic-phid-birth-qos]
    [tck-id-host-topic-phid-birth-retain] [tck-id-host-topic-phid-birth-payload]
    [tck-id-operational-behavior-host-application-connect-birth]: a client arriving later
    finds the retained birth on spBv1.0/STATE/<host_id>, QoS 1, UTF-8 JSON
    {"online": true, "timestamp": <ms, now>}."""
    watcher = Watcher(f"{rig.group}-w", rig.host.state_topic)
    try:
        await rig.until(watcher.seen, "the retained STATE")
        [message] = watcher.seen()
        assert message.topic == f"spBv1.0/STATE/{rig.group}-host"
        assert (message.retain, message.qos) == (True, 1)
        body = json.loads(message.payload.decode("utf-8"))
        assert body == {"online": True, "timestamp": rig.host.birth_timestamp}
        assert abs(body["timestamp"] - now_ms()) < 60_000
    finally:
        watcher.close()


async def test_host_will_is_the_state_death(rig: Rig) -> None:
    """[tck-id-host-topic-phid-death-required]
    [tck-id-operational-behavior-host-application-connect-will]
    [tck-id-host-topic-phid-death-payload] [tck-id-host-topic-phid-death-qos]
    [tck-id-host-topic-phid-death-retain] [tck-id-host-topic-phid-birth-payload-timestamp]:
    when the host's connection is lost, the broker publishes its Will: online false,
    retained, with the birth's timestamp."""
    watcher = Watcher(f"{rig.group}-w", rig.host.state_topic)
    try:
        await rig.until(watcher.seen, "the retained STATE")
        birth = rig.host.birth_timestamp
        import socket

        rig.host.client.socket().shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
        await rig.until(lambda: len(watcher.seen()) >= 2, "the Will")
        death = watcher.seen()[1]
        assert json.loads(death.payload) == {"online": False, "timestamp": birth}
        assert death.qos == 1
        # The host reconnects and is born again, with a new timestamp (its new Will's).
        await rig.until(lambda: len(watcher.seen()) >= 3, "the new birth")
        again = json.loads(watcher.seen()[2].payload)
        assert again["online"] is True and again["timestamp"] >= birth
    finally:
        watcher.close()


async def test_host_answers_its_own_offline_state(rig: Rig) -> None:
    """[tck-id-message-flow-hid-sparkplug-state-message-delivered]: delivered a STATE with
    online false on its own host id, the host republishes its birth at once."""
    watcher = Watcher(f"{rig.group}-w", rig.host.state_topic)
    try:
        await rig.until(watcher.seen, "the retained STATE")
        body = json.dumps({"online": False, "timestamp": now_ms()}).encode()
        watcher.client.publish(rig.host.state_topic, body, qos=1, retain=True)
        await rig.until(
            lambda: (
                json.loads(watcher.seen()[-1].payload)["online"] is True
                and len(watcher.seen()) >= 3
            ),
            "the republished birth",
        )
    finally:
        watcher.close()


async def test_host_publishes_death_before_a_clean_stop(
    platform: Platform, settings: Settings, mqtt_prefix: str
) -> None:
    """[tck-id-operational-behavior-host-application-termination]
    [tck-id-host-topic-phid-death-payload-disconnect-clean]: stopping, the host publishes
    its death (online false, retained) before it disconnects."""
    group = mqtt_prefix
    sparkplug = SparkplugSettings(host_id=f"{group}-host", groups=[group], client_id=group)
    host, task = await start_host(platform, settings.mqtt, sparkplug)
    await stop(task)
    watcher = Watcher(f"{group}-w", host.state_topic)
    try:
        await asyncio.sleep(0.3)
        [message] = watcher.seen()
        assert message.retain
        assert json.loads(message.payload) == {"online": False, "timestamp": host.birth_timestamp}
        watcher.client.publish(host.state_topic, b"", qos=1, retain=True).wait_for_publish(5)
    finally:
        watcher.close()


# -- births, data, aliases -----------------------------------------------------------------


async def test_births_and_alias_only_data_become_readings(rig: Rig) -> None:
    """[tck-id-payloads-alias-birth-requirement] [tck-id-payloads-alias-data-cmd-requirement]
    [tck-id-payloads-metric-datatype-not-req]: BIRTHs define name, alias and datatype; DDATA
    carrying only aliases (no names, no datatypes) becomes Readings of the named metrics,
    at the metric's own timestamp; each device is online from its DBIRTH."""
    edge = rig.edge()
    try:
        born(edge)
        at = now_ms() - 5_000
        edge.ddata("plc", metric(None, 2, 11.0, DOUBLE, at), metric(None, 1, "down", STRING, at))
        edge.ddata("condition", metric(None, 3, 31.5, DOUBLE, at + 1))
        await rig.until(lambda: len(rig.events()) >= 8, "every event")
        plc = [(r.metric, r.value) for r in rig.readings(".plc")]
        assert plc == [
            ("state", "running"),
            ("cycle_count", 10.0),
            ("cycle_count", 11.0),
            ("state", "down"),
        ]
        [_, late] = rig.readings(".condition")
        assert (late.metric, late.value, late.time) == ("temperature", 31.5, (at + 1) / 1000)
        assert {s.device for s in rig.statuses() if s.online} == {
            f"{rig.group}.{NODE}.plc",
            f"{rig.group}.{NODE}.condition",
        }
        assert rig.dead() == {}
    finally:
        edge.close()


async def test_unknown_device_is_dead_lettered(rig: Rig) -> None:
    """A DBIRTH/DDATA of a device that maps to no registered Vigil device is refused with
    ``unknown_device`` naming the Vigil id it looked for; the registered ones still land."""
    edge = rig.edge()
    try:
        edge.nbirth()
        edge.dbirth("robot", metric("torque", 9, 1.0, DOUBLE, now_ms()))
        edge.dbirth("plc", metric("cycle_count", 2, 1.0, DOUBLE, now_ms()))
        await rig.until(lambda: rig.readings(".plc"), "the PLC's reading")
        await rig.until(lambda: rig.dead().get("unknown_device"), "the dead letter")
        [letter] = rig.platform.dead_letters.recent(rig.group)
        assert f"{rig.group}.{NODE}.robot" in letter.detail
        assert letter.transport == "sparkplug"
    finally:
        edge.close()


# -- sequence numbers ------------------------------------------------------------------------


async def test_seq_gap_requests_rebirth_and_is_not_rejected(rig: Rig) -> None:
    """[tck-id-operational-behavior-host-reordering-start]
    [tck-id-operational-behavior-host-reordering-rebirth]
    [tck-id-operational-behavior-data-commands-ncmd-rebirth-verb]
    [tck-id-operational-behavior-data-commands-ncmd-rebirth-name]
    [tck-id-operational-behavior-data-commands-ncmd-rebirth-value]: a gap in the edge node's
    seq that the reorder timeout does not fill brings an NCMD 'Node Control/Rebirth' = true.
    The data after the gap is still accepted: Vigil numbers readings itself."""
    edge = rig.edge()
    try:
        born(edge)
        edge.ddata("plc", metric(None, 2, 12.0, DOUBLE, now_ms()), seq=edge.seq + 3)
        await rig.until(edge.rebirth_requests, "the rebirth request", timeout=5)
        [command] = edge.rebirth_requests()
        [rebirth] = command.metrics
        assert rebirth.datatype == BOOLEAN
        assert [r.value for r in rig.readings(".plc") if r.metric == "cycle_count"] == [10.0, 12.0]
        assert rig.dead() == {}
        # The node is reborn: seq 0 again, and Vigil's own seq still goes up.
        edge.seq = 0
        born(edge)
        edge.ddata("plc", metric(None, 2, 13.0, DOUBLE, now_ms()))
        await rig.until(lambda: len(rig.readings(".plc")) == 6, "the data after the rebirth")
        seqs = [r.seq for r in rig.events() if r.device.endswith(".plc")]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    finally:
        edge.close()


async def test_seq_wraps_after_255_without_rebirth(rig: Rig) -> None:
    """[tck-id-payloads-sequence-num-incrementing] (edge side, honoured by the host): after
    255 comes 0; the host sees no gap and asks for nothing."""
    edge = rig.edge()
    try:
        born(edge)
        for n in range(260):
            edge.ddata("condition", metric(None, 3, float(n), DOUBLE, now_ms()))
        await rig.until(lambda: len(rig.readings(".condition")) == 261, "every reading", 20)
        await asyncio.sleep(rig.settings.reorder_timeout_seconds + 0.2)
        assert edge.rebirth_requests() == []
    finally:
        edge.close()


# -- deaths ------------------------------------------------------------------------------------


async def test_ndeath_will_marks_node_devices_offline(rig: Rig) -> None:
    """[tck-id-operational-behavior-edge-node-termination-host-action-ndeath-node-offline]
    [tck-id-operational-behavior-edge-node-termination-host-action-ndeath-devices-offline]
    [tck-id-operational-behavior-edge-node-termination-host-action-ndeath-devices-tags-stale]:
    the broker delivers the edge node's Will (NDEATH, bdSeq of the birth); every device born
    under it goes offline (DeviceStatus online=false at the host's time), so device health
    opens ``device_offline``."""
    edge = rig.edge(bdseq=4)
    born(edge)
    await rig.until(lambda: len(rig.statuses()) == 2, "the births")
    before = time.time()
    edge.drop()
    await rig.until(lambda: len(rig.statuses()) == 4, "the offline statuses")
    offline = [s for s in rig.statuses() if s.online is False]
    assert {s.device.rsplit(".", 1)[1] for s in offline} == {"plc", "condition"}
    assert all(s.time >= before for s in offline)
    assert await asyncio.to_thread(rig.platform.wait_until_processed)
    conditions = rig.platform.conditions.open(rig.group)
    assert {c.kind for c in conditions} == {"device_offline"}


async def test_ndeath_with_another_bdseq_is_ignored(rig: Rig) -> None:
    """Specification 5.4 (bdSeq): "Upon receipt of the Death Certificate with a bdSeq number
    metric that matches the preceding bdSeq number in the NBIRTH messages, the Primary Host
    Application should set the state of the Edge Node to 'OFFLINE'". An NDEATH of an earlier
    session (another bdSeq) arriving late is ignored, kept as ``stale_death``."""
    edge = rig.edge(bdseq=7)
    try:
        born(edge)
        await rig.until(lambda: len(rig.statuses()) == 2, "the births")
        edge.ndeath(bdseq=6)
        await rig.until(lambda: rig.dead().get("stale_death"), "the stale death")
        assert all(s.online for s in rig.statuses())
        edge.ddata("plc", metric(None, 2, 20.0, DOUBLE, now_ms()))
        await rig.until(lambda: len(rig.readings(".plc")) == 3, "data, the node still alive")
    finally:
        edge.close()


async def test_ddeath_marks_the_device_offline_at_its_timestamp(rig: Rig) -> None:
    """[tck-id-operational-behavior-edge-node-termination-host-action-ddeath-devices-offline]
    [tck-id-operational-behavior-edge-node-termination-host-action-ddeath-devices-tags-stale]:
    a DDEATH takes that device offline, at the DDEATH's timestamp; its data after it has no
    birth (``no_birth``, and a rebirth request)."""
    edge = rig.edge()
    try:
        born(edge)
        at = now_ms() - 2_000
        edge.ddeath("condition", at)
        await rig.until(lambda: any(s.online is False for s in rig.statuses()), "the death")
        [death] = [s for s in rig.statuses() if s.online is False]
        assert death.device.endswith(".condition") and death.time == at / 1000
        edge.ddata("condition", metric(None, 3, 1.0, DOUBLE, now_ms()))
        await rig.until(lambda: rig.dead().get("no_birth"), "the refused data")
        await rig.until(edge.rebirth_requests, "the rebirth request")
    finally:
        edge.close()
