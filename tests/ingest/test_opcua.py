"""The pure parts of the OPC UA client: values, times, presence, re-sent samples, seq,
the settings' checks, and asyncua's data values turned into plain changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from asyncua import ua

from vigil.config import OpcUaNode, OpcUaServer, OpcUaSettings, load_settings
from vigil.errors import ConfigurationError
from vigil.events import DeviceStatus, Reading
from vigil.ingest.directory import DeviceDirectory
from vigil.ingest.opcua import Change, NodeMap, NotNumeric, OpcUaSource, event_time, numeric
from vigil.ingest.opcua.client import change_of, parse_node_ids
from vigil.store.registry import DeviceRef

PLC, SENSOR = "plant.m1.plc", "plant.m1.sensor"
T0 = 1_700_000_000.0


def server(*nodes: OpcUaNode) -> OpcUaServer:
    return OpcUaServer(endpoint="opc.tcp://127.0.0.1:4840", tenant="plant", nodes=list(nodes))


def node(name: str, device: str = PLC, **kwargs: Any) -> OpcUaNode:
    return OpcUaNode(node_id=f"ns=2;s={name}", device=device, metric=name, **kwargs)


def directory() -> DeviceDirectory:
    return DeviceDirectory(
        [DeviceRef("plant", device, "plant.m1", i, 1) for i, device in enumerate((PLC, SENSOR))]
    )


def change(
    name: str, value: Any = 1.0, at: float | None = T0, *, bad: bool = False, **kw: Any
) -> Change:
    status = "BadSensorFailure" if bad else "Good"
    return Change(f"ns=2;s={name}", value, status, at, kw.get("server"), T0 + 100, bad)


def mapper(*nodes: OpcUaNode, floor: dict[str, int] | None = None) -> NodeMap:
    floors = floor or {}
    return NodeMap(
        server(*(nodes or (node("temperature"),))), directory(), lambda _t, d: floors.get(d)
    )


def test_numbers_are_scaled_and_booleans_are_one_or_zero() -> None:
    """A reading is the value times ``scale``; True/False are 1/0 (not scaled)."""
    assert numeric(215, node("t", scale=0.1)) == pytest.approx(21.5)
    assert numeric(2.5, node("t")) == 2.5
    assert (numeric(True, node("t", scale=10)), numeric(False, node("t"))) == (1.0, 0.0)


@pytest.mark.parametrize("value", ["running", [1.0, 2.0], b"\x00", None])
def test_anything_but_a_number_is_not_a_reading(value: object) -> None:
    with pytest.raises(NotNumeric, match="is not a number"):
        numeric(value, node("t"))


def test_event_time_is_the_source_stamp_else_the_server_stamp_else_arrival() -> None:
    assert event_time(1.0, 2.0, received=3.0) == 1.0
    assert event_time(None, 2.0, received=3.0) == 2.0
    assert event_time(None, None, received=3.0) == 3.0


def test_first_good_value_brings_the_device_online_then_a_reading() -> None:
    """Status at the receiving time, the reading at the source time with unit and
    metric, each with a seq above what Vigil already accepted for the device."""
    nodes = mapper(node("temperature", unit="degC"), floor={PLC: 41})
    events, problems = nodes.step(change("temperature", 20.5))
    assert problems == []
    status, reading = events
    assert isinstance(status, DeviceStatus) and isinstance(reading, Reading)
    assert (status.online, status.timestamp, status.seq) == (True, T0 + 100, 42)
    assert (reading.device, reading.entity, reading.metric) == (PLC, "plant.m1", "temperature")
    assert (reading.value, reading.unit, reading.timestamp, reading.seq) == (20.5, "degC", T0, 43)


def test_the_same_sample_again_is_dropped() -> None:
    """A new subscription sends each node's current value again: same source time, no
    second reading; a later sample of the same value is a reading."""
    nodes = mapper()
    nodes.step(change("temperature", 20.0, T0))
    assert nodes.step(change("temperature", 20.0, T0)) == ([], [])
    assert nodes.resent == 1
    [again], _ = nodes.step(change("temperature", 20.0, T0 + 1))
    assert isinstance(again, Reading) and again.timestamp == T0 + 1


def test_without_a_source_time_nothing_is_taken_as_re_sent() -> None:
    """Only the source's stamp identifies a sample; the server stamp is the time."""
    nodes = mapper()
    _, first = nodes.step(change("temperature", 1.0, None, server=T0))
    [second], _ = nodes.step(change("temperature", 1.0, None, server=T0))
    assert first == [] and isinstance(second, Reading) and second.timestamp == T0


def test_bad_nodes_take_the_device_offline_until_all_are_good() -> None:
    """Bad: no reading, one offline status; the device is back online only when every
    bad node of it is good again."""
    nodes = mapper(node("a"), node("b"))
    nodes.step(change("a"))
    [offline], _ = nodes.step(change("a", bad=True, at=T0 + 1))
    assert isinstance(offline, DeviceStatus) and offline.online is False
    assert nodes.step(change("b", bad=True, at=T0 + 2)) == ([], [])
    [reading], _ = nodes.step(change("a", at=T0 + 3))
    assert isinstance(reading, Reading)  # b is still bad: no online yet
    [online, _reading] = nodes.step(change("b", at=T0 + 4))[0]
    assert isinstance(online, DeviceStatus) and online.online is True


def test_a_first_bad_value_is_an_offline_status() -> None:
    [status], problems = mapper().step(change("temperature", None, bad=True))
    assert isinstance(status, DeviceStatus) and status.online is False and problems == []


