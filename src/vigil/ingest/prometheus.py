"""Scraping the Prometheus text exposition of 5G network functions (a gNB, a UPF, ...).

Many network functions publish their figures only as a Prometheus endpoint. A
``PrometheusScraper`` fetches one target's URL every ``interval_seconds`` (httpx),
parses the text with ``prometheus_client``'s own parser (never by hand), and turns
each sample into a ``Reading`` of a registered device: the sample's ``label``
value (the cell, by default) picks the device from the target's ``devices``, and
the metric is the sample's name less the target's ``prefix``. Samples of other
series, without the label or with a value no device is mapped to, are not ours
and are skipped (counted). Readings go through the ingest service like any other
transport's, so validation, dead letters and durability are the same.

Nothing here stops the scraper: an unreachable target or a body that is not
exposition text is a dead letter (``unreachable``, ``malformed``) and a log line,
once per run of failures, and the next interval tries again.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import httpx
import msgspec
from prometheus_client.parser import text_string_to_metric_families

from vigil.config import ScrapeSettings, ScrapeTarget
from vigil.errors import IngestError
from vigil.events import Event, Reading
from vigil.ingest.directory import DeviceDirectory
from vigil.ingest.validation import Reason, Rejection

log = logging.getLogger(__name__)
TRANSPORT = "prometheus"


class Sample(msgspec.Struct, frozen=True):
    """One sample of the exposition: name, labels, value and its own time if it has one."""

    name: str
    labels: dict[str, str]
    value: float
    timestamp: float | None = None


def parse(text: str) -> list[Sample]:
    """The samples of an exposition text; ``ValueError`` if it is not one."""
    samples = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            stamp = sample.timestamp
            samples.append(
                Sample(
                    sample.name,
                    dict(sample.labels),
                    float(sample.value),
                    None if stamp is None else float(stamp),
                )
            )
    return samples


class SampleMap:
    """One target's samples as readings of its devices, with sequence numbers."""

    def __init__(
        self,
        target: ScrapeTarget,
        directory: DeviceDirectory,
        floor: Callable[[str, str], int | None],
    ) -> None:
        self.target = target
        self.directory = directory
        self.floor = floor
        self._seq: dict[str, int] = {}
        self.skipped = 0
        """Samples that are not ours (other series, unmapped label values, not finite)."""

    def _next_seq(self, device: str) -> int:
        seq = max(self._seq.get(device, 0), self.floor(self.target.tenant, device) or 0) + 1
        self._seq[device] = seq
        return seq

    def metric_of(self, name: str) -> str | None:
        target = self.target
        if target.prefix:
            if not name.startswith(target.prefix):
                return None
            name = name[len(target.prefix) :]
        if target.metrics and name not in target.metrics:
            return None
        return name or None

    def readings(
        self, samples: list[Sample], received: float
    ) -> tuple[list[Event], list[Rejection]]:
        """Readings for the mapped samples; a rejection per mapped but unregistered device."""
        target, events, rejections = self.target, [], []
        unknown: set[str] = set()
        for sample in samples:
            metric = self.metric_of(sample.name)
            device = target.devices.get(sample.labels.get(target.label, ""))
            if metric is None or device is None or not math.isfinite(sample.value):
                self.skipped += 1
                continue
            ref = self.directory.get(target.tenant, device)
            if ref is None:
                if device not in unknown:
                    unknown.add(device)
                    detail = (
                        f"{target.url} maps {target.label}={sample.labels[target.label]!r} to "
                        f"device {device!r} of tenant {target.tenant!r}, which is not registered"
                    )
                    rejections.append(
                        Rejection(
                            index=None, reason=Reason.UNKNOWN_DEVICE, detail=detail, device=device
                        )
                    )
                continue
            events.append(
                Reading(
                    tenant=target.tenant,
                    device=device,
                    entity=ref.entity,
                    seq=self._next_seq(device),
                    time=sample.timestamp if sample.timestamp is not None else received,
                    metric=metric[:64],
                    value=sample.value,
                )
            )
        return events, rejections


class PrometheusScraper:
    """Scrapes one target on its interval into the ingest service, until cancelled."""

    def __init__(
        self,
        target: ScrapeTarget,
        ingestor: Any,
        *,
        clock: Callable[[], float] = time.time,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.target = target
        self.ingestor = ingestor
        self.clock = clock
        self.client = client
        self.map = SampleMap(target, ingestor.directory, ingestor.sequences.last)
        self.scrapes = 0
        self.failures = 0
        """Failed scrapes in a row (a dead letter is kept for the first of each run)."""

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=self.target.timeout_seconds) as client:
            self.client = self.client or client
            while True:
                began = time.monotonic()
                try:
                    await self.scrape_once()
                except asyncio.CancelledError:
                    raise
                except Exception:  # a bug must not stop scraping: log it, try again
                    log.exception("scraping %s failed unexpectedly", self.target.url)
                wait = self.target.interval_seconds - (time.monotonic() - began)
                await asyncio.sleep(max(0.0, wait))

    async def scrape_once(self) -> int:
        """Fetch, parse and write one scrape; how many readings were written."""
        self.scrapes += 1
        received = self.clock()
        try:
            assert self.client is not None, "scrape_once needs a client (run() makes one)"
            answer = await self.client.get(self.target.url, timeout=self.target.timeout_seconds)
            answer.raise_for_status()
        except httpx.HTTPError as err:
            await self._failed(
                Reason.UNREACHABLE, f"could not fetch {self.target.url}: {err!r}", b""
            )
            return 0
        try:
            samples = parse(answer.text)
        except Exception as err:  # the parser raises ValueError and others on bad text
            detail = f"{self.target.url} did not serve Prometheus text exposition: {err}"
            await self._failed(Reason.MALFORMED, detail, answer.content)
            return 0
        self.failures = 0
        events, rejections = self.map.readings(samples, received)
        if not events and not rejections:
            return 0
        await self.ingestor.ingest_events(
            list(enumerate(events)),
            tenant=self.target.tenant,
            transport=TRANSPORT,
            source=self.target.url,
            received=received,
            decode_rejections=[(r, b"") for r in rejections],
        )
        return len(events)

    async def _failed(self, reason: Reason, detail: str, body: bytes) -> None:
        self.failures += 1
        log.warning("%s (failure %d in a row)", detail, self.failures)
        if self.failures == 1:
            await self.ingestor.record_rejection(
                IngestError(reason, detail),
                tenant=self.target.tenant
                if self.ingestor.directory.has_tenant(self.target.tenant)
                else None,
                transport=TRANSPORT,
                source=self.target.url,
                body=body,
            )


def scrape_service(settings: ScrapeSettings) -> Any:
    """A background service for ``create_app``: one scraper per configured target."""

    async def prometheus_scraper(platform: Any) -> None:
        scrapers = [PrometheusScraper(t, platform.ingestor) for t in settings.targets]
        await asyncio.gather(*(scraper.run() for scraper in scrapers))

    return prometheus_scraper
