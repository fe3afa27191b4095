"""The Sparkplug host's pure parts: codec (checked against pysparkplug), the edge-node
session rules, the mapping's seq, and the order of the host's first MQTT packets."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.integration.sparkplug_edge import metric, now_ms, sp
from vigil.config import MqttSettings, SparkplugSettings
from vigil.ingest.directory import DeviceDirectory
from vigil.ingest.sparkplug import (
    DataType,
    EdgeSessions,
    EventMapper,
    Metric,
    Payload,
    SparkplugTopic,
    decode_payload,
    encode_payload,
)
from vigil.ingest.sparkplug.host import SparkplugHost, connect_properties, rebirth_payload
from vigil.store.registry import DeviceRef

T = sp.DataType


def test_codec_reads_what_pysparkplug_writes() -> None:
    """Every mapped datatype, signed integers in their unsigned carrier included, decodes to
    the value pysparkplug encoded."""
    ts = now_ms()
    values = [
        ("i8", T.INT8, -5, -5.0),
        ("i32", T.INT32, -70000, -70000.0),
        ("i64", T.INT64, -(2**40), float(-(2**40))),
        ("u64", T.UINT64, 2**63, float(2**63)),
        ("f", T.FLOAT, 1.5, 1.5),
        ("d", T.DOUBLE, 2.25, 2.25),
        ("b", T.BOOLEAN, True, True),
        ("s", T.STRING, "running", "running"),
    ]
    metrics = tuple(metric(n, i, v, t, ts) for i, (n, t, v, _) in enumerate(values))
    raw = sp.DBirth(timestamp=ts, seq=4, metrics=metrics).encode(include_dtypes=True)
    sessions = EdgeSessions()
    topic = SparkplugTopic("g", "NBIRTH", "n")
    bdseq = Metric(name="bdSeq", datatype=DataType.INT64, value=0, timestamp=ts)
    sessions.step(topic, Payload(timestamp=ts, seq=3, metrics=[bdseq]), 0.0)
    out = sessions.step(SparkplugTopic("g", "DBIRTH", "n", "d"), decode_payload(raw), 0.0)
    assert [(s.metric, s.value) for s in out.samples] == [(n, want) for n, _, _, want in values]
    assert out.problems == []


def test_pysparkplug_reads_our_rebirth_command() -> None:
    """[tck-id-operational-behavior-data-commands-ncmd-rebirth-name]
    [tck-id-operational-behavior-data-commands-ncmd-rebirth-value]: the NCMD body is
    'Node Control/Rebirth', Boolean, true, as another implementation reads it."""
    command = sp.NCmd.decode(rebirth_payload(1_700_000_000_000))
    [rebirth] = command.metrics
    assert (rebirth.name, rebirth.datatype, rebirth.value) == (
        "Node Control/Rebirth",
        T.BOOLEAN,
        True,
    )
    assert command.timestamp == 1_700_000_000_000


def _born(sessions: EdgeSessions, *, bdseq: int = 1) -> None:
    metrics = [
        Metric(name="bdSeq", datatype=DataType.INT64, value=bdseq),
        Metric(name="t", alias=1, datatype=DataType.DOUBLE, value=1.0, timestamp=1000),
    ]
    sessions.step(
        SparkplugTopic("g", "NBIRTH", "n"), Payload(timestamp=1000, seq=0, metrics=metrics), 0.0
    )


def _ndata(sessions: EdgeSessions, seq: int, now: float, alias: int = 1) -> Any:
    data = Payload(timestamp=2000, seq=seq, metrics=[Metric(alias=alias, value=2.0)])
    return sessions.step(SparkplugTopic("g", "NDATA", "n"), data, now)


def test_gap_filled_within_the_reorder_timeout_needs_no_rebirth() -> None:
    """[tck-id-operational-behavior-host-reordering-success]: a late message that fills the
    gap before the Reorder Timeout stops the timer; no rebirth."""
    sessions = EdgeSessions(reorder_timeout=1.0)
    _born(sessions)
    assert not _ndata(sessions, 2, now=10.0).rebirth  # 1 is missing: the timer starts
    assert not _ndata(sessions, 1, now=10.5).rebirth  # ... and 1 arrives
    assert sessions.due(12.0) == []
    assert _ndata(sessions, 3, now=12.0).problems == []


def test_gap_not_filled_is_due_after_the_reorder_timeout() -> None:
    """[tck-id-operational-behavior-host-reordering-param]
    [tck-id-operational-behavior-host-reordering-start]
    [tck-id-operational-behavior-host-reordering-rebirth]: the timeout is a parameter;
    once it elapses with the gap open, the node is due for a rebirth, once."""
    sessions = EdgeSessions(reorder_timeout=1.0)
    _born(sessions)
    _ndata(sessions, 5, now=10.0)
    assert sessions.due(10.9) == []
    assert sessions.due(11.0) == [("g", "n")]
    assert sessions.due(20.0) == []


def test_data_before_birth_asks_for_a_rebirth_at_most_once_an_interval() -> None:
    """Spec 5.15: data from a node the host has no birth of is a reason to ask for a
    rebirth; a node that keeps sending is asked once per ``rebirth_interval``."""
    sessions = EdgeSessions(rebirth_interval=5.0)
    asked = [_ndata(sessions, 1, now=t).rebirth for t in (0.0, 1.0, 4.9, 5.0)]
    assert asked == [True, False, False, True]
    assert _ndata(sessions, 1, now=6.0).problems[0].reason == "no_birth"


def test_unknown_alias_is_a_problem_and_a_rebirth() -> None:
    """An alias no BIRTH defined cannot be named: refused, and the node asked to rebirth."""
    sessions = EdgeSessions()
    _born(sessions)
    out = _ndata(sessions, 1, now=0.0, alias=9)
    assert [p.reason for p in out.problems] == ["unknown_alias"] and out.rebirth


def test_ndeath_matches_the_birth_by_bdseq() -> None:
    """A death with the birth's bdSeq ends the session (devices offline at the host's time);
    another bdSeq (an earlier session's Will) is ignored."""
    sessions = EdgeSessions()
    _born(sessions, bdseq=3)
    topic = SparkplugTopic("g", "NDEATH", "n")
    stale = sessions.step(topic, Payload(metrics=[Metric(name="bdSeq", value=2)]), 50.0)
    assert [p.reason for p in stale.problems] == ["stale_death"] and stale.presence == []
    dead = sessions.step(topic, Payload(metrics=[Metric(name="bdSeq", value=3)]), 60.0)
    assert [(p.device, p.online, p.time) for p in dead.presence] == [(None, False, 60.0)]
    assert _ndata(sessions, 1, now=61.0).problems[0].reason == "no_birth"


def test_mapped_seq_starts_above_what_vigil_accepted() -> None:
    """Vigil's seq is the host's own per device: above the highest accepted (a restart), and
    rising across Sparkplug's wrap and rebirths."""
    directory = DeviceDirectory([DeviceRef("g", "g.n.d", "g.n", 1, 1)])
    mapper = EventMapper(directory, lambda tenant, device: 100)
    from vigil.ingest.sparkplug import Sample

    events, problems = mapper.events("g", "n", [Sample("d", "t", 1.0, 5.0)] * 3, [])
    assert [e.seq for e in events] == [101, 102, 103] and problems == []
    _, problems = mapper.events("g", "n", [Sample("x", "t", 1.0, 5.0)], [])
    assert [p.reason for p in problems] == ["unknown_device"]


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def subscribe(self, topics: Any) -> None:
        self.calls.append(("subscribe", topics))

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        self.calls.append(("publish", (topic, qos, retain)))


class _Ok:
    is_failure = False


async def test_host_subscribes_before_it_publishes_its_birth() -> None:
    """[tck-id-host-topic-phid-birth-sub-required] [tck-id-message-flow-phid-sparkplug-subscription]
    [tck-id-host-topic-phid-birth-required] [tck-id-host-topic-phid-birth-message]: on
    connect the host subscribes to its groups and its own STATE topic; its first publish,
    once subscribed, is its birth. [tck-id-message-flow-phid-sparkplug-clean-session-50]:
    the CONNECT asks for no session expiry (and ``run`` connects with Clean Start)."""
    host = SparkplugHost(
        MqttSettings(), SparkplugSettings(host_id="h", groups=["plant"]), _Ingestor()
    )
    client = host._client(asyncio.get_running_loop(), asyncio.Queue())
    fake = _Recorder()
    client.on_connect(fake, None, None, _Ok(), None)
    client.on_subscribe(fake, None, 1, [], None)
    assert fake.calls == [
        ("subscribe", [("spBv1.0/plant/#", 1), ("spBv1.0/STATE/h", 1)]),
        ("publish", ("spBv1.0/STATE/h", 1, True)),
    ]
    assert connect_properties().SessionExpiryInterval == 0


class _Ingestor:
    directory = DeviceDirectory()

    class sequences:  # noqa: N801
        @staticmethod
        def last(tenant: str, device: str) -> None:
            return None


@pytest.mark.parametrize(
    "datatype", [DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64]
)
def test_signed_integers_round_trip(datatype: DataType) -> None:
    """Our own encoder (simulator, NCMD) and decoder agree on negative integers."""
    raw = encode_payload(Payload(seq=1, metrics=[Metric(name="x", datatype=datatype, value=-1)]))
    [decoded] = decode_payload(raw).metrics
    from vigil.ingest.sparkplug.codec import metric_value

    assert metric_value(decoded.datatype, decoded.value) == -1.0
