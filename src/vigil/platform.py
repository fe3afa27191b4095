"""The composition root: one object that wires store, ingest, engine and live bus.

Transports and the web app are given a ``Platform``; nothing else builds these
parts, so one process and a test build them the same way. Pages and the API read
the store's projections through the repositories here, never an operator's memory.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from vigil.alerts import ConditionTracker
from vigil.catalog import Catalog, Device, Entity
from vigil.config import Settings
from vigil.domains import DomainRegistry
from vigil.engine.bus import LiveBus
from vigil.engine.embedded import EmbeddedRuntime
from vigil.engine.operator import KeyedOperator
from vigil.engine.records import LogRecord, platform_record
from vigil.engine.seams import AuditRow
from vigil.errors import ConfigurationError
from vigil.events import ConditionAction, DeviceConfigured, EntityConfigured, PlatformEvent, Tick
from vigil.ingest.directory import DeviceDirectory, SequenceTracker
from vigil.ingest.service import Ingestor
from vigil.store import migrate
from vigil.store.appender import SqlLogAppender
from vigil.store.audit import AuditRepository
from vigil.store.database import WalCheckpointer, is_sqlite, open_engine
from vigil.store.dead_letters import DeadLetterRepository
from vigil.store.documents import DocumentRepository
from vigil.store.event_log import EventLog
from vigil.store.operator_state import FindingRepository, SqlCheckpointStore
from vigil.store.projections import ConditionRepository, ProjectionRepository
from vigil.store.registry import RegistryRepository
from vigil.store.tokens import TokenRepository
from vigil.store.writer import GroupCommitWriter

log = logging.getLogger(__name__)

OperatorFactory = Callable[[Settings, DomainRegistry], Sequence[KeyedOperator[Any]]]


def default_operators(settings: Settings, domains: DomainRegistry) -> list[KeyedOperator[Any]]:
    """Every registered domain's operators, then the alert model's tracker, which
    consumes the conditions they raise (an operator sees what those before it derive)."""
    tracker = ConditionTracker(escalate_after=settings.engine.escalate_after_seconds)
    return [*domains.operators(settings), tracker]


def configuration_events(
    before: Catalog, after: Catalog, *, time: float
) -> list[EntityConfigured | DeviceConfigured]:
    """What changed from ``before`` to ``after``, as events for the log."""
    events: list[EntityConfigured | DeviceConfigured] = []
    old_entities = {(e.tenant, e.id): e for e in before.entities}
    for entity in after.entities:
        if old_entities.get((entity.tenant, entity.id)) != entity:
            events.append(_entity_event(entity, time))
    old_devices = {(d.tenant, d.id): d for d in before.devices}
    for device in after.devices:
        if old_devices.get((device.tenant, device.id)) != device:
            events.append(_device_event(device, time))
    return events


def _entity_event(entity: Entity, time: float) -> EntityConfigured:
    return EntityConfigured(
        tenant=entity.tenant,
        time=time,
        entity=entity.id,
        kind=entity.kind,
        name=entity.name,
        parent=entity.parent,
        attributes=dict(entity.attributes),
    )


def _device_event(device: Device, time: float) -> DeviceConfigured:
    return DeviceConfigured(
        tenant=device.tenant,
        time=time,
        device=device.id,
        entity=device.entity,
        kind=device.kind,
        heartbeat=device.heartbeat,
        metrics=tuple(device.metrics),
        location=device.location,
        removed=device.removed,
    )


@dataclass(frozen=True, kw_only=True)
class Health:
    """How the pipeline is doing, for ``/healthz`` and ``/metrics``: the web reads
    this, never the log, the writer or the runtime themselves."""

    failure: BaseException | None
    """Why the operator runtime stopped, if it did."""
    log_offset: int
    """Offset of the last event in the log."""
    processed_offset: int
    """Offset the operators have processed up to."""
    writer_commits: int
    """Transactions of the group-commit writer so far."""
    undecodable_log_records: int = 0
    """Log records the operators set aside since start (each a dead letter)."""

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def lag(self) -> int:
        """Events in the log the operators have yet to process."""
        return max(0, self.log_offset - self.processed_offset)


class Ticker:
    """Writes every tenant's clock into the log every ``seconds`` of wall time."""

    def __init__(self, platform: Platform, seconds: float) -> None:
        self.platform = platform
        self.seconds = seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vigil-ticker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            try:
                self.platform.tick(self.platform.clock(), wait=False)
            except Exception:  # a store outage: ticks resume with the next interval
                log.exception("could not write clock ticks")


