"""The composition root: one object that wires store, ingest, engine and live bus.

Transports and the web app are given a ``Platform``; nothing else builds these
parts, so one process and a test build them the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from vigil.catalog import Catalog
from vigil.config import Settings
from vigil.engine.bus import LiveBus
from vigil.engine.embedded import EmbeddedRuntime
from vigil.engine.operator import KeyedOperator
from vigil.ingest.directory import DeviceDirectory, SequenceTracker
from vigil.ingest.service import Ingestor
from vigil.signals import DeviceHealth, LastValueTracker
from vigil.store import migrate
from vigil.store.audit import AuditRepository
from vigil.store.database import open_engine
from vigil.store.dead_letters import DeadLetterRepository
from vigil.store.event_log import EventLog, LogRecord
from vigil.store.operator_state import FindingRepository, OperatorStateRepository
from vigil.store.readings import ReadingRepository
from vigil.store.registry import RegistryRepository
from vigil.store.tokens import TokenRepository
from vigil.store.writer import GroupCommitWriter

OperatorFactory = Callable[[RegistryRepository], Sequence[KeyedOperator[Any]]]


def default_operators(registry: RegistryRepository) -> list[KeyedOperator[Any]]:
    """The domain-agnostic operators; domain packages add theirs to this list."""
    heartbeats = {
        (device.tenant, device.id): device.heartbeat
        for tenant in registry.tenants()
        for device in registry.devices(tenant.id)
        if device.heartbeat
    }
    return [LastValueTracker(), DeviceHealth(heartbeats=heartbeats, default_heartbeat=None)]


class Platform:
    def __init__(
        self,
        settings: Settings,
        *,
        operators: OperatorFactory = default_operators,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.engine = open_engine(
            settings.store.url, sqlite_synchronous=settings.store.sqlite_synchronous
        )
        migrate.upgrade(self.engine)
        self.registry = RegistryRepository(self.engine)
        self.tokens = TokenRepository(self.engine)
        self.readings = ReadingRepository(self.engine)
        self.dead_letters = DeadLetterRepository(self.engine)
        self.findings = FindingRepository(self.engine)
        self.audit = AuditRepository(self.engine)
        self.log = EventLog(self.engine)
        self.writer = GroupCommitWriter(self.engine, max_jobs=512)
        self.bus = LiveBus()
        self._operator_factory = operators
        self.directory = DeviceDirectory(self.registry.device_refs())
        self.sequences = SequenceTracker(self.log.sequences())
        self._runtime: EmbeddedRuntime | None = None
        self.ingestor = Ingestor(
            settings=settings.ingest,
            directory=self.directory,
            sequences=self.sequences,
            log=self.log,
            writer=self.writer,
            clock=clock,
            on_commit=self._committed,
        )
        self._started = False

    def _build_runtime(self) -> EmbeddedRuntime:
        runtime = EmbeddedRuntime(
            self._operator_factory(self.registry),
            log_store=self.log,
            states=OperatorStateRepository(self.engine),
            writer=self.writer,
            checkpoint_seconds=self.settings.engine.checkpoint_interval_seconds,
            checkpoint_events=self.settings.engine.checkpoint_interval_events,
        )
        runtime.add_sink(self.bus.publish)
        return runtime

    @property
    def runtime(self) -> EmbeddedRuntime:
        """Built at start, so operators see the catalog as it is then."""
        if self._runtime is None:
            self._runtime = self._build_runtime()
        return self._runtime

    def _committed(self, records: list[LogRecord]) -> None:
        self.runtime.feed(records)

    def apply_catalog(self, catalog: Catalog) -> None:
        """Register tenants, entities and devices; ingest sees them at once.

        Operators configured from the registry (device heartbeats) are built at
        start; changes after that reach them on the next start.
        """
        self.registry.apply(catalog)
        self.directory.replace(self.registry.device_refs())

    def start(self) -> None:
        if not self._started:
            self.writer.start()
            self.runtime.start()  # builds the operators from the registry as it is now
            self._started = True

    def stop(self) -> None:
        if self._started:
            self.runtime.stop()
            self.writer.stop()
            self._started = False
        self.engine.dispose()

    def wait_until_processed(self, timeout: float = 30.0) -> bool:
        """Block until operators have seen everything committed so far (tests, replay)."""
        return self.runtime.wait_for(self.log.next_offset - 1, timeout)

    def __enter__(self) -> Platform:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
