"""Sustained ingest throughput and arrival-to-output latency, over HTTP and over MQTT.

Each transport gets a fresh server process (benchmarks/ingest_server.py: SQLite
with synchronous=FULL, both foundation operators on) and a load generator in
this process, so the two share the machine's two cores as a gateway and a
server would. Throughput counts a reading only once it is committed to the log
*and* processed by every operator. Latency is measured at a fixed load, from the
reading's arrival at ingest to the operator's output.

    python benchmarks/ingest.py            # HTTP and MQTT on SQLite (about 4 minutes)
    python benchmarks/ingest.py --quick    # a short smoke run
    python benchmarks/ingest.py --all      # and the four sections below (about 25 minutes)

Further sections, each off unless asked for, each with a short form under --quick:
--sparkplug (Sparkplug B DDATA through Mosquitto into the factory's OEE operators:
``sparkplug.metrics_per_second`` and ``sparkplug.p99_ms``; benchmarks/sparkplug_load.py),
--postgresql (the HTTP runs on PostgreSQL, and the log insert's client CPU a row),
--influxdb (InfluxDB 1.x on the same readings: ``influxdb_ratio``), --scale (the rate
at 100,000 devices on 100,000 entities over the rate at 5,000: ``devices_100k_ratio``,
and memory per device key) and --pages (page p99 at 100,000 entities and 10 million
readings while ingest runs at 5,000/s). See docs/benchmarks.md.

Knobs for experiments (the reported figures use neither): VIGIL_BENCH_SYNCHRONOUS=NORMAL
runs the server's SQLite without an fsync per commit; VIGIL_BENCH_SWITCH=0.001 sets the
server's GIL switch interval.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
import numpy as np

import pg_insert
import sparkplug_load
from ingest_server import plant_machines, shape
from machine_info import machine
from pg_insert import scratch_database
from vigil.clients import MqttSink
from vigil.events import Batch, Reading, encode_json

HERE = Path(__file__).parent
RESULTS = HERE / "results"
PUBLISHED = {
    "reference": "best-known open IoT platform, 2 vCPUs, storage and rules on",
    "reference_points_per_second": 15_000,
}
TARGETS = {"readings_per_second": 50_000, "p99_ms_at_5000_per_second": 50}
TENANTS = ("north-council", "south-council")
DEFAULT_PAGES = "overview_page=/,entity_page=/entities/{entity},alert_queue=/alerts"
"""The pages probed at scale; their p99 is reported as ``{name}_p99_ms``."""


class KeepAliveClient:
    """A minimal HTTP/1.1 client over one kept-alive connection.

    The load generator shares this 2-core machine with the server, whereas real
    gateways are other machines; httpx spent a noticeable part of a core per
    request, so the lanes send pre-built requests with plain asyncio streams.
    """

    def __init__(self, url: str) -> None:
        self.host, _, port = url.removeprefix("http://").partition(":")
        self.port = int(port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(
        self, path: str, body: bytes, token: str | None, content_type: str = "application/json"
    ) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n{auth}"
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return int(status_line.split()[1]), await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    domains = "monitoring"
    """Whose operators the server runs (``--domains``)."""

    def __init__(
        self,
        devices: int,
        entities: int,
        mqtt_prefix: str | None = None,
        store_url: str | None = None,
        extra: list[str] | None = None,
    ) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="vigil-bench-")
        self.port = free_port()
        database = str(Path(self.dir.name) / "bench.db")
        store = ["--store-url", store_url] if store_url else ["--db", database]
        command = [
            sys.executable, str(HERE / "ingest_server.py"), *store,
            "--port", str(self.port), "--devices", str(devices), "--entities", str(entities),
        ]  # fmt: skip
        if mqtt_prefix:
            command += ["--mqtt-prefix", mqtt_prefix]
        command += ["--domains", self.domains, *(extra or [])]
        if os.environ.get("VIGIL_BENCH_SWITCH"):
            command += ["--switch-interval", os.environ["VIGIL_BENCH_SWITCH"]]
        if os.environ.get("VIGIL_BENCH_SYNCHRONOUS"):
            command += ["--synchronous", os.environ["VIGIL_BENCH_SYNCHRONOUS"]]
        self.command = command
        self.process = subprocess.Popen(command)
        self.sequences: dict[str, int] = {}
        self.url = f"http://127.0.0.1:{self.port}"
        self.devices = shape(devices, entities)

    def wait_ready(self) -> None:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("benchmark server did not start")

    def probe(self, action: str) -> dict:
        return httpx.post(f"{self.url}/bench/probe/{action}", timeout=30).json()

    def tokens(self, role: str = "gateway") -> dict[str, str]:
        return httpx.get(f"{self.url}/bench/tokens", params={"role": role}, timeout=30).json()

    def state(self) -> dict:
        """The server's resident memory and the operator state checkpointed in its store."""
        return httpx.get(f"{self.url}/bench/state", timeout=120).json()

    def wait_processed(self, offset: int, timeout: float = 600) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.probe("status")["processed_offset"] >= offset:
                return
            time.sleep(0.1)
        raise RuntimeError(f"operators did not reach offset {offset}")

    def restart(self) -> None:
        """A new server process on the same database (and the same MQTT session)."""
        self.process.terminate()
        self.process.wait(30)
        self.process = subprocess.Popen(self.command)
        self.wait_ready()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        self.dir.cleanup()


