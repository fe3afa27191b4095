"""After kill -9, the runtime restarts from its checkpoint plus the log and produces
exactly the outputs it would have produced without the crash."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import func, select

from tests.engine import crash_worker
from vigil.engine.embedded import finding_row
from vigil.engine.keyed import KeyedRunner
from vigil.platform import Platform, default_operators
from vigil.store.schema import findings, operator_checkpoints

WORKER = Path(crash_worker.__file__)
ROOT = WORKER.parents[2]


def reference_run(platform: Platform) -> tuple[list[dict], dict[str, dict]]:
    """Findings and final states of an uninterrupted run over the same log."""
    runners = [KeyedRunner(op) for op in default_operators(platform.registry)]
    findings = []
    after = 0
    while records := platform.log.read(after, 20_000):
        for runner in runners:
            for emitted in runner.process(records):
                if emitted.output.durable:
                    findings.append(msgspec.to_builtins(finding_row(runner.name, emitted)))
        after = records[-1].offset
    states = {
        runner.name: {
            f"{t}/{k}": msgspec.to_builtins(entry.state) for (t, k), entry in runner.keys.items()
        }
        for runner in runners
    }
    return sorted(findings, key=lambda f: f["id"]), states


def stored_findings(platform: Platform) -> list[dict]:
    rows = []
    for tenant in ("north", "plant"):
        rows += [msgspec.to_builtins(f) for f in platform.findings.recent(tenant, limit=100_000)]
    return sorted(rows, key=lambda f: f["id"])


def kill_mid_run(url: str, delay: float) -> tuple[int, int, int]:
    """Start the worker, SIGKILL it ``delay`` s into ingestion; the checkpoint offset, the
    log's end, and the newest offset for which a finding was already stored."""
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
            newest_finding = connection.execute(select(func.max(findings.c.offset))).scalar()
    finally:
        platform.stop()
    return checkpoint or 0, platform.log.next_offset - 1, newest_finding or 0


def crash_somewhere_in_the_middle(tmp_path: Path, seed: int) -> tuple[str, int, int]:
    """Kill the worker at a random moment that falls after its first checkpoint and
    before the end of its work (a busy machine shifts the timing, so try a few)."""
    rng = random.Random(seed)
    for attempt in range(6):
        url = f"sqlite:///{tmp_path / f'crash-{attempt}.db'}"
        delay = rng.uniform(1.0, 2.0) * (1 + attempt / 3)
        checkpoint, log_end, newest_finding = kill_mid_run(url, delay)
        # Worth testing: findings past the checkpoint were stored before the crash and
        # will be produced again, and the log goes on past what was processed.
        if 0 < checkpoint < newest_finding < log_end:
            return url, checkpoint, log_end
    pytest.fail("could not land a kill after a checkpoint with findings past it")


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(2))
def test_kill_nine_then_restart_reproduces_outputs(tmp_path: Path, seed: int) -> None:
    """Findings after crash + restart equal an uninterrupted run's, with none twice,
    and the restored operator states end where the uninterrupted run's do."""
    url, _checkpoint, log_end = crash_somewhere_in_the_middle(tmp_path, seed)

    clock = lambda: crash_worker.BASE_TIME + crash_worker.STEPS * 60  # noqa: E731
    platform = Platform(crash_worker.settings(url), clock=clock)
    platform.start()
    try:
        assert platform.wait_until_processed(120)
    finally:
        platform.stop()

    platform = Platform(crash_worker.settings(url), clock=clock)
    try:
        expected_findings, expected_states = reference_run(platform)
        assert stored_findings(platform) == expected_findings
        for runner in platform.runtime.runners:
            offset, runtime_state, keys = platform.runtime.states.load(runner.name)
            runner.restore(offset, runtime_state, keys)
            restored = {
                f"{t}/{k}": msgspec.to_builtins(e.state) for (t, k), e in runner.keys.items()
            }
            assert restored == expected_states[runner.name]
            assert offset == log_end
    finally:
        platform.stop()
