"""The composition root: one object that wires store, ingest, engine and live bus.

Transports and the web app are given a ``Platform``; nothing else builds these
parts, so one process and a test build them the same way.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from vigil.catalog import Catalog
from vigil.config import Settings
from vigil.engine.bus import LiveBus
from vigil.engine.embedded import EmbeddedRuntime
from vigil.engine.keyed import KeyedRunner
from vigil.engine.operator import KeyedOperator
from vigil.ingest.directory import DeviceDirectory, SequenceTracker
from vigil.ingest.service import Ingestor
from vigil.signals import DeviceHealth, LastValueState, LastValueTracker
from vigil.store import migrate
from vigil.store.audit import AuditRepository
from vigil.store.database import WalCheckpointer, is_sqlite, open_engine
from vigil.store.dead_letters import DeadLetterRepository
from vigil.store.event_log import EventLog, LogRecord
from vigil.store.operator_state import FindingRepository, OperatorStateRepository
from vigil.store.readings import HistoryPoint, LatestValue
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
        self.dead_letters = DeadLetterRepository(self.engine)
        self.findings = FindingRepository(self.engine)
        self.audit = AuditRepository(self.engine)
        self.log = EventLog(self.engine)
        self.writer = GroupCommitWriter(self.engine, max_jobs=512)
        self.writer.before_commit.append(self.log.flush)
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
            registry=self.registry.device_refs,
            operator_lag=self._operator_lag,
        )
        self._started = False
        self._checkpointer = WalCheckpointer(self.engine) if is_sqlite(self.engine) else None

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

    def _operator_lag(self) -> int:
        if self._runtime is None or self._runtime.failed is not None:
            return 0  # a failed runtime is reported by /healthz; ingest keeps the log going
        return self.log.next_offset - 1 - self._runtime.processed_offset

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
            threshold = self.settings.engine.gc_threshold
            if threshold:
                gc.freeze()  # what exists at start-up is long-lived: never scan it again
                gc.set_threshold(threshold, *gc.get_threshold()[1:])
            if self._checkpointer is not None:
                self._checkpointer.start()
            self.writer.start()
            self.runtime.start()  # builds the operators from the registry as it is now
            self._started = True

    def stop(self) -> None:
        if self._started:
            self.runtime.stop()
            self.writer.stop()
            self.log.save_sequences_now()
            if self._checkpointer is not None:
                self._checkpointer.stop()
            self._started = False
        self.engine.dispose()

    # --- what pages read of the live state -----------------------------------

    def _last_values(self, tenant: str, entity: str) -> LastValueState | None:
        def read(runner: KeyedRunner) -> LastValueState | None:
            state = runner.state_of(tenant, entity)
            return (
                None
                if state is None
                else msgspec.structs.replace(state, sensors=dict(state.sensors))
            )

        return self.runtime.read_state(LastValueTracker.name, read)  # type: ignore[no-any-return]

    def latest(self, tenant: str, entity: str) -> list[LatestValue]:
        """The newest value of each sensor of the entity."""
        state = self._last_values(tenant, entity)
        if state is None:
            return []
        values = []
        for slot, sensor in sorted(state.sensors.items()):
            device, _, metric = slot.rpartition("/")
            value = sensor.value
            text = value if isinstance(value, str) else None
            number = None if text is not None else float(value)
            values.append(LatestValue(device, metric, number, text, sensor.time, sensor.unit))
        return values

    def history(self, tenant: str, entity: str) -> list[HistoryPoint]:
        """Recent trend of each numeric sensor of the entity, oldest first."""
        state = self._last_values(tenant, entity)
        if state is None:
            return []
        tracker = self.runtime.runner(LastValueTracker.name).operator
        assert isinstance(tracker, LastValueTracker)
        points = []
        for slot, sensor in sorted(state.sensors.items()):
            device, _, metric = slot.rpartition("/")
            points += [HistoryPoint(t, device, metric, v) for t, v in tracker.trend(sensor)]
        return sorted(points, key=lambda point: point.time)

    def last_seen(self, tenant: str) -> dict[str, float]:
        """Per entity of the tenant, the event time of its newest reading."""

        def read(runner: KeyedRunner) -> dict[str, float]:
            return {
                key: max(sensor.time for sensor in entry.state.sensors.values())
                for (owner, key), entry in runner.keys.items()
                if owner == tenant and entry.state.sensors
            }

        return self.runtime.read_state(LastValueTracker.name, read)  # type: ignore[no-any-return]

    def wait_until_processed(self, timeout: float = 30.0) -> bool:
        """Block until operators have seen everything committed so far (tests, replay)."""
        return self.runtime.wait_for(self.log.next_offset - 1, timeout)

    def __enter__(self) -> Platform:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
