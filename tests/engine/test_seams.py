"""The engine's seams: every implementation has the protocol's shape, and the embedded
runtime, run unchanged on the in-memory seams and on SQL, ends up with the same log,
checkpoints, findings and projections (a contract test of the implementations)."""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import Engine, select

from vigil.config import Settings
from vigil.domains import DomainRegistry
from vigil.engine import (
    Accepted,
    CheckpointStore,
    EmbeddedRuntime,
    LogAppender,
    LogRecord,
    LogSource,
    OutputsLost,
    Runtime,
)
from vigil.engine.projection_rows import (
    ConditionEvent,
    ConditionRow,
    HistoryBucket,
    LatestValue,
    Projection,
    projection_key,
)
from vigil.events import DERIVED_TYPES, encode_json
from vigil.monitoring import domain as monitoring
from vigil.platform import default_operators
from vigil.store import migrate
from vigil.store.appender import SqlLogAppender
from vigil.store.database import open_engine
from vigil.store.event_log import EventLog
from vigil.store.operator_state import FindingRepository, SqlCheckpointStore
from vigil.store.schema import condition_events, conditions, findings, history_buckets
from vigil.store.schema import latest_values as latest_table
from vigil.store.writer import GroupCommitWriter
from vigil.testing import sample_events
from vigil.testing.memory import MemoryCheckpointStore, MemoryLog

SEAMS: list[type[Any]] = [LogSource, LogAppender, CheckpointStore, Runtime]


def _members(protocol: type[Any]) -> dict[str, Any]:
    """The protocol's own methods and properties (what an implementation must have)."""
    return {
        name: value
        for name, value in vars(protocol).items()
        if not name.startswith("_") and (callable(value) or isinstance(value, property))
    }


def assert_conforms(implementation: type[Any], protocol: type[Any]) -> None:
    """Every method of ``protocol`` exists on ``implementation`` with the same
    parameters (names, kinds and defaults), and every property is a property: the
    structural check a type checker would make, without one."""
    for name, member in _members(protocol).items():
        found = inspect.getattr_static(implementation, name, None)
        assert found is not None, f"{implementation.__name__} has no {name}"
        if isinstance(member, property):
            assert isinstance(found, property), f"{implementation.__name__}.{name}"
            continue
        expected = inspect.signature(member).parameters
        actual = inspect.signature(found).parameters
        shape = [(p.name, p.kind, p.default) for p in expected.values()]
        assert [(p.name, p.kind, p.default) for p in actual.values()] == shape, (
            f"{implementation.__name__}.{name}{inspect.signature(found)} does not match "
            f"{protocol.__name__}.{name}{inspect.signature(member)}"
        )


IMPLEMENTATIONS = [
    (EventLog, LogSource),
    (SqlLogAppender, LogAppender),
    (SqlCheckpointStore, CheckpointStore),
    (EmbeddedRuntime, Runtime),
    (MemoryLog, LogSource),
    (MemoryLog, LogAppender),
    (MemoryCheckpointStore, CheckpointStore),
]


def test_the_seams_are_runtime_checkable_protocols() -> None:
    """Each seam is a Protocol that ``isinstance`` can check."""
    for protocol in SEAMS:
        assert getattr(protocol, "_is_protocol", False), protocol
        assert getattr(protocol, "_is_runtime_protocol", False), protocol


@pytest.mark.parametrize(
    ("implementation", "protocol"),
    IMPLEMENTATIONS,
    ids=[f"{i.__name__}-{p.__name__}" for i, p in IMPLEMENTATIONS],
)
def test_implementation_has_the_protocols_shape(
    implementation: type[Any], protocol: type[Any]
) -> None:
    """Same methods with the same parameters, and the same properties."""
    assert_conforms(implementation, protocol)


def test_conformance_check_can_fail() -> None:
    """A log source whose ``read`` takes other parameters is caught."""

    class Wrong:
        def read(self, offset: int) -> list[LogRecord]:
            return []

    with pytest.raises(AssertionError, match="does not match"):
        assert_conforms(Wrong, LogSource)
    with pytest.raises(AssertionError, match="has no"):
        assert_conforms(Wrong, LogAppender)


# --- the same runtime on both kinds of seams -----------------------------------------


