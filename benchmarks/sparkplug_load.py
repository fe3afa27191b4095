"""The Sparkplug B load generator of benchmarks/ingest.py (``--sparkplug``).

Simulated edge nodes, one MQTT connection each (its Will an NDEATH), publish
NBIRTH, a DBIRTH per device (a machine's PLC: every metric's name, alias and
datatype), then DDATA by alias only, with the 0-255 wrapping ``seq`` of each
node over all its messages, through the real Mosquitto into the benchmark
server's Sparkplug host (benchmarks/ingest_server.py ``--sparkplug-group``).
Payloads are encoded with Vigil's own codec (``vigil.ingest.sparkplug.codec``),
DDATA bodies before the clock starts for the throughput runs.

A DDATA carries the PLC's cumulative ``cycle_count``, ``good_count`` and
``reject_count`` (what ``MachineOEE`` counts) and ``PROCESS_VALUES`` process
values (temperatures, pressures, currents: what the monitoring operators see).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from vigil.ingest.sparkplug.codec import DataType, Metric, Payload, encode_payload

NS = "spBv1.0"
COUNTERS = ("cycle_count", "good_count", "reject_count")
PROCESS_VALUES = 27
METRICS_PER_DDATA = len(COUNTERS) + PROCESS_VALUES
"""30 metrics a DDATA (the issue's 20-50)."""
ALIAS_BASE = 100
"""Aliases of the DDATA metrics: 100, 101, ... (``state`` is alias 99, birth only)."""
PROCESS_NAMES = tuple(
    f"{kind}_{n:02d}"
    for n, kind in zip(
        range(PROCESS_VALUES),
        ("temperature", "pressure", "current") * (PROCESS_VALUES // 3 + 1),
        strict=False,
    )
)


def now_ms() -> int:
    return int(time.time() * 1000)


class Machine:
    """One PLC's counters: a part every ~30 s of event time, about 2% of them rejected."""

    def __init__(self, device: str, rng: random.Random) -> None:
        self.device = device
        self.rng = rng
        self.cycles = self.good = self.rejects = 0
        self.base = [rng.uniform(20.0, 80.0) for _ in range(PROCESS_VALUES)]

    def step(self) -> list[float]:
        if self.rng.random() < 1 / 30:
            self.cycles += 1
            if self.rng.random() < 0.02:
                self.rejects += 1
            else:
                self.good += 1
        rng = self.rng
        return [b + rng.gauss(0.0, 0.5) for b in self.base]


class EdgeNode:
    """One Sparkplug edge node with its devices, over its own MQTT connection."""

    def __init__(self, group: str, node: str, devices: list[str], seed: int = 0) -> None:
        self.group, self.node = group, node
        self.machines = [Machine(d, random.Random(f"{seed}:{node}:{d}")) for d in devices]
        self.seq = 0
        self.bdseq = 0
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"bench-edge-{node}-{uuid.uuid4().hex[:6]}",
            protocol=paho.MQTTv311,
        )
        self.client.max_queued_messages_set(0)
        self.client.max_inflight_messages_set(1000)
        death = Payload(timestamp=now_ms(), metrics=[self._bdseq_metric()])
        self.client.will_set(self.topic("NDEATH"), encode_payload(death), qos=1)

    def topic(self, verb: str, device: str | None = None) -> str:
        base = f"{NS}/{self.group}/{verb}/{self.node}"
        return base if device is None else f"{base}/{device}"

    def _bdseq_metric(self) -> Metric:
        return Metric(name="bdSeq", timestamp=now_ms(), datatype=DataType.INT64, value=self.bdseq)

    def next_seq(self) -> int:
        seq, self.seq = self.seq, (self.seq + 1) % 256
        return seq

    def connect(self, host: str = "127.0.0.1", port: int = 1883) -> None:
        self.client.connect(host, port, keepalive=60)
        self.client.loop_start()

    def births(self) -> list[tuple[str, bytes]]:
        """NBIRTH, then a DBIRTH per device (state ``running``, every metric's alias)."""
        ts = now_ms()
        self.seq = 0
        control = Metric(
            name="Node Control/Rebirth", timestamp=ts, datatype=DataType.BOOLEAN, value=False
        )
        nbirth = Payload(timestamp=ts, seq=self.next_seq(), metrics=[self._bdseq_metric(), control])
        messages = [(self.topic("NBIRTH"), encode_payload(nbirth))]
        for machine in self.machines:
            metrics = [
                Metric(name="state", alias=99, timestamp=ts, datatype=DataType.STRING,
                       value="running"),
                *self._metrics(machine, ts, machine.step(), named=True),
            ]  # fmt: skip
            payload = Payload(timestamp=ts, seq=self.next_seq(), metrics=metrics)
            messages.append((self.topic("DBIRTH", machine.device), encode_payload(payload)))
        return messages

    def _metrics(
        self, machine: Machine, ts: int, values: list[float], *, named: bool = False
    ) -> list[Metric]:
        counters = (machine.cycles, machine.good, machine.rejects)
        metrics = [
            Metric(
                name=name if named else None,
                alias=ALIAS_BASE + i,
                timestamp=ts,
                datatype=DataType.UINT64,
                value=value,
            )
            for i, (name, value) in enumerate(zip(COUNTERS, counters, strict=True))
        ]
        metrics += [
            Metric(
                name=name if named else None,
                alias=ALIAS_BASE + len(COUNTERS) + i,
                timestamp=ts,
                datatype=DataType.DOUBLE,
                value=round(value, 3),
            )
            for i, (name, value) in enumerate(zip(PROCESS_NAMES, values, strict=True))
        ]
        return metrics

    def ddata(self, machine: Machine, ts: int) -> tuple[str, bytes]:
        """The machine's next DDATA, by alias only, at ``ts`` (ms), with the node's next seq."""
        payload = Payload(
            timestamp=ts, seq=self.next_seq(), metrics=self._metrics(machine, ts, machine.step())
        )
        return self.topic("DDATA", machine.device), encode_payload(payload)

    def publish(self, topic: str, body: bytes, qos: int = 0) -> paho.MQTTMessageInfo:
        return self.client.publish(topic, body, qos=qos)

    def close(self) -> None:
        """A clean stop: NDEATH (this session's bdSeq), then DISCONNECT."""
        death = Payload(timestamp=now_ms(), metrics=[self._bdseq_metric()])
        info = self.client.publish(self.topic("NDEATH"), encode_payload(death), qos=1)
        info.wait_for_publish(5)
        self.client.disconnect()
        self.client.loop_stop()


def edge_nodes(group: str, machines: list[tuple[str, str, str]]) -> list[EdgeNode]:
    """Edge nodes for ``(node, device, entity)`` as the server registered them."""
    by_node: dict[str, list[str]] = {}
    for node, device, _ in machines:
        by_node.setdefault(node, []).append(device)
    return [EdgeNode(group, node, devices) for node, devices in by_node.items()]


def pre_encode(nodes: list[EdgeNode], rounds: int) -> list[list[tuple[str, bytes]]]:
    """Per node, ``rounds`` DDATA of each of its machines, one second of event time
    apart, ending about now (ingest refuses times far ahead): a 1 Hz PLC each."""
    start = now_ms() - (rounds + 1) * 1000
    return [
        [node.ddata(machine, start + k * 1000) for k in range(rounds) for machine in node.machines]
        for node in nodes
    ]


async def publish_all(
    nodes: list[EdgeNode], bodies: list[list[tuple[str, bytes]]], qos: int = 0
) -> float:
    """Publish every node's messages, interleaving the nodes, each node's in its order;
    returns when the client library has handed the last to the broker (seconds taken)."""
    started = time.perf_counter()
    infos = []
    longest = max(len(b) for b in bodies)
    for i in range(longest):
        for node, messages in zip(nodes, bodies, strict=True):
            if i < len(messages):
                infos.append(node.publish(*messages[i], qos=qos))
        if i % 10 == 0:
            await asyncio.sleep(0)
    for info in infos:
        await asyncio.to_thread(info.wait_for_publish, 120)
    return time.perf_counter() - started


async def at_rate(
    nodes: list[EdgeNode], metrics_per_second: int, seconds: float, qos: int = 0
) -> int:
    """DDATA at a fixed rate, round-robin over every machine, each stamped (ms) just
    before it is published; returns the messages sent."""
    pairs = [(node, machine) for node in nodes for machine in node.machines]
    interval = METRICS_PER_DDATA / metrics_per_second
    count = int(seconds / interval)
    start = time.perf_counter()
    for i in range(count):
        await asyncio.sleep(max(0.0, start + i * interval - time.perf_counter()))
        node, machine = pairs[i % len(pairs)]
        node.publish(*node.ddata(machine, now_ms()), qos=qos)
    return count


def clear_retained(topic: str) -> None:
    """Remove a retained message (the bench host's STATE) so the broker keeps nothing of the run."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-clean-{uuid.uuid4().hex}")
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


def wait_for(condition: Callable[[], Any], what: str, timeout: float) -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


# -- the section ---------------------------------------------------------------------------


def _sparkplug(server: Any) -> dict:
    return server.probe("status")["sparkplug"]


def birth(server: Any, nodes: list[EdgeNode]) -> None:
    """Connect the edge nodes once the host is online, send their births, wait for them."""
    wait_for(lambda: _sparkplug(server)["online"], "the Sparkplug host to come online", 30)
    before = _sparkplug(server)["acknowledged"]
    messages = 0
    for node in nodes:
        node.connect()
        for topic, body in node.births():
            node.publish(topic, body, qos=0).wait_for_publish(10)
            messages += 1
    wait_for(lambda: _sparkplug(server)["acknowledged"] - before >= messages, "the births", 120)
    server.wait_processed(server.probe("status")["log_offset"])


def throughput(server: Any, nodes: list[EdgeNode], total: int, costs: Callable) -> dict:
    """``total`` metrics (rounded down to whole rounds of every machine) as pre-encoded
    DDATA; the clock stops once every message is committed (the host acknowledges a
    message after its commit) and the operators have processed the log up to there."""
    machines = sum(len(node.machines) for node in nodes)
    rounds = max(1, total // (METRICS_PER_DDATA * machines))
    bodies = pre_encode(nodes, rounds)
    sent = sum(len(b) for b in bodies)
    before = server.probe("status")
    acked = before["sparkplug"]["acknowledged"]
    started = time.perf_counter()
    handed = asyncio.run(publish_all(nodes, bodies))
    status, progressed = settled(server, acked + sent)
    committed = status["sparkplug"]["acknowledged"] - acked
    server.wait_processed(status["log_offset"])
    done = time.perf_counter() if committed == sent else progressed
    metrics = committed * METRICS_PER_DDATA
    after = server.probe("status")
    run_costs = costs(before, after, max(1, metrics))
    return {
        "messages": sent,
        "messages_lost": sent - committed,
        "metrics": metrics,
        "metrics_per_second": metrics / (done - started),
        "published_per_second": metrics / handed,
        "seconds": done - started,
        "server_cpu_us_per_metric": run_costs.pop("server_cpu_us_per_reading"),
        **run_costs,
        "rebirths_requested": after["sparkplug"]["rebirths_requested"]
        - before["sparkplug"]["rebirths_requested"],
        "dead_letters": after["sparkplug"]["dead_letters"],
    }


def settled(
    server: Any, target: int, quiet: float = 5.0, limit: float = 900.0
) -> tuple[dict, float]:
    """The status once the host has committed ``target`` messages in all, or once it has
    received nothing new for ``quiet`` seconds and committed all it received: DDATA go
    at QoS 0 (as Sparkplug requires), so a broker under load may drop some, and
    those are reported (``messages_lost``), never waited for. Also returns when the
    last commit was seen (``perf_counter``), so the quiet wait is not counted."""
    deadline, last, since = time.time() + limit, -1, time.time()
    acked, progressed = -1, time.perf_counter()
    while time.time() < deadline:
        status = server.probe("status")
        spb = status["sparkplug"]
        if spb["acknowledged"] != acked:
            acked, progressed = spb["acknowledged"], time.perf_counter()
        if spb["acknowledged"] >= target:
            return status, progressed
        if spb["messages"] != last:
            last, since = spb["messages"], time.time()
        elif spb["acknowledged"] >= spb["messages"] and time.time() - since > quiet:
            return status, progressed
        time.sleep(0.1)
    raise RuntimeError("the Sparkplug host did not commit the messages it received")


def latency(server: Any, nodes: list[EdgeNode], rate: int, seconds: float) -> dict:
    """DDATA at ``rate`` metrics/s for ``seconds``: latency from each message to the
    machine's updated OEE (``OeeProbe`` in the server)."""
    server.probe("start")
    sent = asyncio.run(at_rate(nodes, rate, seconds))
    time.sleep(1.0)
    summary = server.probe("stop")
    return {
        "rate_metrics_per_second": rate,
        "seconds": seconds,
        "messages": sent,
        "oee_updates": summary["count"],
        **{k: summary[k] for k in ("p50_ms", "p99_ms", "max_ms") if k in summary},
    }


def run_section(
    server: Any,
    group: str,
    machines: list[tuple[str, str, str]],
    *,
    total: int,
    repeat: int,
    rate: int,
    seconds: float,
    costs: Callable,
) -> dict:
    """Births, ``repeat`` throughput runs (median), then the latency run; every edge
    node ends with an NDEATH and the host's retained STATE is removed from the broker."""
    nodes = edge_nodes(group, machines)
    try:
        birth(server, nodes)
        runs = []
        for i in range(repeat):
            runs.append(throughput(server, nodes, total, costs))
            print(
                f"  run {i + 1}/{repeat}: {runs[-1]['metrics_per_second']:,.0f} metrics/s, "
                f"server CPU {runs[-1]['server_cpu_us_per_metric']:.1f} µs a metric"
            )
        lat = latency(server, nodes, rate, seconds)
    finally:
        for node in nodes:
            with contextlib.suppress(OSError, RuntimeError, ValueError):
                node.close()
    rates = [r["metrics_per_second"] for r in runs]
    return {
        "group": group,
        "edge_nodes": len(nodes),
        "devices": len(machines),
        "metrics_per_ddata": METRICS_PER_DDATA,
        "qos": 0,
        "metrics_per_second": statistics.median(rates),
        "min_metrics_per_second": min(rates),
        "max_metrics_per_second": max(rates),
        "server_cpu_us_per_metric": statistics.median(r["server_cpu_us_per_metric"] for r in runs),
        "runs": runs,
        "latency": lat,
        "p99_ms": lat.get("p99_ms"),
        "p50_ms": lat.get("p50_ms"),
    }
