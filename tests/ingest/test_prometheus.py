"""Scraping Prometheus text exposition from a network function: a real HTTP server
(``prometheus_client``'s own exporter) in, readings of registered devices out; an
unreachable or malformed target is a dead letter, never a crash."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from vigil.catalog import Catalog, Device, Entity, Tenant
from vigil.config import ScrapeTarget, Settings
from vigil.events import Reading
from vigil.ingest.prometheus import PrometheusScraper, parse
from vigil.platform import Platform

CATALOG = Catalog(
    tenants=(Tenant(id="plant", name="Plant", kind="plant"),),
    entities=tuple(
        Entity(tenant="plant", id=f"plant.cell-{n}", kind="cell", name=f"Cell {n}") for n in (1, 2)
    ),
    devices=tuple(
        Device(tenant="plant", id=f"plant.cell-{n}.gnb", entity=f"plant.cell-{n}", kind="gnb")
        for n in (1, 2)
    ),
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    made = Platform(Settings(store={"url": f"sqlite:///{tmp_path / 'v.db'}"}))
    made.apply_catalog(CATALOG)
    made.start()
    try:
        yield made
    finally:
        made.stop()


@pytest.fixture
def exporter() -> Iterator[tuple[str, CollectorRegistry]]:
    """A gNB's exporter: a real HTTP server serving ``prometheus_client``'s exposition."""
    registry = CollectorRegistry()
    sinr = Gauge("gnb_sinr_db", "Mean uplink SINR", ["cell"], registry=registry)
    prb = Gauge("gnb_prb_utilisation", "PRB use", ["cell"], registry=registry)
    Gauge("gnb_uptime_seconds", "No cell label", registry=registry).set(99)
    for cell, value in (("1", 18.5), ("2", 2.0), ("9", 11.0)):
        sinr.labels(cell).set(value)
        prb.labels(cell).set(40.0)
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    try:
        yield f"http://127.0.0.1:{port}/metrics", registry
    finally:
        server.shutdown()
        thread.join(5)


def target(url: str, **extra: object) -> ScrapeTarget:
    devices = {"1": "plant.cell-1.gnb", "2": "plant.cell-2.gnb"}
    return ScrapeTarget(url=url, tenant="plant", devices=devices, prefix="gnb_", **extra)


def readings(platform: Platform) -> list[Reading]:
    return [r.event for r in platform.log.read(0, 10_000) if isinstance(r.event, Reading)]


async def until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_scrape_becomes_readings_of_the_mapped_devices(
    platform: Platform, exporter: tuple[str, CollectorRegistry]
) -> None:
    """Each sample with a mapped ``cell`` label is a reading of that cell's device, the
    metric its name less the prefix; other series and unmapped cells are skipped."""
    url, _ = exporter
    async with httpx.AsyncClient() as client:
        scraper = PrometheusScraper(target(url), platform.ingestor, client=client)
        assert await scraper.scrape_once() == 4
    found = sorted((r.device, r.metric, r.value) for r in readings(platform))
    assert found == [
        ("plant.cell-1.gnb", "prb_utilisation", 40.0),
        ("plant.cell-1.gnb", "sinr_db", 18.5),
        ("plant.cell-2.gnb", "prb_utilisation", 40.0),
        ("plant.cell-2.gnb", "sinr_db", 2.0),
    ]
    assert {r.entity for r in readings(platform)} == {"plant.cell-1", "plant.cell-2"}
    assert scraper.map.skipped >= 3  # cell 9, the unlabelled uptime, the exporter's own


async def test_the_service_scrapes_on_its_interval_with_rising_sequences(
    platform: Platform, exporter: tuple[str, CollectorRegistry]
) -> None:
    """Run as a service, it scrapes again every interval; each device's ``seq`` rises."""
    url, _ = exporter
    scraper = PrometheusScraper(
        target(url, interval_seconds=0.05, metrics=["sinr_db"]), platform.ingestor
    )
    task = asyncio.create_task(scraper.run())
    try:
        await until(lambda: len(readings(platform)) >= 6)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    cell_2 = [r.seq for r in readings(platform) if r.device == "plant.cell-2.gnb"]
    assert cell_2 == sorted(cell_2) and len(set(cell_2)) == len(cell_2) >= 3
    assert {r.metric for r in readings(platform)} == {"sinr_db"}


async def test_an_unreachable_target_is_one_dead_letter_and_no_crash(platform: Platform) -> None:
    """Nothing listens: each scrape fails quietly, one ``unreachable`` dead letter per
    run of failures, and the service keeps going."""
    url = f"http://127.0.0.1:{free_port()}/metrics"
    scraper = PrometheusScraper(target(url, interval_seconds=0.02), platform.ingestor)
    task = asyncio.create_task(scraper.run())
    try:
        await until(lambda: scraper.failures >= 3)
        assert not task.done()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    letters = platform.dead_letters.recent("plant")
    assert [(d.reason, d.transport, d.source) for d in letters] == [
        ("unreachable", "prometheus", url)
    ]
    assert readings(platform) == []


class _Garbage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"gnb_sinr_db{cell=2 not exposition text\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


async def test_a_malformed_body_is_a_dead_letter_with_the_text(platform: Platform) -> None:
    """A server that answers with something the parser refuses: ``malformed``, with the
    body kept, and nothing written."""
    server = HTTPServer(("127.0.0.1", 0), _Garbage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
    try:
        async with httpx.AsyncClient() as client:
            scraper = PrometheusScraper(target(url), platform.ingestor, client=client)
            assert await scraper.scrape_once() == 0
            assert await scraper.scrape_once() == 0
    finally:
        server.shutdown()
    [letter] = platform.dead_letters.recent("plant")
    assert letter.reason == "malformed" and "not exposition" in str(letter.raw)
    assert readings(platform) == []


def test_parse_keeps_names_labels_values_and_timestamps() -> None:
    """The library's parser, not a hand-written one: timestamps in ms become seconds."""
    text = '# TYPE x gauge\nx{cell="2"} 3.5 1700000000000\ny_total 4\n'
    samples = parse(text)
    assert [(s.name, s.labels, s.value, s.timestamp) for s in samples] == [
        ("x", {"cell": "2"}, 3.5, 1700000000.0),
        ("y_total", {}, 4.0, None),
    ]
