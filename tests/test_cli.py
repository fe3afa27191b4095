"""The ``vigil`` command, run as users run it: the installed script in a subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select

from tests.conftest import small_catalog
from vigil.config import Settings
from vigil.platform import Platform
from vigil.store.schema import event_log, metadata
from vigil.store.tokens import TokenRepository

VIGIL = Path(sys.executable).with_name("vigil")
COMMANDS = ("demo", "serve", "simulate", "replay", "migrate", "token", "plan")
DATA = Path("/work/shared/data")
KASTEREN = DATA / "adl" / "kasteren_house_a"


def run(
    *args: str, url: str | None = None, timeout: float = 60, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """The command in ``cwd`` (a temporary folder: relative paths land there)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    if url is not None:
        env["VIGIL_STORE__URL"] = url
    return subprocess.run(
        [str(VIGIL), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
        cwd=cwd,
    )


def test_script_is_installed() -> None:
    """The venv has the ``vigil`` entry point."""
    assert VIGIL.is_file()


def test_help_lists_every_command_with_a_description(tmp_path: Path) -> None:
    """``vigil --help`` names each command with a line saying what it does."""
    result = run("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in COMMANDS:
        assert re.search(rf"^\s+vigil {command}\s+\w+.*\w", result.stdout, re.M), command
    # The sub-command list under "positional arguments": exactly the commands, in order.
    positional = result.stdout.split("positional arguments:")[1].split("options:")[0]
    listed = re.findall(r"^ {4}([a-z]+) {2,}\w", positional, re.M)
    assert listed == list(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help(command: str, tmp_path: Path) -> None:
    """``vigil COMMAND --help`` works and shows that command's usage."""
    result = run(command, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: vigil {command}")
    assert "--config" in result.stdout


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    """``vigil migrate`` on an empty SQLite file creates every table."""
    path = tmp_path / "m.db"
    result = run("migrate", url=f"sqlite:///{path}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "revision" in result.stderr
    engine = create_engine(f"sqlite:///{path}")
    try:
        assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_token_prints_a_working_token(tmp_path: Path) -> None:
    """``vigil token`` prints a token that authenticates as that tenant and role."""
    url = f"sqlite:///{tmp_path / 't.db'}"
    platform = Platform(Settings(store={"url": url}))
    platform.apply_catalog(small_catalog())
    platform.stop()
    args = ("token", "--tenant", "north", "--role", "gateway", "--name", "x")
    result = run(*args, url=url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert token.startswith("vgl_") and "\n" not in token
    engine = create_engine(url)
    try:
        record = TokenRepository(engine).authenticate(token)
        assert record is not None
        assert (record.tenant, record.role, record.name) == ("north", "gateway", "x")
        assert TokenRepository(engine).authenticate(token[:-2] + "xx") is None
    finally:
        engine.dispose()


def test_token_refuses_an_unknown_tenant(tmp_path: Path) -> None:
    """A token for a tenant that does not exist is refused with the tenant's name."""
    url = f"sqlite:///{tmp_path / 't.db'}"
    result = run(
        "token", "--tenant", "nowhere", "--role", "gateway", "--name", "x", url=url, cwd=tmp_path
    )
    assert result.returncode == 2
    assert "nowhere" in result.stderr


def test_token_refuses_an_unknown_role(tmp_path: Path) -> None:
    """An unknown role is a usage error (exit 2), and nothing is created."""
    result = run("token", "--tenant", "north", "--role", "root", "--name", "x", cwd=tmp_path)
    assert not (tmp_path / "vigil.db").exists()
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_bad_settings_file_is_exit_2_with_a_message(tmp_path: Path) -> None:
    """A settings file with an unknown section, a bad value or a bad syntax, or a missing
    one, stops with exit code 2 and a one-line explanation, not a traceback."""
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('[stores]\nurl = "sqlite:///x.db"\n')
    bad_value = tmp_path / "bad.toml"
    bad_value.write_text("[ingest]\nmax_body_bytes = -5\n")
    for path, fragment in (
        (unknown, "stores"),
        (bad_value, "max_body_bytes"),
        (tmp_path / "missing.toml", "does not exist"),
    ):
        result = run("migrate", "--config", str(path), cwd=tmp_path)
        assert result.returncode == 2, (path, result.stderr)
        assert result.stderr.startswith("vigil: "), result.stderr
        assert fragment in result.stderr
        assert "Traceback" not in result.stderr


def test_misspelt_key_in_a_section_is_refused(tmp_path: Path) -> None:
    """A misspelt setting inside a section is an error, not a silent fall-back to the
    default (which would write to a different database)."""
    path = tmp_path / "typo.toml"
    path.write_text(f'[store]\nulr = "sqlite:///{tmp_path / "meant.db"}"\n')
    result = run("migrate", "--config", str(path), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "ulr" in result.stderr
    assert not (tmp_path / "vigil.db").exists()


def test_bad_store_url_is_exit_2(tmp_path: Path) -> None:
    """An unusable store URL is a configuration error, exit 2."""
    result = run("migrate", url="mysql://nobody@nowhere/db", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("vigil: ")


@pytest.mark.slow
@pytest.mark.skipif(not KASTEREN.is_dir(), reason=f"{KASTEREN} is not here")
def test_replay_kasteren_ingests_every_event(tmp_path: Path) -> None:
    """``vigil replay kasteren`` ingests all 2638 events of the data set, none rejected."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    args = ("replay", "kasteren", "--tenant", "north", "--path", str(KASTEREN))
    result = run(*args, url=url, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"replayed 2,638 events; rejected: 0\b", result.stderr), result.stderr
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            count = connection.execute(
                select(func.count())
                .select_from(event_log)
                .where(event_log.c.type.in_(["reading", "status", "alarm"]))
            ).scalar_one()
        assert count == 2638  # and the configuration events of its 14 sensors beside them
        with engine.connect() as connection:
            readings = connection.execute(
                select(func.min(event_log.c.time), func.max(event_log.c.time)).where(
                    event_log.c.type == "reading"
                )
            ).one()
            ticks = connection.execute(
                select(func.count(), func.min(event_log.c.time), func.max(event_log.c.time)).where(
                    event_log.c.type == "tick"
                )
            ).one()
        # The replay ticks in event time, every five minutes of the recording: a
        # wall-clock tick ahead of the history would fire every silence timer.
        span = readings[1] - readings[0]
        assert ticks[0] >= span / 300 * 0.9
        assert readings[0] <= ticks[1] and ticks[2] <= readings[1] + 300
    finally:
        engine.dispose()
