"""What each ``vigil`` sub-command does, separate from argument parsing."""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import socket
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from vigil.catalog import Catalog, Tenant
from vigil.clients import DirectSink, FeedProgress, HttpSink, MqttSink, feed
from vigil.config import Settings
from vigil.errors import ConfigurationError
from vigil.events import Event
from vigil.platform import Platform
from vigil.store import migrate as migrations
from vigil.store.database import open_engine


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


DATABASE_FILES = ("vigil.db", "vigil.db-wal", "vigil.db-shm")
"""What ``vigil demo`` creates in its data directory, and so all it ever deletes there."""
LOCK_FILE = "vigil.lock"


@contextmanager
def locked_data_dir(folder: Path) -> Iterator[Path]:
    """Hold ``folder`` for this process: a second Vigil on it is refused, not let in.

    An advisory ``flock`` on ``folder/vigil.lock``; the kernel lets go of it when
    the process ends, however it ends, so a killed demo leaves no stale lock.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise ConfigurationError(
            f"{folder} is in use by another Vigil (process {holder}); "
            "stop that one first, or give this one another --data-dir"
        ) from None
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield folder
    finally:
        os.close(fd)


def reset_data_dir(folder: Path) -> None:
    """Delete the database a previous demo left in ``folder``, and nothing else."""
    for name in DATABASE_FILES:
        (folder / name).unlink(missing_ok=True)


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (``port`` 0: any free one), or a one-line error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise ConfigurationError(
                f"port {port} on {host} is already in use (another Vigil?); "
                "choose another with --port or VIGIL_WEB__PORT"
            ) from None
        raise ConfigurationError(f"cannot listen on {host}:{port}: {err.strerror}") from None
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, telling the user once it listens (not before)."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and not self.should_exit:
            self._on_started()


def _run_server(
    settings: Settings, platform: Platform, services: list[Any], sock: socket.socket
) -> int:
    from vigil.web.app import create_app

    app = create_app(platform, services=services)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host

    def started() -> None:
        _say(f"Vigil is running: open http://{shown}:{port}/  (Ctrl+C stops)")
        _say(f"API documentation: http://{shown}:{port}/docs")

    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",
        proxy_headers=True,
        forwarded_allow_ips=settings.web.forwarded_allow_ips,
    )
    server = _Server(config, started)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn has shut down cleanly and raises the Ctrl+C again for us: done.
        pass
    finally:
        sock.close()
    if not server.started:
        _say("vigil: the server did not start (see the log above)")
        return 1
    _say("Vigil stopped")
    return 0


def _transport_services(settings: Settings) -> list[Any]:
    services = []
    if settings.mqtt.enabled:
        from vigil.ingest.mqtt import mqtt_service

        services.append(mqtt_service(settings.mqtt))
    if settings.sparkplug.enabled:
        from vigil.ingest.sparkplug import sparkplug_service

        services.append(sparkplug_service(settings.mqtt, settings.sparkplug))
    if settings.opcua.enabled:
        from vigil.ingest.opcua import opcua_service

        services.append(opcua_service(settings.opcua))
    if settings.scrape.enabled:
        from vigil.ingest.prometheus import scrape_service

        services.append(scrape_service(settings.scrape))
    return services


BACKFILL_TICK_SECONDS = 300.0
"""Event time between the clock ticks written while the demo fills in history."""
CAUGHT_UP_SECONDS = 1.0
"""History this close to now counts as filled in: the live loop takes over."""


def demo(settings: Settings, *, seed: int, history_hours: float, data_dir: Path, keep: bool) -> int:
    """The demo region on SQLite in ``data_dir``, which no other Vigil may be using."""
    from vigil.sim import Region, RegionConfig, demo_anomalies

    with locked_data_dir(data_dir):
        sock = listen(settings.web.host, settings.web.port)
        if not keep:
            reset_data_dir(data_dir)
        settings = settings.model_copy(
            update={"store": settings.store.model_copy(update={"url": _sqlite(data_dir)})}
        )
        now = time.time()
        start = now - history_hours * 3600
        # Sequences from the start time in ms: a --keep run continues above the last one.
        # A few homes with something to act on (labelled, from the simulator's injector).
        anomalies = demo_anomalies("north-council", start, now)
        region = Region(
            RegionConfig(seed=seed, start=start, first_seq=int(start * 1000), anomalies=anomalies)
        )
        platform = Platform(settings)
        platform.live_ticks = False  # the simulator ticks in event time until it is live
        platform.apply_catalog(region.catalog(), time=start)
        tenants = platform.registry.tenants()
        _say("Demo region: " + ", ".join(f"{t.name} ({t.kind})" for t in tenants))

        async def simulator(platform: Platform) -> None:
            sink = DirectSink(platform.ingestor, transport="simulator")
            progress = FeedProgress("filling in history", total_seconds=history_hours * 3600)
            await feed_in_event_time(
                platform, _region_slices(region, start), sink, progress=progress, start=start
            )
            progress.finish()
            platform.start_ticks()
            _say("history in place; now live in real time")
            while True:
                await asyncio.sleep(1.0)
                await feed(region.events(until=time.time()), sink, batch_size=2000)

        return _run_server(settings, platform, [simulator, *_transport_services(settings)], sock)


Slice = tuple[float, Iterable[Event]]
"""Events up to a moment of event time, and that moment."""


async def feed_in_event_time(
    platform: Platform,
    slices: Iterable[Slice],
    sink: DirectSink,
    *,
    progress: FeedProgress | None = None,
    start: float | None = None,
) -> int:
    """History as fast as it goes, each slice followed by a clock tick at its end,
    so silence timers and escalations fire when they would have, live."""
    sent = 0
    tenants = [tenant.id for tenant in platform.registry.tenants()]
    for until, events in slices:
        sent += await feed(events, sink, batch_size=2000, progress=progress, start=start)
        # Not waited for: the writer commits jobs in the order they came, so the tick
        # lands after this slice's events and before the next slice's.
        platform.tick(until, wait=False, tenants=tenants)
    return sent


def _region_slices(region: Any, start: float) -> Iterator[Slice]:
    """The simulated region from ``start`` until it has caught up with now."""
    until = start
    while (now := time.time()) - until >= CAUGHT_UP_SECONDS:
        until = min(until + BACKFILL_TICK_SECONDS, now)
        yield until, region.events(until=until)


def _recorded_slices(events: Sequence[Event]) -> Iterator[Slice]:
    """Recorded events (in time order) in slices of ``BACKFILL_TICK_SECONDS``, quiet
    spells too: a silence timer fires on time only if the clock moves through it."""
    index = 0
    until = events[0].timestamp if events else 0.0
    while index < len(events):
        until += BACKFILL_TICK_SECONDS
        end = index
        while end < len(events) and events[end].timestamp <= until:
            end += 1
        yield until, events[index:end]
        index = end


def _sqlite(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / DATABASE_FILES[0]}"


def serve(settings: Settings) -> int:
    sock = listen(settings.web.host, settings.web.port)
    platform = Platform(settings)
    return _run_server(settings, platform, _transport_services(settings), sock)


def _gateway_tokens(platform: Platform, tenants: tuple[Tenant, ...], name: str) -> dict[str, str]:
    now = time.time()
    return {t.id: platform.tokens.create(t.id, name, "gateway", now=now) for t in tenants}


def _sink(platform: Platform, catalog: Catalog, http: str | None, mqtt: str | None) -> Any:
    if http:
        return HttpSink(http, _gateway_tokens(platform, catalog.tenants, "simulator"))
    if mqtt:
        host, _, port = mqtt.partition(":")
        return MqttSink(
            host or "127.0.0.1", int(port or 1883), prefix=platform.settings.mqtt.topic_prefix
        )
    return DirectSink(platform.ingestor)


class _Tally:
    """What the store holds for some tenants: events in the log, rejections by reason.

    Read before and after a run, the difference is what Vigil confirmed of it,
    whatever the transport (an MQTT publish is acknowledged by the broker, not by
    Vigil)."""

    def __init__(self, platform: Platform, tenants: list[str]) -> None:
        self.platform, self.tenants = platform, tenants
        self.stored, self.rejected = self._read()

    def _read(self) -> tuple[int, dict[str, int]]:
        stored = sum(self.platform.log.count(t) for t in self.tenants)
        rejected: dict[str, int] = {}
        for tenant in self.tenants:
            for reason, n in self.platform.dead_letters.counts(tenant).items():
                rejected[reason] = rejected.get(reason, 0) + n
        return stored, rejected

    def since(self) -> tuple[int, dict[str, int]]:
        stored, rejected = self._read()
        delta = {r: n - self.rejected.get(r, 0) for r, n in rejected.items()}
        return stored - self.stored, {r: n for r, n in sorted(delta.items()) if n > 0}

    def settle(self, expected: int, *, quiet_seconds: float = 5.0, limit: float = 120.0) -> int:
        """Wait until ``expected`` more events are stored or rejected, or nothing has
        changed for ``quiet_seconds``; the number stored."""
        deadline = time.monotonic() + limit
        last, last_change = (-1, {}), time.monotonic()
        while time.monotonic() < deadline:
            now = self.since()
            if now != last:
                last, last_change = now, time.monotonic()
            if now[0] + sum(now[1].values()) >= expected:
                break
            if time.monotonic() - last_change >= quiet_seconds:
                break
            time.sleep(0.25)
        return last[0]


def _reasons(rejected: dict[str, int]) -> str:
    return ", ".join(f"{reason} {n:,}" for reason, n in rejected.items()) or "none recorded"


def simulate(
    settings: Settings, *, http: str | None, mqtt: str | None, seed: int, hours: float, speed: float
) -> int:
    from vigil.sim import Region, RegionConfig

    now = time.time()
    start = now - hours * 3600 if speed == 0 else now
    region = Region(RegionConfig(seed=seed, start=start, first_seq=int(now * 1000)))
    platform = Platform(settings)  # registers the region in the store the server reads
    catalog = region.catalog()
    platform.apply_catalog(catalog)
    tally = _Tally(platform, [t.id for t in catalog.tenants])
    sink = _sink(platform, catalog, http, mqtt)

    async def run() -> int:
        progress = FeedProgress("simulating", total_seconds=hours * 3600)
        try:
            sent = await feed(
                region.events(until=start + hours * 3600), sink, speed=speed, progress=progress
            )
        finally:
            await sink.close()
        progress.finish()
        return sent

    try:
        sent = asyncio.run(run())
        if not mqtt:
            rejected_count = getattr(sink, "rejected", 0)
            _say(f"sent {sent:,} events; rejected by Vigil: {rejected_count:,}")
            if sent and rejected_count >= sent:
                reasons = _reasons(tally.since()[1])
                _say(f"vigil: nothing was stored: every event was rejected ({reasons})")
                return 1
            return 0
        # The broker acknowledged the publishes; only the store says what Vigil took.
        _say(f"published {sent:,} events to {mqtt} (acknowledged by the broker, not by Vigil)")
        stored = tally.settle(sent)
        _, rejected = tally.since()
        _say(
            f"confirmed in the store: {stored:,} of {sent:,} stored; "
            f"rejected: {sum(rejected.values()):,} ({_reasons(rejected)})"
        )
        if sent and stored == 0:
            _say(
                f"vigil: nothing was stored: every event was rejected ({_reasons(rejected)})"
                if rejected
                else "vigil: nothing arrived: no Vigil using this store took events from topic "
                f"prefix {settings.mqtt.topic_prefix!r} on {mqtt} (is mqtt.enabled set for "
                "the server, with the same prefix and broker?)"
            )
            return 1
        return 0
    finally:
        platform.stop()


def _dataset_folder(dataset: str, path: Path | None) -> Path | None:
    """``path`` as given, or the data set's own folder inside it: ``--path`` may name
    ``shared/data``, ``shared/data/adl`` or the data set's folder."""
    from vigil.datasets.registry import DIRECTORIES

    if path is None or dataset not in DIRECTORIES:
        return path
    for candidate in (path / DIRECTORIES[dataset], path / "adl" / DIRECTORIES[dataset]):
        if candidate.is_dir():
            return candidate
    return path