def test_losing_the_server_takes_online_devices_offline_once() -> None:
    nodes = mapper(node("a"), node("s", device=SENSOR))
    nodes.step(change("a"))
    nodes.step(change("s", bad=True))
    [status] = nodes.lost(T0 + 50)
    assert (status.device, status.online, status.timestamp) == (PLC, False, T0 + 50)
    assert nodes.lost(T0 + 60) == []
    events, _ = nodes.step(change("a", at=T0 + 70))
    assert [type(e) for e in events] == [DeviceStatus, Reading]


def test_an_unregistered_device_is_unknown_device() -> None:
    events, [problem] = mapper(node("x", device="plant.m9.plc")).step(change("x"))
    assert events == [] and problem.reason == "unknown_device"
    assert problem.device == "plant.m9.plc" and "not registered" in problem.detail


def test_a_text_value_is_invalid_and_names_the_node() -> None:
    events, [problem] = mapper(node("state")).step(change("state", "running"))
    assert [type(e) for e in events] == [DeviceStatus]  # the node itself is fine
    assert problem.reason == "invalid_event"
    assert problem.detail == (
        "OPC UA node 'ns=2;s=state' (plant.m1.plc state): a value of type str is not a number"
    )


def test_a_node_the_server_will_not_monitor_is_unknown_node() -> None:
    problem = mapper().unmonitored("ns=2;s=temperature", "BadNodeIdUnknown")
    assert problem.reason == "unknown_node" and problem.device == PLC
    assert "BadNodeIdUnknown" in problem.detail and "'temperature'" in problem.detail


def test_data_values_become_plain_changes() -> None:
    """Source and server stamps to epoch seconds; a Bad status code is marked bad."""
    stamp = datetime(2024, 1, 1, tzinfo=UTC)
    good = ua.DataValue(ua.Variant(1.5), SourceTimestamp=stamp, ServerTimestamp=stamp)
    assert change_of("n", 1.5, good, received=9.0) == Change(
        "n", 1.5, "Good", 1704067200.0, 1704067200.0, 9.0, False
    )
    failed = ua.DataValue(StatusCode=ua.StatusCode(ua.StatusCodes.BadSensorFailure))
    bad = change_of("n", None, failed, received=9.0)
    assert (bad.bad, bad.status, bad.source_time) == (True, "BadSensorFailure", None)


def test_node_ids_are_parsed_against_their_text() -> None:
    [(parsed, text)] = parse_node_ids(server(node("m1.temperature"))).items()
    assert parsed == ua.NodeId("m1.temperature", 2) and text == "ns=2;s=m1.temperature"


def test_settings_refuse_a_malformed_node_id_and_a_node_twice(tmp_path: Any) -> None:
    path = tmp_path / "vigil.toml"
    path.write_text(
        '[[opcua.servers]]\nendpoint = "opc.tcp://h:4840"\ntenant = "plant"\n'
        '[[opcua.servers.nodes]]\nnode_id = "Temperature"\ndevice = "d"\nmetric = "t"\n'
    )
    with pytest.raises(ConfigurationError, match=r"opcua\.servers\.0\.nodes\.0\.node_id"):
        load_settings(path)
    twice = [node("t"), node("t")]
    with pytest.raises(ValueError, match="listed twice"):
        OpcUaServer(endpoint="opc.tcp://h:4840", tenant="plant", nodes=twice)


def test_settings_from_toml() -> None:
    """The shape docs/ingest.md shows."""
    settings = load_settings(
        None,
        opcua={
            "enabled": True,
            "servers": [
                {
                    "endpoint": "opc.tcp://10.1.2.3:4840",
                    "tenant": "plant",
                    "nodes": [{"node_id": "i=2258", "device": "d", "metric": "m", "scale": 2}],
                }
            ],
        },
    )
    assert settings.opcua.servers[0].nodes[0].scale == 2.0


class _Ingestor:
    """What ``OpcUaSource`` uses of the ingest service, recording the calls."""

    def __init__(self) -> None:
        self.directory = directory()
        self.sequences = type("Seq", (), {"last": staticmethod(lambda _t, _d: None)})()
        self.rejected: list[tuple[str | None, str]] = []
        self.ingested: list[tuple[str, int, int]] = []

    async def record_rejection(self, err: Any, *, tenant: str | None, **_kw: Any) -> None:
        self.rejected.append((tenant, err.reason))

    async def ingest_events(self, events: list[Any], *, tenant: str, **kw: Any) -> None:
        self.ingested.append((tenant, len(events), len(kw["decode_rejections"])))


async def test_a_tenant_with_no_devices_is_dead_lettered_with_no_tenant() -> None:
    """A server configured for a tenant Vigil does not know: every change is kept as a
    dead letter that no tenant's page shows, nothing is written under that tenant."""
    unknown = OpcUaServer(endpoint="opc.tcp://h:4840", tenant="nowhere", nodes=[node("t")])
    ingestor = _Ingestor()
    source = OpcUaSource(unknown, OpcUaSettings(), ingestor)  # type: ignore[arg-type]
    await source._commit(*source._prepare([change("t")]))
    assert ingestor.rejected == [(None, "unknown_device")] and ingestor.ingested == []


async def test_changes_are_written_in_one_batch_with_their_rejections() -> None:
    ingestor = _Ingestor()
    source = OpcUaSource(server(node("t"), node("s")), OpcUaSettings(), ingestor)  # type: ignore[arg-type]
    await source._commit(*source._prepare([change("t", 1.0), change("s", "text")]))
    assert ingestor.ingested == [("plant", 2, 1)]  # online + reading; the text refused
