"""Issue 6, item 1: operator outputs are durable through a real store fault.

A fault hits the writes of checkpoints, conditions and projections (triggers that
make the store refuse them; on PostgreSQL the pool's connections are also terminated
with ``pg_terminate_backend``). A passing fault is retried and the outputs equal a
fault-free run's; a lasting one stops the runtime loudly, and a restart after it is
repaired ends with the same outputs again -- nothing skipped, no checkpoint ahead of
what was written.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tests.conftest import small_catalog
from tests.engine.scenario import day_start, outputs, send, steps
from vigil.config import Settings
from vigil.engine.embedded import OutputsLost
from vigil.platform import Platform

SettingsFactory = Callable[..., Settings]

_REFUSE = ("operator_checkpoints", "conditions", "latest_values")


def _platform(settings: Settings, start: float) -> Platform:
    platform = Platform(settings)
    platform.apply_catalog(small_catalog(), time=start)
    platform.start()
    return platform


def _fault_free(settings: Settings, start: float) -> dict[str, object]:
    platform = _platform(settings, start)
    try:
        for step in steps(start):
            send(platform, step)
        assert platform.wait_until_processed()
        return outputs(platform)
    finally:
        platform.stop()


def _refuse_writes(platform: Platform) -> None:
    """Every write of operator outputs fails until ``_allow_writes``."""
    _despite_deadlocks(_create_refusing_triggers, platform)


def _despite_deadlocks(change: Callable[[Platform], None], platform: Platform) -> None:
    """On PostgreSQL the triggers are created and dropped while the platform's two
    writers write those tables, so PostgreSQL may end the change as a deadlock's
    victim: then it is made again."""
    for attempt in range(5):
        try:
            change(platform)
            return
        except OperationalError as err:
            if "deadlock detected" not in str(err) or attempt == 4:
                raise
            time.sleep(0.1)


def _create_refusing_triggers(platform: Platform) -> None:
    postgresql = platform.engine.dialect.name == "postgresql"
    with platform.engine.begin() as connection:
        if postgresql:
            connection.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'injected fault'; END $$"
                )
            )
        for table in _REFUSE:
            for verb in ("INSERT", "UPDATE"):
                name = f"refuse_{verb.lower()}_{table}"
                body = (
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                    if postgresql
                    else "BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
                )
                connection.execute(text(f"CREATE TRIGGER {name} BEFORE {verb} ON {table} {body}"))


def _allow_writes(platform: Platform) -> None:
    _despite_deadlocks(_drop_refusing_triggers, platform)


def _drop_refusing_triggers(platform: Platform) -> None:
    postgresql = platform.engine.dialect.name == "postgresql"
    with platform.engine.begin() as connection:
        for table in _REFUSE:
            for verb in ("insert", "update"):
                on = f" ON {table}" if postgresql else ""
                connection.execute(text(f"DROP TRIGGER refuse_{verb}_{table}{on}"))
        if postgresql:
            connection.execute(text("DROP FUNCTION refuse()"))


def _terminate_connections(platform: Platform) -> int:
    """PostgreSQL: end every other session on the test's database, as a failover or
    an administrator would; returns how many were ended."""
    import psycopg

    url = platform.engine.url
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{url.database}") as own:
        return len(
            own.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        )


def test_a_passing_fault_is_retried_and_outputs_equal_a_fault_free_run(
    new_settings: SettingsFactory,
) -> None:
    start = day_start()
    expected = _fault_free(new_settings(), start)
    kinds = {row[4] for row in expected["conditions"]}  # type: ignore[attr-defined]
    assert {"device_offline", "battery_low"} <= kinds

    platform = _platform(new_settings(), start)
    try:
        for index, step in enumerate(steps(start)):
            if index == 30:
                _refuse_writes(platform)
                if new_settings.kind == "postgresql":  # type: ignore[attr-defined]
                    assert _terminate_connections(platform) > 0  # the pool's, mid-fault
                send(platform, step)
                deadline = time.monotonic() + 10
                while platform.runtime.write_failures == 0 and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert platform.runtime.write_failures > 0, "the fault was never met"
                _allow_writes(platform)
                continue
            send(platform, step)
        assert platform.wait_until_processed()
        assert platform.runtime.failed is None
        assert outputs(platform) == expected
    finally:
        platform.stop()


def test_a_lasting_fault_stops_the_runtime_and_a_restart_catches_up(
    new_settings: SettingsFactory,
) -> None:
    start = day_start()
    expected = _fault_free(new_settings(), start)
    settings = new_settings()
    all_steps = list(steps(start))

    platform = _platform(settings, start)
    try:
        platform.runtime.retry_seconds = 0.01  # give up fast
        for step in all_steps[:30]:
            send(platform, step)
        assert platform.wait_until_processed()
        _refuse_writes(platform)
        for step in all_steps[30:]:
            send(platform, step)  # ingest goes on: the log is still writable
        deadline = time.monotonic() + 20
        while platform.runtime.failed is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert isinstance(platform.runtime.failed, OutputsLost)
    finally:
        platform.stop()

    repaired = Platform(settings)
    _allow_writes(repaired)
    repaired.start()
    try:
        assert repaired.wait_until_processed()
        assert outputs(repaired) == expected
    finally:
        repaired.stop()


@pytest.fixture(autouse=True)
def _quiet_retries(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("ERROR")