@dataclass
class Seams:
    """One set of seams, and how to read back what they hold."""

    source: LogSource
    appender: LogAppender
    checkpoints: CheckpointStore
    projections: Callable[[], dict[tuple[Any, ...], Any]]
    findings: Callable[[], dict[str, Any]]
    close: Callable[[], None]


def memory_seams() -> Seams:
    log = MemoryLog()
    store = MemoryCheckpointStore(log)
    return Seams(
        source=log,
        appender=log,
        checkpoints=store,
        projections=lambda: {k: msgspec.to_builtins(v) for k, v in store.projections.items()},
        findings=lambda: {k: msgspec.to_builtins(v) for k, v in store.findings.items()},
        close=lambda: None,
    )


_PROJECTION_TABLES = [
    (latest_table, LatestValue),
    (history_buckets, HistoryBucket),
    (conditions, ConditionRow),
    (condition_events, ConditionEvent),
]


def _sql_projections(engine: Engine) -> dict[tuple[Any, ...], Any]:
    rows: dict[tuple[Any, ...], Any] = {}
    with engine.connect() as connection:
        for table, kind in _PROJECTION_TABLES:
            for row in connection.execute(select(table)).mappings():
                fields = {f: row[f] for f in kind.__struct_fields__}
                projection: Projection = kind(**fields)
                rows[projection_key(projection)] = msgspec.to_builtins(projection)
    return rows


def _sql_findings(engine: Engine) -> dict[str, Any]:
    repository = FindingRepository(engine)
    with engine.connect() as connection:
        tenants = sorted(connection.execute(select(findings.c.tenant).distinct()).scalars())
    return {
        row.id: msgspec.to_builtins(row)
        for tenant in tenants
        for row in repository.recent(tenant, limit=1_000_000)
    }


def sql_seams(url: str) -> Seams:
    engine = open_engine(url)
    migrate.upgrade(engine)
    log = EventLog(engine)
    writer = GroupCommitWriter(engine)
    writer.before_commit.append(log.flush)
    writer.start()

    def close() -> None:
        writer.stop()
        engine.dispose()

    return Seams(
        source=log,
        appender=SqlLogAppender(log, writer),
        checkpoints=SqlCheckpointStore(engine, log=log, writer=writer),
        projections=lambda: _sql_projections(engine),
        findings=lambda: _sql_findings(engine),
        close=close,
    )


def _operators() -> list[Any]:
    """Every operator of the monitoring domain, then the alert tracker: a chain
    (device health derives condition signals, the tracker turns them into alerts)."""
    return default_operators(Settings(), DomainRegistry([monitoring]))


def run_on(seams: Seams, *, chunks: int = 8, **runtime_options: Any) -> EmbeddedRuntime:
    """The sample stream appended in ``chunks``, each processed before the next, so
    where derived events land in the log is the same on every implementation."""
    runtime = EmbeddedRuntime(
        _operators(), log_store=seams.source, states=seams.checkpoints, **runtime_options
    )
    runtime.start()
    events = sample_events(seed=3, tenants=2, entities=2, hours=10)
    size = -(-len(events) // chunks)
    for start in range(0, len(events), size):
        accepted = [Accepted(e, e.timestamp) for e in events[start : start + size]]
        seams.appender.append(accepted, on_commit=runtime.feed).result()
        assert runtime.flush(seams.appender.next_offset - 1, timeout=60)
    runtime.stop()
    return runtime


def held(seams: Seams) -> dict[str, Any]:
    """Everything the seams hold after a run, in plain values."""
    log = seams.source.read(0, 1_000_000)
    states = {}
    for operator in _operators():
        offset, runtime_state, keys = seams.checkpoints.load(operator.name)
        states[operator.name] = (offset, runtime_state, sorted(keys))
    return {
        "log": [(r.offset, r.received, encode_json(r.event)) for r in log],
        "last_input": max(r.offset for r in log if type(r.event) not in DERIVED_TYPES),
        "states": states,
        "marks": seams.checkpoints.derived_marks(),
        "findings": seams.findings(),
        "projections": seams.projections(),
    }


PARTS = ("log", "states", "marks", "findings", "projections")


@pytest.fixture
def memory() -> Iterator[Seams]:
    seams = memory_seams()
    yield seams
    seams.close()


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Seams]:
    seams = sql_seams(f"sqlite:///{tmp_path / 'seams.db'}")
    yield seams
    seams.close()


@pytest.fixture(scope="module")
def memory_run() -> dict[str, Any]:
    seams = memory_seams()
    run_on(seams)
    return held(seams)