def _replay_tenant(platform: Platform, recorded: Catalog, dataset: str) -> Tenant:
    """The recording's tenant, new (named for the replay), or the existing one,
    unchanged, if it is of the same kind: a replay adds an entity to a tenant, it
    never renames or re-kinds one. The data set says which kind of tenant it needs
    (a recorded home: a council), so no domain is named here."""
    from vigil.errors import NotFound

    wanted = recorded.tenants[0]
    try:
        existing = platform.registry.tenant(wanted.id)
    except NotFound:
        return Tenant(id=wanted.id, name=f"Replay: {dataset}", kind=wanted.kind)
    if existing.kind != wanted.kind:
        what = recorded.entities[0].kind if recorded.entities else "recording"
        raise ConfigurationError(
            f"tenant {wanted.id!r} ({existing.name}) is a {existing.kind}; a recorded {what} "
            f"can only be added to a {wanted.kind}: give --tenant a {wanted.kind} or a new name"
        )
    return existing


def replay(
    settings: Settings,
    *,
    dataset: str,
    path: Path | None,
    tenant: str,
    http: str | None,
    speed: float,
    as_recorded: bool,
) -> int:
    from vigil.datasets import load_dataset, read_jsonl

    shift_to = None if as_recorded else time.time() - 60
    platform = Platform(settings)
    try:
        if dataset.endswith(".jsonl"):
            # A recording of registered devices: their catalog is already in the store.
            events = read_jsonl(Path(dataset), shift_to=shift_to)
            catalog = Catalog(
                tenants=tuple(
                    {e.tenant: platform.registry.tenant(e.tenant) for e in events}.values()
                )
            )
        else:
            home = load_dataset(
                dataset, _dataset_folder(dataset, path), tenant=tenant, shift_to=shift_to
            )
            events = home.events
            catalog = Catalog(
                tenants=(_replay_tenant(platform, home.catalog, dataset),),
                entities=home.catalog.entities,
                devices=home.catalog.devices,
            )
        first = events[0].timestamp if events else None
        platform.apply_catalog(catalog, time=first)
        tally = _Tally(platform, [t.id for t in catalog.tenants])
        # As fast as it goes, in process: the replay ticks in event time; a live
        # wall-clock tick would run ahead of the history and fire every silence timer.
        event_time = not http and speed == 0
        if not http:
            platform.live_ticks = not event_time
            platform.start()
        sink = _sink(platform, catalog, http, None)
        span = events[-1].timestamp - events[0].timestamp if events else 0.0

        async def run() -> int:
            progress = FeedProgress(f"replaying {dataset}", total_seconds=span)
            try:
                if event_time:
                    slices = _recorded_slices(events)
                    sent = await feed_in_event_time(platform, slices, sink, progress=progress)
                else:
                    sent = await feed(events, sink, speed=speed, progress=progress)
            finally:
                await sink.close()
            progress.finish()
            return sent

        sent = asyncio.run(run())
        if not http:
            platform.wait_until_processed(timeout=120)
        rejected = getattr(sink, "rejected", 0)
        _say(f"replayed {sent:,} events; rejected: {rejected:,}")
        if sent == 0 or rejected >= sent:
            _, reasons = tally.since()
            hint = ""
            if as_recorded and "time_too_old" in reasons:
                hint = (
                    "; --as-recorded keeps the recorded times, older than ingest.max_past_seconds"
                    " allows: leave it out to shift the data set to end now"
                )
            _say(
                f"vigil: nothing was stored: every event was rejected ({_reasons(reasons)}){hint}"
                if sent
                else "vigil: nothing was stored: the data set has no events"
            )
            return 1
        return 0
    finally:
        platform.stop()


def migrate(settings: Settings) -> int:
    engine = open_engine(settings.store.url)
    migrations.upgrade(engine)
    _say(f"database at revision {migrations.current(engine)}")
    engine.dispose()
    return 0
