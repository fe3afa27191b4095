"""After kill -9, the runtime restarts from its checkpoint plus the log and produces
exactly the outputs it would have produced without the crash -- through a chain of
two operators (device health derives conditions; the condition tracker turns them
into alerts with their history)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import Engine, func, select

from tests.engine import crash_worker
from tests.engine.conftest import Stores, make_stores
from vigil.events import ConditionSignal
from vigil.platform import Platform, default_operators
from vigil.store.projection_rows import PROJECTION_TYPES, projection_key
from vigil.store.schema import (
    condition_events,
    conditions,
    history_buckets,
    latest_values,
    operator_checkpoints,
)
from vigil.testing import run_chain

WORKER = Path(crash_worker.__file__)


@pytest.fixture
def kind(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    """Stores of the kind the test is parametrized with (one seed on PostgreSQL)."""
    yield from make_stores(request.param, tmp_path)


ROOT = WORKER.parents[2]
TABLES = (latest_values, history_buckets, conditions, condition_events)


def _rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every projection table, rows as plain dicts, in key order."""
    found = {}
    with engine.connect() as connection:
        for table in TABLES:
            keys = [column for column in table.primary_key.columns]
            rows = connection.execute(select(table).order_by(*keys)).mappings()
            found[table.name] = [dict(row) for row in rows]
    return found


def reference(platform: Platform) -> tuple[dict[str, list[dict[str, Any]]], dict, Counter]:
    """Projection rows, final states and derived-event origins of an uninterrupted run
    over the device and configuration events of the same log, one record at a time."""
    log = []
    after = 0
    while records := platform.log.read(after, 20_000):
        log += records
        after = records[-1].offset
    chain = run_chain(default_operators(platform.settings, platform.domains), log)
    newest: dict[tuple[Any, ...], Any] = {}
    for emitted in chain.emitted.values():
        for item in emitted:
            if isinstance(item.output, PROJECTION_TYPES):
                newest[projection_key(item.output)] = item.output
    tables = {table.name: [] for table in TABLES}
    names = {"latest": "latest_values", "bucket": "history_buckets"}
    names |= {"condition": "conditions", "condition_event": "condition_events"}
    for key, row in newest.items():
        tables[names[key[0]]].append(msgspec.to_builtins(row))
    for table in TABLES:
        order = [column.name for column in table.primary_key.columns]
        tables[table.name].sort(key=lambda row: tuple(row[c] for c in order))
    states = {
        runner.name: {
            f"{t}/{k}": msgspec.to_builtins(entry.state) for (t, k), entry in runner.keys.items()
        }
        for runner in chain.runners
    }
    return tables, states, Counter(event.origin for event in chain.derived)


def logged_origins(platform: Platform) -> Counter:
    origins: Counter = Counter()
    after = 0
    while records := platform.log.read(after, 20_000):
        origins.update(r.event.origin for r in records if isinstance(r.event, ConditionSignal))
        after = records[-1].offset
    return origins


def kill_mid_run(url: str, delay: float) -> tuple[int, int, int]:
    """Start the worker, SIGKILL it ``delay`` s into ingestion; the checkpoint offset,
    the log's end, and the newest input offset whose derived events were logged."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    child = subprocess.Popen(
        [sys.executable, str(WORKER), url], stdout=subprocess.PIPE, env=env, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ingesting"
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    platform = Platform(crash_worker.settings(url))
    try:
        with platform.engine.connect() as connection:
            checkpoint = connection.execute(
                select(func.min(operator_checkpoints.c.offset))
            ).scalar()
        causes = [int(origin.split(":")[1]) for origin in logged_origins(platform)]
    finally:
        platform.stop()
    return checkpoint or 0, platform.log.next_offset - 1, max(causes, default=0)


def crash_somewhere_in_the_middle(stores: Stores, seed: int) -> tuple[str, int, int]:
    """Kill the worker at a random moment after its first checkpoint, when events
    derived past the checkpoint are already in the log (a restart derives them again),
    and before the end of its work (a busy machine shifts the timing, so try a few)."""
    rng = random.Random(seed)
    for attempt in range(6):
        url = stores.url()
        delay = rng.uniform(1.0, 2.0) * (1 + attempt / 3)
        checkpoint, log_end, newest_cause = kill_mid_run(url, delay)
        if 0 < checkpoint < newest_cause < log_end:
            return url, checkpoint, log_end
    pytest.fail("could not land a kill after a checkpoint with derived events past it")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "seed"), [("sqlite", 0), ("sqlite", 1), ("postgresql", 0)], indirect=["kind"]
)
def test_kill_nine_then_restart_reproduces_outputs(kind: Stores, seed: int) -> None:
    """Projections (alerts and their history, latest values, history buckets) after a
    crash and restart equal an uninterrupted run's; each derived event is logged once;
    the restored operator states end where the uninterrupted run's do. On SQLite and
    on PostgreSQL."""
    url, _checkpoint, log_end = crash_somewhere_in_the_middle(kind, seed)

    clock = lambda: crash_worker.BASE_TIME + crash_worker.STEPS * 60  # noqa: E731
    platform = Platform(crash_worker.settings(url), clock=clock)
    platform.start(ticks=False)
    try:
        assert platform.wait_until_processed(120)
    finally:
        platform.stop()

    platform = Platform(crash_worker.settings(url), clock=clock)
    try:
        expected_tables, expected_states, expected_origins = reference(platform)
        # The chain has work to do (how much depends on when the kill landed).
        assert len(expected_tables["conditions"]) >= 3
        stored = _rows(platform.engine)
        for table in TABLES:
            assert stored[table.name] == expected_tables[table.name], table.name
        origins = logged_origins(platform)
        assert max(origins.values()) == 1, "a derived event was logged twice"
        assert origins == expected_origins
        for runner in platform.runtime.runners:
            offset, runtime_state, keys = platform.runtime.states.load(runner.name)
            runner.restore(offset, runtime_state, keys)
            restored = {
                f"{t}/{k}": msgspec.to_builtins(e.state) for (t, k), e in runner.keys.items()
            }
            assert restored == expected_states[runner.name], runner.name
            assert offset >= log_end
    finally:
        platform.stop()