class Workload:
    """Readings round-robin over the given devices, each device's sequence increasing."""

    def __init__(self, devices: list[tuple[str, str, str]], sequences: dict[str, int]) -> None:
        self.devices = devices
        self.seq = sequences
        """Shared by every workload against one server: sequences never go back."""
        self.cursor = 0
        self.by_tenant: dict[str, list[tuple[str, str, str]]] = {}
        for device in devices:
            self.by_tenant.setdefault(device[0], []).append(device)

    def batch(self, size: int, tenant: str, now: float) -> bytes:
        return encode_json(Batch(events=self.readings(size, tenant, now)))

    def lines(self, size: int, tenant: str, now: float) -> bytes:
        """The same readings as InfluxDB line protocol (nanosecond times)."""
        return "\n".join(
            f"{r.metric},tenant={r.tenant},entity={r.entity},device={r.device} "
            f"value={r.value},seq={r.seq}i {round(r.timestamp * 1e9)}"
            for r in self.readings(size, tenant, now)
        ).encode()

    def readings(self, size: int, tenant: str, now: float) -> list[Reading]:
        events = []
        tenant_devices = self.by_tenant[tenant]
        for i in range(size):
            _, entity, device = tenant_devices[(self.cursor + i) % len(tenant_devices)]
            self.seq[device] = self.seq.get(device, 0) + 1
            events.append(
                Reading(
                    tenant=tenant,
                    device=device,
                    entity=entity,
                    seq=self.seq[device],
                    time=now + i * 1e-5,
                    metric="temperature",
                    value=20.0 + (i % 50) / 10,
                )
            )
        self.cursor += size
        return events


def pre_encode(
    workload: Workload, total: int, batch: int, *, lines: bool = False
) -> list[tuple[str, bytes]]:
    """(tenant, body) pairs, encoded before the clock starts. Event times rise through
    the run, as live devices' do, ending about now (the server refuses future times)."""
    count = total // batch
    start = time.time() - count * batch * 1e-5 - 1.0
    tenants = sorted({tenant for tenant, _, _ in workload.devices})
    bodies = []
    for i in range(count):
        tenant = tenants[i % len(tenants)]
        encode = workload.lines if lines else workload.batch
        bodies.append((tenant, encode(batch, tenant, start + i * batch * 1e-5)))
    return bodies


def lanes_of(devices: list[tuple[str, str, str]], lanes: int) -> list[list[tuple[str, str, str]]]:
    """Disjoint device sets, each within one tenant: a device's batches stay in one lane,
    so they arrive in sequence order however the lanes interleave."""
    result = []
    for tenant in TENANTS:
        mine = [d for d in devices if d[0] == tenant]
        share = lanes // len(TENANTS)
        result += [mine[i::share] for i in range(share)]
    return result