class Platform:
    def __init__(
        self,
        settings: Settings,
        *,
        domains: DomainRegistry | None = None,
        operators: OperatorFactory = default_operators,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.domains = DomainRegistry.discover() if domains is None else domains
        self.engine = open_engine(
            settings.store.url, sqlite_synchronous=settings.store.sqlite_synchronous
        )
        migrate.upgrade(self.engine)
        self.registry = RegistryRepository(self.engine)
        self.tokens = TokenRepository(self.engine)
        self.dead_letters = DeadLetterRepository(self.engine)
        self.findings = FindingRepository(self.engine)
        self.audit = AuditRepository(self.engine)
        self.projections = ProjectionRepository(self.engine)
        self.conditions = ConditionRepository(self.engine)
        self.log = EventLog(self.engine)
        self.writer = GroupCommitWriter(self.engine, max_jobs=512)
        self.writer.before_commit.append(self.log.flush)
        self.documents = DocumentRepository(self.engine, self.writer)
        # Operator outputs beside the log's appends, where the database takes both at
        # once (``SqlCheckpointStore``).
        self.side_writer = (
            None
            if is_sqlite(self.engine)
            else GroupCommitWriter(self.engine, max_jobs=8, name="vigil-output-writer")
        )
        self.appender = SqlLogAppender(self.log, self.writer)
        self.bus = LiveBus()
        self._operator_factory = operators
        self.directory = DeviceDirectory(self.registry.device_refs())
        self.sequences = SequenceTracker(self.log.sequences())
        self._runtime: EmbeddedRuntime | None = None
        self._pending_configuration: list[PlatformEvent] = []
        self._ticker: Ticker | None = None
        # Whether ``start`` begins writing wall-clock ticks. A simulator that back-fills
        # history turns it off and calls ``start_ticks`` once it has caught up with now:
        # a tick at now before hours-old history would fire every device's silence timer.
        self.live_ticks = True
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
            self._operator_factory(self.settings, self.domains),
            log_store=self.log,
            states=SqlCheckpointStore(
                self.engine, log=self.log, writer=self.writer, side_writer=self.side_writer
            ),
            checkpoint_seconds=self.settings.engine.checkpoint_interval_seconds,
            checkpoint_events=self.settings.engine.checkpoint_interval_events,
            checkpoint_max_seconds=self.settings.engine.checkpoint_max_seconds,
        )
        runtime.add_sink(self.bus.publish)
        runtime.progress_listeners.append(self.ingestor.operators_advanced)
        return runtime

    @property
    def runtime(self) -> EmbeddedRuntime:
        if self._runtime is None:
            self._runtime = self._build_runtime()
        return self._runtime

    def _operator_lag(self) -> int:
        if self._runtime is None or self._runtime.failed is not None:
            return 0  # a failed runtime is reported by /healthz; ingest keeps the log going
        return self.log.next_offset - 1 - self._runtime.processed_offset

    def _committed(self, records: list[LogRecord]) -> None:
        self.runtime.feed(records)

    # --- what goes into the log besides readings ----------------------------------

    def append(
        self,
        events: Sequence[PlatformEvent],
        *,
        audit: Sequence[AuditRow] = (),
        wait: bool = True,
    ) -> list[LogRecord]:
        """Write platform events (and the audit rows of who caused them) to the log."""
        received = self.clock()
        future = self.appender.append(
            [platform_record(event, received) for event in events],
            audit=audit,
            on_commit=self._committed,
        )
        return future.result() if wait else []

    def tick(self, now: float, *, wait: bool = True, tenants: Sequence[str] = ()) -> None:
        """Every tenant's clock (or ``tenants``') reaches ``now``: live from the wall
        clock (``Ticker``), in replays and the simulator from event time."""
        tenants = tenants or [tenant.id for tenant in self.registry.tenants()]
        if tenants:
            self.append([Tick(tenant=t, time=now) for t in tenants], wait=wait)

    def record_access(self, tenant: str, *, actor: str, action: str, target: str) -> None:
        """An audit row (a sign-in, a read of a person's record), through the writer:
        committed with whatever else is in flight, not in a transaction of its own that
        would queue for SQLite's one write lock beside it."""
        self.append([], audit=[(tenant, self.clock(), actor, action, target)])

    def act(self, action: ConditionAction) -> None:
        """A person's action on a condition: in the log, audited, once committed."""
        self.append(
            [action],
            audit=[(action.tenant, action.time, action.actor, action.action, action.condition)],
        )

    def apply_catalog(self, catalog: Catalog, *, time: float | None = None) -> None:
        """Register tenants, entities and devices; ingest sees them at once, and the
        changes go into the log (at ``time``, by default now) for the operators."""
        kinds = set(self.domains.tenant_kinds)
        unknown = sorted({t.kind for t in catalog.tenants if t.kind not in kinds})
        if unknown:
            raise ConfigurationError(
                f"no installed domain serves tenants of kind {', '.join(unknown)} "
                f"(known: {', '.join(sorted(kinds)) or 'none'})"
            )
        tenants = {t.id for t in catalog.tenants} | {e.tenant for e in catalog.entities}
        before = self.registry.snapshot(tenants | {d.tenant for d in catalog.devices})
        self.registry.apply(catalog)
        after = self.registry.snapshot(tenants | {d.tenant for d in catalog.devices})
        self.directory.replace(self.registry.device_refs())
        events = configuration_events(before, after, time=self.clock() if time is None else time)
        if events:
            if self._started:
                self.append(events)
            else:
                self._pending_configuration.extend(events)

    def start(self, *, ticks: bool | None = None) -> None:
        """``ticks``: write wall-clock ticks (default ``live_ticks``)."""
        if not self._started:
            threshold = self.settings.engine.gc_threshold
            if threshold:
                gc.freeze()  # what exists at start-up is long-lived: never scan it again
                gc.set_threshold(threshold, *gc.get_threshold()[1:])
            if self._checkpointer is not None:
                self._checkpointer.start()
            self.writer.start()
            if self.side_writer is not None:
                self.side_writer.start()
            self.runtime.start()
            self._started = True
            pending, self._pending_configuration = self._pending_configuration, []
            if pending:
                self.append(pending)
            if self.live_ticks if ticks is None else ticks:
                self.start_ticks()

    def start_ticks(self) -> None:
        seconds = self.settings.engine.tick_seconds
        if self._ticker is None and seconds > 0:
            self._ticker = Ticker(self, seconds)
            self._ticker.start()

    def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
        if self._started:
            self.runtime.stop()
            if self.side_writer is not None:
                self.side_writer.stop()
            self.writer.stop()
            self.log.save_sequences_now()
            if self._checkpointer is not None:
                self._checkpointer.stop()
            self._started = False
        self.engine.dispose()

    def health(self) -> Health:
        """The pipeline's state in numbers; reads nothing from the store."""
        runtime = self._runtime
        return Health(
            failure=None if runtime is None else runtime.failed,
            log_offset=self.appender.next_offset - 1,
            processed_offset=0 if runtime is None else runtime.processed_offset,
            writer_commits=self.writer.commits
            + (self.side_writer.commits if self.side_writer is not None else 0),
            undecodable_log_records=0 if runtime is None else runtime.undecodable,
        )

    def prune_history(self) -> int:
        retention = {
            resolution: days * 86400.0
            for resolution, days in self.settings.engine.history_retention_days.items()
        }
        return self.projections.prune(retention, self.clock())

    def wait_until_processed(self, timeout: float = 30.0) -> bool:
        """Block until operators have seen everything committed so far, and every
        projection is written (tests, replay, actions whose result a page shows)."""
        return self.runtime.flush(self.log.next_offset - 1, timeout)

    def __enter__(self) -> Platform:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
