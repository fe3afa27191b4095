"""Sustained ingest throughput and arrival-to-output latency, over HTTP and over MQTT.

Each transport gets a fresh server process (benchmarks/ingest_server.py: SQLite
with synchronous=FULL, both foundation operators on) and a load generator in
this process, so the two share the machine's two cores as a gateway and a
server would. Throughput counts a reading only once it is committed to the log
*and* processed by every operator. Latency is measured at a fixed load, from the
reading's arrival at ingest to the operator's output.

    python benchmarks/ingest.py            # the full run (about 4 minutes)
    python benchmarks/ingest.py --quick    # a short smoke run

Knobs for experiments (the reported figures use neither): VIGIL_BENCH_SYNCHRONOUS=NORMAL
runs the server's SQLite without an fsync per commit; VIGIL_BENCH_SWITCH=0.001 sets the
server's GIL switch interval.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform as host
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
import numpy as np

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

    async def post(self, path: str, body: bytes, token: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
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
    def __init__(self, homes: int, sensors: int, mqtt_prefix: str | None = None) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="vigil-bench-")
        self.port = free_port()
        command = [
            sys.executable, str(HERE / "ingest_server.py"),
            "--db", str(Path(self.dir.name) / "bench.db"),
            "--port", str(self.port), "--homes", str(homes), "--sensors", str(sensors),
        ]  # fmt: skip
        if mqtt_prefix:
            command += ["--mqtt-prefix", mqtt_prefix]
        if os.environ.get("VIGIL_BENCH_SWITCH"):
            command += ["--switch-interval", os.environ["VIGIL_BENCH_SWITCH"]]
        if os.environ.get("VIGIL_BENCH_SYNCHRONOUS"):
            command += ["--synchronous", os.environ["VIGIL_BENCH_SYNCHRONOUS"]]
        self.command = command
        self.process = subprocess.Popen(command)
        self.sequences: dict[str, int] = {}
        self.url = f"http://127.0.0.1:{self.port}"
        self.devices = [
            (tenant, f"{tenant}.home-{h:04d}", f"{tenant}.home-{h:04d}.sensor-{s}")
            for tenant in TENANTS
            for h in range(homes)
            for s in range(sensors)
        ]

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

    def tokens(self) -> dict[str, str]:
        return httpx.get(f"{self.url}/bench/tokens", timeout=30).json()

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

    def batch(self, size: int, tenant: str, now: float) -> bytes:
        events = []
        tenant_devices = [d for d in self.devices if d[0] == tenant]
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
        return encode_json(Batch(events=events))


def pre_encode(workload: Workload, total: int, batch: int) -> list[tuple[str, bytes]]:
    """(tenant, body) pairs, encoded before the clock starts. Event times rise through
    the run, as live devices' do, ending about now (the server refuses future times)."""
    count = total // batch
    start = time.time() - count * batch * 1e-5 - 1.0
    tenants = sorted({tenant for tenant, _, _ in workload.devices})
    bodies = []
    for i in range(count):
        tenant = tenants[i % len(tenants)]
        bodies.append((tenant, workload.batch(batch, tenant, start + i * batch * 1e-5)))
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


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory, 1),
        "python": sys.version.split()[0],
        "platform": host.platform(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a short run for smoke tests")
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
    args = parser.parse_args()
    total = args.readings or (40_000 if args.quick else 1_000_000)
    latency_seconds = 3.0 if args.quick else 30.0
    repeat = args.repeat or (1 if args.quick else 3)
    homes, sensors = (50, 10) if args.quick else (250, 10)
    batch = 1000
    results: dict = {"command": " ".join(["python", *sys.argv]), "machine": machine(), **PUBLISHED}

    http_ok = not args.no_http
    if http_ok:
        print(
            f"HTTP: {total:,} readings in batches of {batch}, "
            f"then {latency_seconds:.0f} s at 5,000/s"
        )
        server = Server(homes, sensors)
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
        server = Server(homes, sensors, mqtt_prefix=prefix)
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

    if http_ok:
        results["http_readings_per_second"] = round(results["http"]["readings_per_second"])
        results["http_p50_ms"] = round(results["http_latency"]["p50_ms"], 2)
        results["http_p99_ms"] = round(results["http_latency"]["p99_ms"], 2)
    if mqtt_ok:
        results["mqtt_readings_per_second"] = round(results["mqtt"]["readings_per_second"])
        results["mqtt_p50_ms"] = round(results["mqtt_latency"]["p50_ms"], 2)
        results["mqtt_p99_ms"] = round(results["mqtt_latency"]["p99_ms"], 2)
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
    rows.append(("target (issue 2)", "≥ 50,000", "", "", "< 50"))
    rows.append(
        (PUBLISHED["reference"], f"~{PUBLISHED['reference_points_per_second']:,}", "", "", "")
    )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