def test_memory_run_has_work_in_every_part(memory_run: dict[str, Any]) -> None:
    """The comparison below is not vacuous: the run derives events, raises alerts,
    keeps latest values and history, and checkpoints every operator."""
    derived = [body for _, _, body in memory_run["log"] if b'"source":"device_health"' in body]
    assert derived, "device health derived no condition signals"
    kinds = {key[0] for key in memory_run["projections"]}
    assert kinds == {"latest", "bucket", "condition", "condition_event"}
    assert set(memory_run["marks"]) == {"device_health"}
    last = memory_run["last_input"]
    assert last < memory_run["log"][-1][0]  # derived events came after it
    for name, (offset, runtime_state, keys) in memory_run["states"].items():
        assert offset >= last, name  # every input processed (derived ones may be stepped past)
        assert runtime_state is not None and keys, name


def test_runtime_on_sqlite_holds_what_it_holds_in_memory(
    sqlite: Seams, memory_run: dict[str, Any]
) -> None:
    """The same runtime, the same stream: SQLite ends with the same log (derived
    events at the same offsets), checkpoints, marks, findings and projections."""
    run_on(sqlite)
    stored = held(sqlite)
    for part in PARTS:
        assert stored[part] == memory_run[part], part


@pytest.mark.integration
def test_runtime_on_postgresql_holds_what_it_holds_in_memory(
    postgres_url: str, memory_run: dict[str, Any]
) -> None:
    """As for SQLite, on PostgreSQL."""
    seams = sql_seams(postgres_url)
    try:
        run_on(seams)
        stored = held(seams)
    finally:
        seams.close()
    for part in PARTS:
        assert stored[part] == memory_run[part], part


def test_failed_commits_are_written_again(memory: Seams, memory_run: dict[str, Any]) -> None:
    """Two failed commits are retried: the outputs equal a fault-free run's."""
    assert isinstance(memory.checkpoints, MemoryCheckpointStore)
    memory.checkpoints.fail_next = 2
    runtime = run_on(memory, retry_seconds=0.001)
    assert runtime.write_failures == 2
    assert held(memory) == memory_run


def test_commits_that_keep_failing_stop_the_runtime(memory: Seams) -> None:
    """Past its retries the runtime stops with ``OutputsLost`` and ``flush`` says no."""
    store = memory.checkpoints
    assert isinstance(store, MemoryCheckpointStore)
    runtime = EmbeddedRuntime(
        _operators(), log_store=memory.source, states=store, write_retries=2, retry_seconds=0.001
    )
    runtime.start()
    before = store.commits  # the checkpoint a start writes
    store.fail_next = 1_000
    events = sample_events(seed=3, tenants=1, entities=1, hours=2)
    memory.appender.append([Accepted(e, e.timestamp) for e in events], on_commit=runtime.feed)
    assert not runtime.flush(memory.appender.next_offset - 1, timeout=10)
    runtime.stop()
    assert isinstance(runtime.failed, OutputsLost)
    assert store.commits == before


def test_platform_parts_are_instances_of_the_seams(sqlite: Seams) -> None:
    """``isinstance`` on the runtime-checkable protocols, for the SQL and memory parts."""
    assert isinstance(sqlite.source, LogSource)
    assert isinstance(sqlite.appender, LogAppender)
    assert isinstance(sqlite.checkpoints, CheckpointStore)
    log = MemoryLog()
    assert isinstance(log, LogSource) and isinstance(log, LogAppender)
    assert isinstance(MemoryCheckpointStore(log), CheckpointStore)
    runtime = EmbeddedRuntime([], log_store=log, states=MemoryCheckpointStore(log))
    assert isinstance(runtime, Runtime)
    assert not isinstance(log, CheckpointStore)


def test_the_engine_and_the_memory_seams_load_no_sql() -> None:
    """Importing the engine, the in-memory seams and the monitoring domain loads no SQL
    library, store, platform or web framework (import-linter checks the static graph;
    this checks what Python actually loads)."""
    code = (
        "import sys, vigil.engine, vigil.testing.memory, vigil.monitoring, vigil.alerts\n"
        "print(','.join(m for m in ('sqlalchemy', 'psycopg', 'alembic', 'fastapi', "
        "'vigil.store', 'vigil.platform', 'vigil.web') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""