async def http_throughput(server: Server, total: int, batch: int, lanes: int) -> dict:
    tokens = server.tokens()
    batches = total // batch  # shared out so that exactly ``total`` readings are sent
    lanes_bodies = [
        pre_encode(
            Workload(devices, server.sequences),
            (batches // lanes + (i < batches % lanes)) * batch,
            batch,
        )
        for i, devices in enumerate(lanes_of(server.devices, lanes))
    ]
    bodies = [body for lane in lanes_bodies for body in lane]
    before = server.probe("status")
    start_offset = before["log_offset"]

    async def lane(items: list[tuple[str, bytes]]) -> None:
        client = KeepAliveClient(server.url)
        for tenant, body in items:
            status, answer = await client.post("/api/v1/ingest", body, tokens[tenant])
            assert status == 200, answer[:300]
            assert json.loads(answer)["accepted"] == batch, answer[:300]
        await client.close()

    started = time.perf_counter()
    await asyncio.gather(*(lane(items) for items in lanes_bodies))
    acked = time.perf_counter()
    server.wait_processed(start_offset + len(bodies) * batch)
    done = time.perf_counter()
    status = server.probe("status")
    sent = len(bodies) * batch
    return {
        "readings": sent,
        "readings_per_second": sent / (done - started),
        "acknowledged_per_second": sent / (acked - started),
        "seconds": done - started,
        **server_costs(before, status, sent),
    }


async def http_latency(server: Server, rate: int, seconds: float, batch: int) -> dict:
    tokens = server.tokens()
    workload = Workload(server.devices, server.sequences)
    interval = batch / rate
    acks: list[float] = []
    server.probe("start")
    clients = [KeepAliveClient(server.url) for _ in range(8)]
    idle = asyncio.Queue()
    for client in clients:
        idle.put_nowait(client)

    async def send(tenant: str, body: bytes) -> None:
        client = await idle.get()  # one request per connection at a time
        sent_at = time.perf_counter()
        status, answer = await client.post("/api/v1/ingest", body, tokens[tenant])
        acks.append(time.perf_counter() - sent_at)
        idle.put_nowait(client)
        assert status == 200, answer[:300]

    tasks = []
    start = time.perf_counter()
    for i in range(int(seconds * rate / batch)):
        due = start + i * interval
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        tenant = TENANTS[i % len(TENANTS)]
        body = workload.batch(batch, tenant, time.time())
        tasks.append(asyncio.create_task(send(tenant, body)))
    await asyncio.gather(*tasks)
    for client in clients:
        await client.close()
    time.sleep(0.5)
    summary = server.probe("stop")
    ack_ms = np.array(acks) * 1000
    return {
        "rate": rate,
        "seconds": seconds,
        "p50_ms": summary["p50_ms"],
        "p99_ms": summary["p99_ms"],
        "max_ms": summary["max_ms"],
        "outputs": summary["count"],
        "ack_p50_ms": float(np.percentile(ack_ms, 50)),
        "ack_p99_ms": float(np.percentile(ack_ms, 99)),
    }


async def mqtt_run(server: Server, prefix: str, total: int, batch: int) -> dict:
    sink = MqttSink(prefix=prefix, gateway="bench", client_id=f"bench-pub-{uuid.uuid4().hex[:6]}")
    await sink.connect()
    workload = Workload(server.devices, server.sequences)
    bodies = pre_encode(workload, total, batch)
    before = server.probe("status")
    start_offset = before["log_offset"]
    started = time.perf_counter()
    infos = []
    for tenant, body in bodies:
        infos.append(
            sink.client.publish(f"{prefix}/v1/{tenant}/gateways/bench/events", body, qos=1)
        )
        if len(infos) % 20 == 0:
            await asyncio.sleep(0)
    for info in infos:
        await asyncio.to_thread(info.wait_for_publish, 60)
    published = time.perf_counter()
    server.wait_processed(start_offset + len(bodies) * batch)
    done = time.perf_counter()
    status = server.probe("status")
    await sink.close()
    sent = len(bodies) * batch
    return {
        "readings": sent,
        "readings_per_second": sent / (done - started),
        "broker_acknowledged_per_second": sent / (published - started),
        **server_costs(before, status, sent),
    }


async def mqtt_latency(server: Server, prefix: str, rate: int, seconds: float, batch: int) -> dict:
    sink = MqttSink(prefix=prefix, gateway="bench", client_id=f"bench-lat-{uuid.uuid4().hex[:6]}")
    await sink.connect()
    workload = Workload(server.devices, server.sequences)
    interval = batch / rate
    server.probe("start")
    start = time.perf_counter()
    for i in range(int(seconds * rate / batch)):
        await asyncio.sleep(max(0.0, start + i * interval - time.perf_counter()))
        tenant = TENANTS[i % len(TENANTS)]
        body = workload.batch(batch, tenant, time.time())
        sink.client.publish(f"{prefix}/v1/{tenant}/gateways/bench/events", body, qos=1)
    time.sleep(1.0)
    summary = server.probe("stop")
    await sink.close()
    return {
        "rate": rate,
        "seconds": seconds,
        **{k: summary[k] for k in ("p50_ms", "p99_ms", "max_ms")},
    }


def server_costs(before: dict, after: dict, readings: int) -> dict:
    """What the server spent on a run, from two probes (whose figures count from its
    start). CPU per reading (all threads) is steadier than the rate on a shared
    machine, and what a change to the hot path should move."""
    return {
        "server_cpu_us_per_reading": round(
            (after["cpu_seconds"] - before["cpu_seconds"]) / readings * 1e6, 2
        ),
        "server_gc_seconds": [
            round(b - a, 3) for a, b in zip(before["gc_seconds"], after["gc_seconds"], strict=True)
        ],
        "server_gc_collections": [
            b - a for a, b in zip(before["gc_collections"], after["gc_collections"], strict=True)
        ],
    }


def repeated(
    times: int,
    run: Callable[[], Coroutine[Any, Any, dict]],
    between: Callable[[], None] | None = None,
) -> dict:
    """The median of ``times`` runs, with every run kept: this machine is shared and
    one run can be 10% off the next. ``between`` runs before every run but the first."""
    runs = []
    for i in range(times):
        if i and between is not None:
            between()
        runs.append(asyncio.run(run()))
        print(
            f"  run {i + 1}/{times}: {runs[-1]['readings_per_second']:,.0f} readings/s, "
            f"server CPU {runs[-1]['server_cpu_us_per_reading']:.1f} µs a reading"
        )
    rates = [r["readings_per_second"] for r in runs]
    return {
        "readings_per_second": statistics.median(rates),
        "min_readings_per_second": min(rates),
        "max_readings_per_second": max(rates),
        "runs": runs,
    }


def restart_mqtt(server: Server) -> Callable[[], None]:
    def restart() -> None:
        server.restart()
        time.sleep(1.0)  # let the subscriber connect

    return restart


# -- Sparkplug B -----------------------------------------------------------------------


def with_factory(domains: str) -> str:
    """``--domains`` with the factory domain added: its OEE operators are what is measured."""
    names = [name.strip() for name in domains.split(",")]
    return domains if domains == "all" or "factory" in names else ",".join([*names, "factory"])


def sparkplug_run(args: argparse.Namespace) -> dict:
    """Sparkplug B DDATA from simulated edge nodes through Mosquitto into a fresh server's
    Sparkplug host and the factory domain's OEE operators (benchmarks/sparkplug_load.py)."""
    group = f"spbench-{uuid.uuid4().hex[:8]}"  # the run's own group, tenant and host id
    nodes, per_node = args.sparkplug_nodes, args.sparkplug_devices
    extra = ["--sparkplug-group", group, "--sparkplug-nodes", str(nodes)]
    extra += ["--sparkplug-devices", str(per_node)]
    extra += ["--oee-publish-seconds", str(args.sparkplug_oee_publish_seconds)]
    saved, Server.domains = Server.domains, with_factory(Server.domains)
    server = Server(0, 0, extra=extra)
    Server.domains = saved
    try:
        server.wait_ready()
        figures = sparkplug_load.run_section(
            server,
            group,
            plant_machines(group, nodes, per_node),
            total=args.sparkplug_metrics,
            repeat=args.repeat_count,
            rate=args.sparkplug_rate,
            seconds=args.latency_seconds,
            costs=server_costs,
        )
    finally:
        server.stop()
        sparkplug_load.clear_retained(f"spBv1.0/STATE/bench-{group}")
    figures["domains"] = with_factory(Server.domains)
    figures["oee_publish_seconds"] = args.sparkplug_oee_publish_seconds
    return {
        "sparkplug": figures,
        "sparkplug_metrics_per_second": round(figures["metrics_per_second"]),
        "sparkplug_p99_ms": None if figures["p99_ms"] is None else round(figures["p99_ms"], 2),
    }


# -- PostgreSQL ------------------------------------------------------------------------


def postgresql_run(args: argparse.Namespace, devices: int, entities: int, total: int) -> dict:
    """The HTTP throughput and latency runs on a PostgreSQL database of the run's own,
    plus the log insert's client CPU a row (benchmarks/pg_insert.py)."""
    results: dict = {}
    with scratch_database() as url:
        server = Server(devices, entities, store_url=url)
        try:
            server.wait_ready()
            results["postgresql"] = repeated(
                args.repeat_count,
                lambda: http_throughput(server, total, 1000, lanes=args.connections),
            )
            results["postgresql_latency"] = asyncio.run(
                http_latency(server, 5000, args.latency_seconds, 50)
            )
        finally:
            server.stop()
    print("  log insert, client CPU a row:")
    rows = 20_000 if args.quick else 200_000
    results["postgresql_insert"] = pg_insert.run(rows, 5000)
    return results


# -- devices and entities: how the cost grows ------------------------------------------


def checkpointed_state(server: Server) -> dict:
    """The server's state once a checkpoint has followed the last run. The engine
    checkpoints when an event arrives after its interval (2 s), so one more small
    batch is sent after waiting that long."""
    time.sleep(2.5)
    asyncio.run(http_throughput(server, 1000, 1000, 2))
    time.sleep(1.0)
    return server.state()


def scale_run(args: argparse.Namespace, total: int) -> dict:
    """The HTTP throughput at the default shape and at ``--scale-devices`` devices on
    ``--scale-entities`` entities, each on a fresh server, with the memory and stored
    state that each device key costs."""
    shapes = [(5000, 500), (args.scale_devices, args.scale_entities)]
    runs = []
    for devices, entities in shapes:
        print(f"  {devices:,} devices on {entities:,} entities:")
        server = Server(devices, entities)
        try:
            server.wait_ready()
            before = server.state()
            # Every device sends at least once before the clock starts, so that the
            # runs measure a registry whose every key has state (as in operation).
            asyncio.run(http_throughput(server, max(devices, 1000) // 1000 * 1000, 1000, 2))
            run = repeated(
                args.repeat_count,
                lambda server=server: http_throughput(server, total, 1000, args.connections),
            )
            after = checkpointed_state(server)
        finally:
            server.stop()
        runs.append(
            {
                "devices": devices,
                "entities": entities,
                **run,
                "rss_bytes_before": before["rss_bytes"],
                "rss_bytes_after": after["rss_bytes"],
                "stored_state": after["stored"],
            }
        )
    small, large = runs
    grown = (large["rss_bytes_after"] - large["rss_bytes_before"]) - (
        small["rss_bytes_after"] - small["rss_bytes_before"]
    )
    operators = {k: v for k, v in large["stored_state"].items() if "keys" in v}
    stored = {
        name: {"keys": v["keys"], "bytes_per_key": round(v["bytes"] / max(1, v["keys"]))}
        for name, v in operators.items()
    }
    stored_per_device = round(sum(v["bytes"] for v in operators.values()) / large["devices"])
    return {
        "scale": {
            "runs": runs,
            "state_bytes_per_device_key": round(grown / (large["devices"] - small["devices"])),
            "state_bytes_per_device_key_means": "growth of the server's resident memory from "
            "start to after the runs, at the large shape less at the small one, per extra "
            "device (operator state, ingest's sequences and registry, allocator slack)",
            "stored_state": stored,
            "stored_state_bytes_per_device": stored_per_device,
        },
        "devices_100k_ratio": round(large["readings_per_second"] / small["readings_per_second"], 3),
    }


# -- InfluxDB 1.x, a storage-only peer -------------------------------------------------


def find_influxd(install: bool) -> tuple[str | None, str]:
    """The ``influxd`` binary, installing Debian's ``influxdb`` package where missing
    (as root, or with password-less sudo). Returns (path, a note)."""
    found = shutil.which("influxd")
    if found or not install:
        return found, "" if found else "influxd not found (install Debian's influxdb package)"
    apt = shutil.which("apt-get")
    if apt is None:
        return None, "influxd not found and no apt-get to install it"
    prefix: list[str] = []
    if os.geteuid() != 0:
        if shutil.which("sudo") is None or subprocess.run(["sudo", "-n", "true"]).returncode:
            return None, "influxd not found; installing it needs root (apt-get install influxdb)"
        prefix = ["sudo", "-n"]
    print("  installing Debian's influxdb package (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "update"], [apt, "install", "-y", "influxdb"]):
        done = subprocess.run([*prefix, *command], env=env, capture_output=True, text=True)
        if done.returncode:
            return None, f"{' '.join(command)} failed: {done.stderr.strip()[-300:]}"
    found = shutil.which("influxd")
    return found, "" if found else "influxdb installed but no influxd on PATH"


class Influx:
    """An ``influxd`` of the run's own: temporary directories, its own ports, WAL fsync
    on every write (``wal-fsync-delay = "0s"``: in 1.6, "a value of 0s fsyncs every
    write to the WAL"), no self-monitoring, no logging of writes."""

    def __init__(self, binary: str) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="vigil-bench-influx-")
        root = Path(self.dir.name)
        self.port = free_port()
        config = root / "influxdb.conf"
        config.write_text(
            f"""reporting-disabled = true
bind-address = "127.0.0.1:{free_port()}"
[meta]
  dir = "{root / "meta"}"
[data]
  dir = "{root / "data"}"
  wal-dir = "{root / "wal"}"
  wal-fsync-delay = "0s"
  index-version = "inmem"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:{self.port}"
  log-enabled = false
[ifql]
  enabled = false
[continuous_queries]
  enabled = false
[logging]
  level = "warn"
"""
        )
        self.version = subprocess.run(
            [binary, "version"], capture_output=True, text=True
        ).stdout.strip()
        self.log = (root / "influxd.log").open("w")
        self.process = subprocess.Popen(
            [binary, "run", "-config", str(config)], stdout=self.log, stderr=subprocess.STDOUT
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"influxd exited with {self.process.returncode}")
            try:
                if httpx.get(self.url + "/ping", timeout=1).status_code == 204:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError("influxd did not start")
        answer = httpx.post(self.url + "/query", data={"q": "CREATE DATABASE bench"}, timeout=30)
        answer.raise_for_status()

    def count(self) -> int:
        answer = httpx.post(
            self.url + "/query",
            data={"db": "bench", "q": "SELECT count(value) FROM temperature"},
            timeout=120,
        ).json()
        series = answer["results"][0].get("series") or [{"values": [[0, 0]]}]
        return int(series[0]["values"][0][1])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(30)
        self.log.close()
        self.dir.cleanup()


async def influx_throughput(
    influx: Influx, devices: list[tuple[str, str, str]], total: int, batch: int, lanes: int
) -> dict:
    """The HTTP run's readings, as line protocol, from as many closed-loop senders: each
    sends its next batch when InfluxDB has answered 204 (written to its fsynced WAL)."""
    batches = total // batch
    sequences: dict[str, int] = {}
    lanes_bodies = [
        pre_encode(
            Workload(mine, sequences),
            (batches // lanes + (i < batches % lanes)) * batch,
            batch,
            lines=True,
        )
        for i, mine in enumerate(lanes_of(devices, lanes))
    ]

    async def lane(items: list[tuple[str, bytes]]) -> None:
        client = KeepAliveClient(influx.url)
        for _, body in items:
            status, answer = await client.post(
                "/write?db=bench&precision=ns", body, None, "text/plain; charset=utf-8"
            )
            assert status == 204, answer[:300]
        await client.close()

    started = time.perf_counter()
    await asyncio.gather(*(lane(items) for items in lanes_bodies))
    done = time.perf_counter()
    sent = sum(len(lane) for lane in lanes_bodies) * batch
    return {"readings": sent, "readings_per_second": sent / (done - started)}


def influx_run(args: argparse.Namespace, devices: int, entities: int, total: int) -> dict:
    binary, note = find_influxd(install=not args.no_install)
    if binary is None:
        print(f"  skipped: {note}")
        return {"influxdb": {"skipped": note}}
    influx = Influx(binary)
    try:
        influx.wait_ready()
        runs = []
        for i in range(args.repeat_count):
            runs.append(
                asyncio.run(
                    influx_throughput(
                        influx, shape(devices, entities), total, 1000, args.connections
                    )
                )
            )
            rate = runs[-1]["readings_per_second"]
            print(f"  run {i + 1}/{args.repeat_count}: {rate:,.0f} points/s")
        stored = influx.count()
    finally:
        influx.stop()
    rates = [r["readings_per_second"] for r in runs]
    return {
        "influxdb": {
            "version": influx.version,
            "config": 'wal-fsync-delay = "0s" (fsync every write), index-version = "inmem"',
            "senders": args.connections,
            "readings_per_second": statistics.median(rates),
            "min_readings_per_second": min(rates),
            "max_readings_per_second": max(rates),
            "points_stored": stored,
            "runs": runs,
        }
    }


# -- pages at scale, while ingest runs -------------------------------------------------


def parse_pages(text: str) -> list[tuple[str, str]]:
    """``name=path,…``; ``{entity}`` in a path is a random entity of the tenant each time."""
    pages = []
    for item in text.split(","):
        name, _, path = item.partition("=")
        pages.append((name.strip(), path.strip()))
    return pages


def pages_run(args: argparse.Namespace) -> dict:
    devices, entities = args.page_devices, args.page_entities
    server = Server(devices, entities)
    try:
        server.wait_ready()
        print(f"  {devices:,} devices on {entities:,} entities; filling the log with "
              f"{args.page_readings:,} readings")  # fmt: skip
        filled = 0
        chunk = 1_000_000
        while filled < args.page_readings:
            size = min(chunk, args.page_readings - filled)
            asyncio.run(http_throughput(server, size, 1000, lanes=args.connections))
            filled += size
            print(f"  filled {filled:,} of {args.page_readings:,} readings", flush=True)
        return asyncio.run(pages_under_load(server, parse_pages(args.pages), args))
    finally:
        server.stop()


async def pages_under_load(
    server: Server, pages: list[tuple[str, str]], args: argparse.Namespace
) -> dict:
    tenant = TENANTS[0]
    token = server.tokens(role="coordinator")[tenant]
    headers = {"Authorization": f"Bearer {token}"}
    entity_ids = sorted({entity for t, entity, _ in server.devices if t == tenant})
    rng = random.Random(6)
    available: list[tuple[str, str]] = []
    skipped: dict[str, str] = {}
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
        for name, path in pages:
            answer = client.get(path.format(entity=rng.choice(entity_ids)))
            if answer.status_code == 200:
                available.append((name, path))
            else:
                skipped[name] = f"GET {path} answered {answer.status_code}: not measured"
                print(f"  {name}: skipped, {skipped[name]}")
    timings: dict[str, list[float]] = {name: [] for name, _ in available}
    stop = threading.Event()

    def probe() -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            while not stop.is_set():
                for name, path in available:
                    url = path.format(entity=rng.choice(entity_ids))
                    started = time.perf_counter()
                    answer = client.get(url)
                    timings[name].append(time.perf_counter() - started)
                    assert answer.status_code == 200, (url, answer.status_code)
                stop.wait(args.page_pause)

    prober = asyncio.create_task(asyncio.to_thread(probe))
    load = await http_latency(server, 5000, args.page_seconds, 50)
    stop.set()
    await prober
    figures: dict = {
        "entities": len(entity_ids) * len(TENANTS),
        "devices": len(server.devices),
        "log_readings": server.probe("status")["log_offset"],
        "ingest_while_probing": load,
        "pages": {},
        "skipped": skipped,
    }
    for name, path in available:
        ms = np.array(timings[name]) * 1000
        figures["pages"][name] = {
            "path": path,
            "requests": len(ms),
            "p50_ms": float(np.percentile(ms, 50)),
            "p99_ms": float(np.percentile(ms, 99)),
            "max_ms": float(ms.max()),
        }
    headline = {f"{name}_p99_ms": round(f["p99_ms"], 1) for name, f in figures["pages"].items()}
    return {"pages_at_scale": figures, **headline}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a short run for smoke tests")
    parser.add_argument(
        "--domains",
        default="monitoring",
        help="domains whose operators the server runs, comma-separated, or 'all' (default: "
        "monitoring, the engine's own operators; 'all' adds care's per-home operator)",
    )
    parser.add_argument("--readings", type=int, help="readings for each throughput run")
    parser.add_argument("--no-mqtt", action="store_true", help="skip the MQTT runs")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP runs")
    parser.add_argument(
        "--repeat", type=int, help="throughput runs per transport, median reported (default 3)"
    )
    parser.add_argument(
        "--restart-between-runs",
        action="store_true",
        help="a new server process on the same database before each run but the first\n"
        "(tells a growing database from an ageing process)",
    )
    parser.add_argument("--output", type=Path, help="where to write the JSON result")
    parser.add_argument(
        "--connections", type=int, default=16, help="concurrent HTTP gateways (even number)"
    )
    parser.add_argument(
        "--devices", type=int, help="devices at the default shape (5,000; 1,000 with --quick)"
    )
    parser.add_argument(
        "--entities", type=int, help="entities at the default shape (500; 100 with --quick)"
    )
    sections = parser.add_argument_group(
        "further sections (off unless asked for; each has a short form with --quick)"
    )
    sections.add_argument("--all", action="store_true", help="all five sections below")
    sections.add_argument(
        "--sparkplug",
        action="store_true",
        help="Sparkplug B DDATA through Mosquitto into the factory's OEE operators",
    )
    sections.add_argument(
        "--sparkplug-metrics", type=int, help="metrics a throughput run (1,000,000; 60,000 --quick)"
    )
    sections.add_argument("--sparkplug-nodes", type=int, help="edge nodes (10; 2 --quick)")
    sections.add_argument(
        "--sparkplug-devices", type=int, help="devices (machines) a node (50; 10 --quick)"
    )
    sections.add_argument(
        "--sparkplug-rate", type=int, default=10_000, help="metrics/s of the latency run"
    )
    sections.add_argument(
        "--sparkplug-oee-publish-seconds",
        type=float,
        default=1.0,
        help="how often a machine's OEE is updated, in event time (1; the shipped default is 60)",
    )
    sections.add_argument(
        "--postgresql",
        action="store_true",
        help="HTTP runs on PostgreSQL (127.0.0.1:5432; a database of its own, dropped after)",
    )
    sections.add_argument(
        "--scale",
        action="store_true",
        help="the rate at --scale-devices on --scale-entities over the rate at 5,000 devices",
    )
    sections.add_argument("--scale-devices", type=int, help="default 100,000 (20,000 --quick)")
    sections.add_argument("--scale-entities", type=int, help="default 100,000 (20,000 --quick)")
    sections.add_argument(
        "--influxdb",
        action="store_true",
        help="InfluxDB 1.x (Debian's influxdb, installed where missing) on the same readings",
    )
    sections.add_argument(
        "--no-install", action="store_true", help="never install influxdb; skip if missing"
    )
    sections.add_argument(
        "--pages", nargs="?", const=DEFAULT_PAGES, metavar="NAME=PATH,…",
        help=f"page p99 at scale while ingest runs at 5,000/s (default pages: {DEFAULT_PAGES});\n"
        "a page that answers other than 200 is skipped with a note",
    )  # fmt: skip
    sections.add_argument("--page-devices", type=int, help="default 100,000 (10,000 --quick)")
    sections.add_argument("--page-entities", type=int, help="default 100,000 (10,000 --quick)")
    sections.add_argument(
        "--page-readings",
        type=int,
        help="readings in the log before probing (default 10,000,000; 100,000 --quick)",
    )
    sections.add_argument("--page-seconds", type=float, help="probing time (default 60; 5 --quick)")
    sections.add_argument(
        "--page-pause", type=float, default=0.05, help="seconds between rounds of page requests"
    )
    args = parser.parse_args()
    Server.domains = args.domains
    if args.all:
        args.postgresql = args.scale = args.influxdb = args.sparkplug = True
        args.pages = args.pages or DEFAULT_PAGES
    quick = args.quick
    total = args.readings or (40_000 if quick else 1_000_000)
    latency_seconds = 3.0 if quick else 30.0
    repeat = args.repeat or (1 if quick else 3)
    args.latency_seconds, args.repeat_count = latency_seconds, repeat
    devices = args.devices or (1000 if quick else 5000)
    entities = args.entities or (100 if quick else 500)
    args.scale_devices = args.scale_devices or (20_000 if quick else 100_000)
    args.scale_entities = args.scale_entities or (20_000 if quick else 100_000)
    args.page_devices = args.page_devices or (10_000 if quick else 100_000)
    args.page_entities = args.page_entities or (10_000 if quick else 100_000)
    if args.page_readings is None:
        args.page_readings = 100_000 if quick else 10_000_000
    args.page_seconds = args.page_seconds or (5.0 if quick else 60.0)
    args.sparkplug_metrics = args.sparkplug_metrics or (60_000 if quick else 1_000_000)
    args.sparkplug_nodes = args.sparkplug_nodes or (2 if quick else 10)
    args.sparkplug_devices = args.sparkplug_devices or (10 if quick else 50)
    batch = 1000
    results: dict = {
        "command": " ".join(["python", *sys.argv]),
        "machine": machine(),
        "domains": args.domains,
        **PUBLISHED,
    }

    http_ok = not args.no_http
    if http_ok:
        print(
            f"HTTP: {total:,} readings in batches of {batch}, "
            f"then {latency_seconds:.0f} s at 5,000/s"
        )
        server = Server(devices, entities)
        try:
            server.wait_ready()
            results["http"] = repeated(
                repeat,
                lambda: http_throughput(server, total, batch, lanes=args.connections),
                server.restart if args.restart_between_runs else None,
            )
            results["http_latency"] = asyncio.run(http_latency(server, 5000, latency_seconds, 50))
        finally:
            server.stop()

    mqtt_ok = not args.no_mqtt and _port_open(1883)
    if mqtt_ok:
        prefix = f"vigil-bench-{uuid.uuid4().hex[:8]}"
        print(
            f"MQTT: {total:,} readings through Mosquitto, then {latency_seconds:.0f} s at 5,000/s"
        )
        server = Server(devices, entities, mqtt_prefix=prefix)
        try:
            server.wait_ready()
            time.sleep(1.0)  # let the subscriber connect
            results["mqtt"] = repeated(
                repeat,
                lambda: mqtt_run(server, prefix, total, batch),
                restart_mqtt(server) if args.restart_between_runs else None,
            )
            results["mqtt_latency"] = asyncio.run(
                mqtt_latency(server, prefix, 5000, latency_seconds, 50)
            )
        finally:
            server.stop()

    if args.sparkplug:
        if _port_open(1883):
            print(
                f"Sparkplug B: {args.sparkplug_metrics:,} metrics as DDATA of "
                f"{sparkplug_load.METRICS_PER_DDATA} from {args.sparkplug_nodes} edge nodes x "
                f"{args.sparkplug_devices} machines through Mosquitto into the OEE operators, "
                f"then {latency_seconds:.0f} s at {args.sparkplug_rate:,} metrics/s"
            )
            results.update(sparkplug_run(args))
        else:
            print("Sparkplug B: skipped, nothing listens on 127.0.0.1:1883")
            results["sparkplug"] = {"skipped": "nothing listens on 127.0.0.1:1883 (Mosquitto)"}

    if args.postgresql:
        if _port_open(5432):
            print(f"PostgreSQL: {total:,} readings over HTTP, then {latency_seconds:.0f} s at 5k/s")
            results.update(postgresql_run(args, devices, entities, total))
        else:
            print("PostgreSQL: skipped, nothing listens on 127.0.0.1:5432")
            results["postgresql"] = {"skipped": "nothing listens on 127.0.0.1:5432"}

    if args.influxdb:
        print(f"InfluxDB: the same {total:,} readings as line protocol, {args.connections} senders")
        results.update(influx_run(args, devices, entities, total))
        vigil = results.get("http", {}).get("readings_per_second")
        peer = results["influxdb"].get("readings_per_second")
        if vigil and peer:
            results["influxdb_ratio"] = round(vigil / peer, 3)

    if args.scale:
        print(
            f"Scale: {total:,} readings over HTTP at 5,000 devices on 500 entities, then at "
            f"{args.scale_devices:,} devices on {args.scale_entities:,} entities"
        )
        results.update(scale_run(args, total))

    if args.pages:
        print(f"Pages: {args.pages}, for {args.page_seconds:.0f} s while ingest runs at 5,000/s")
        results.update(pages_run(args))

    if http_ok:
        results["http_readings_per_second"] = round(results["http"]["readings_per_second"])
        results["http_p50_ms"] = round(results["http_latency"]["p50_ms"], 2)
        results["http_p99_ms"] = round(results["http_latency"]["p99_ms"], 2)
    if mqtt_ok:
        results["mqtt_readings_per_second"] = round(results["mqtt"]["readings_per_second"])
        results["mqtt_p50_ms"] = round(results["mqtt_latency"]["p50_ms"], 2)
        results["mqtt_p99_ms"] = round(results["mqtt_latency"]["p99_ms"], 2)
    if args.postgresql and "readings_per_second" in results["postgresql"]:
        results["postgresql_readings_per_second"] = round(
            results["postgresql"]["readings_per_second"]
        )
        results["postgresql_p99_ms"] = round(results["postgresql_latency"]["p99_ms"], 2)
    results["shape"] = {"devices": devices, "entities": entities}
    results["quick"] = args.quick
    results["restarted_between_runs"] = args.restart_between_runs
    print_table(results, http_ok, mqtt_ok)
    output = args.output or RESULTS / ("ingest_quick.json" if args.quick else "ingest.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {output}")


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def print_table(results: dict, http: bool, mqtt: bool) -> None:
    rows = [("path", "readings/s end to end", "runs (min to max)", "p50 ms @5k/s", "p99 ms @5k/s")]
    for name, key, shown in (("http", "HTTP", http), ("mqtt", "MQTT", mqtt)):
        if shown:
            low, high = (
                results[name]["min_readings_per_second"],
                results[name]["max_readings_per_second"],
            )
            rows.append(
                (
                    f"{key} → SQLite → operators",
                    f"{results[f'{name}_readings_per_second']:,} (median)",
                    f"{low:,.0f} to {high:,.0f}",
                    f"{results[f'{name}_p50_ms']:.1f}",
                    f"{results[f'{name}_p99_ms']:.1f}",
                )
            )
    if "postgresql_readings_per_second" in results:
        run = results["postgresql"]
        latency = results["postgresql_latency"]
        rows.append(
            (
                "HTTP → PostgreSQL → operators",
                f"{results['postgresql_readings_per_second']:,} (median)",
                f"{run['min_readings_per_second']:,.0f} to {run['max_readings_per_second']:,.0f}",
                f"{latency['p50_ms']:.1f}",
                f"{latency['p99_ms']:.1f}",
            )
        )
    spb = results.get("sparkplug", {})
    if "metrics_per_second" in spb:
        lat = spb["latency"]
        rows.append(
            (
                "Sparkplug B → Mosquitto → SQLite → OEE (metrics/s)",
                f"{spb['metrics_per_second']:,.0f} (median)",
                f"{spb['min_metrics_per_second']:,.0f} to {spb['max_metrics_per_second']:,.0f}",
                f"{lat.get('p50_ms', float('nan')):.1f} @{lat['rate_metrics_per_second'] // 1000}k",
                f"{lat.get('p99_ms', float('nan')):.1f} @{lat['rate_metrics_per_second'] // 1000}k",
            )
        )
    influx = results.get("influxdb", {})
    if "readings_per_second" in influx:
        rows.append(
            (
                "InfluxDB 1.x, storage only (same readings, same senders)",
                f"{influx['readings_per_second']:,.0f} (median)",
                f"{influx['min_readings_per_second']:,.0f} to "
                f"{influx['max_readings_per_second']:,.0f}",
                "",
                "",
            )
        )
    rows.append(("target (issue 2)", "≥ 50,000", "", "", "< 50"))
    rows.append(
        (PUBLISHED["reference"], f"~{PUBLISHED['reference_points_per_second']:,}", "", "", "")
    )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    notes = []
    if "metrics_per_second" in spb:
        notes.append(
            f"sparkplug: target (issue 10) ≥ 30,000 metrics/s; server CPU "
            f"{spb['server_cpu_us_per_metric']:.1f} µs a metric; p99 from the message to the "
            f"updated OEE ({spb['latency']['oee_updates']:,} updates)"
        )
    elif "skipped" in spb:
        notes.append(f"Sparkplug B skipped: {spb['skipped']}")
    if "influxdb_ratio" in results:
        notes.append(f"influxdb_ratio (Vigil HTTP / InfluxDB): {results['influxdb_ratio']:.3f}")
    elif "skipped" in influx:
        notes.append(f"InfluxDB skipped: {influx['skipped']}")
    if "devices_100k_ratio" in results:
        small, large = results["scale"]["runs"]
        notes.append(
            f"devices_100k_ratio: {results['devices_100k_ratio']:.3f} ("
            f"{large['readings_per_second']:,.0f}/s at {large['devices']:,} devices on "
            f"{large['entities']:,} entities / {small['readings_per_second']:,.0f}/s at "
            f"{small['devices']:,}); memory {results['scale']['state_bytes_per_device_key']:,} "
            f"bytes a device key, stored state "
            f"{results['scale']['stored_state_bytes_per_device']:,} bytes a device"
        )
    if "pages_at_scale" in results:
        pages = results["pages_at_scale"]
        for name, figures in pages["pages"].items():
            notes.append(
                f"{name} ({figures['path']}) at {pages['entities']:,} entities, "
                f"{pages['log_readings']:,} readings: p50 {figures['p50_ms']:.0f} ms, "
                f"p99 {figures['p99_ms']:.0f} ms"
            )
        notes += [f"{name}: skipped ({why})" for name, why in pages["skipped"].items()]
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
