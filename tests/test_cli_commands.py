"""``vigil demo``, ``serve``, ``replay`` and ``simulate`` as users run them, and the Makefile.

Each test runs the installed script in a subprocess, as in ``test_cli.py``.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import require_server
from vigil.catalog import Catalog, Tenant
from vigil.config import Settings
from vigil.platform import Platform

VIGIL = Path(sys.executable).with_name("vigil")
REPO = Path(__file__).resolve().parents[1]
DATA = Path("/work/shared/data")
KASTEREN = DATA / "adl" / "kasteren_house_a"
RUNNING = re.compile(r"Vigil is running: open http://127\.0\.0\.1:(\d+)/")
QUICK = ("--history-hours", "0.02")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env.update(extra)
    return env


def run(*args: str, cwd: Path, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VIGIL), *args],
        capture_output=True,
        text=True,
        env=_env(**env),
        timeout=timeout,
        check=False,
        cwd=cwd,
    )


class Running:
    """A ``vigil`` (or ``make``) process started in its own process group."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.output = ""

    def until_running(self, timeout: float = 60) -> int:
        """The port from the 'Vigil is running' line, once it is printed."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.output += line
            found = RUNNING.search(line)
            if found:
                return int(found.group(1))
        raise AssertionError(f"no 'Vigil is running' line; output:\n{self.output}")

    def interrupt(self, timeout: float = 30) -> int:
        """Ctrl+C as a terminal sends it: SIGINT to the whole process group."""
        os.killpg(self.process.pid, signal.SIGINT)
        out, _ = self.process.communicate(timeout=timeout)
        self.output += out
        return self.process.returncode

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.communicate(timeout=10)


@contextmanager
def running(*args: str, cwd: Path, **env: str) -> Iterator[Running]:
    process = Running([str(VIGIL), *args], cwd, _env(**env))
    try:
        yield process
    finally:
        process.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(port: int) -> bool:
    return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200


# Item 8: a second demo leaves the running one alone.


def test_second_demo_is_refused_and_leaves_the_first_alone(tmp_path: Path) -> None:
    """A second ``vigil demo`` on the same data directory exits 2 naming the running one;
    the first one's database file is the same file and it goes on serving."""
    data = tmp_path / "demo"
    with running("demo", "--port", "0", "--data-dir", str(data), *QUICK, cwd=tmp_path) as first:
        port = first.until_running()
        database = (data / "vigil.db").stat().st_ino
        second = run("demo", "--port", "0", "--data-dir", str(data), *QUICK, cwd=tmp_path)
        assert second.returncode == 2, second.stderr
        assert f"{data} is in use by another Vigil (process {first.process.pid})" in second.stderr
        assert "Vigil is running" not in second.stderr
        assert (data / "vigil.db").stat().st_ino == database
        assert healthy(port)


# Item 9: only what Vigil created is deleted.


def test_demo_deletes_only_its_own_files_in_the_data_dir(tmp_path: Path) -> None:
    """``--data-dir`` naming a folder with other files: they are all still there after
    a fresh demo (which deletes only its previous database)."""
    data = tmp_path / "mine"
    (data / "notes").mkdir(parents=True)
    (data / "thesis.txt").write_text("years of work")
    (data / "notes" / "a.txt").write_text("a")
    (data / "vigil.db-wal").write_bytes(b"stale")  # a previous demo's: Vigil's to delete
    with running("demo", "--port", "0", "--data-dir", str(data), *QUICK, cwd=tmp_path) as demo:
        demo.until_running()
        assert (data / "thesis.txt").read_text() == "years of work"
        assert (data / "notes" / "a.txt").read_text() == "a"
        assert (data / "vigil.db").is_file()


# Item 11: "running" only once the port is bound; a taken port is one line.


def test_running_is_printed_only_once_the_port_listens(tmp_path: Path) -> None:
    """The moment 'Vigil is running' is printed, the port accepts connections."""
    data = str(tmp_path / "d")
    with running("demo", "--port", "0", "--data-dir", data, *QUICK, cwd=tmp_path) as demo:
        port = demo.until_running()
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            pass
        assert healthy(port)


@pytest.mark.parametrize("command", ["demo", "serve"])
def test_a_taken_port_is_a_one_line_error(command: str, tmp_path: Path) -> None:
    """With the port taken, ``demo`` and ``serve`` exit 2 with one line naming the port,
    never claim to be running, and a demo deletes nothing."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data = tmp_path / "d"
        data.mkdir()
        (data / "vigil.db").write_bytes(b"the running demo's")
        extra = ("--data-dir", str(data), *QUICK) if command == "demo" else ()
        result = run(
            command,
            "--port",
            str(port),
            *extra,
            cwd=tmp_path,
            VIGIL_STORE__URL=f"sqlite:///{tmp_path / 's.db'}",
        )
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"vigil: port {port} on 127.0.0.1 is already in use (another Vigil?); "
        "choose another with --port or VIGIL_WEB__PORT"
    ]
    assert (data / "vigil.db").read_bytes() == b"the running demo's"


# Item 12: flag > environment > file > default, for the demo's port too.


def test_demo_port_comes_from_the_environment_the_file_or_the_flag(tmp_path: Path) -> None:
    """``VIGIL_WEB__PORT`` beats the settings file's ``web.port``; ``--port`` beats both."""
    file_port, env_port, flag_port = free_port(), free_port(), free_port()
    config = tmp_path / "vigil.toml"
    config.write_text(f"[web]\nport = {file_port}\n")
    cases = [
        ((), {}, file_port),
        ((), {"VIGIL_WEB__PORT": str(env_port)}, env_port),
        (("--port", str(flag_port)), {"VIGIL_WEB__PORT": str(env_port)}, flag_port),
    ]
    for i, (flags, env, expected) in enumerate(cases):
        args = ("demo", "--config", str(config), "--data-dir", str(tmp_path / f"d{i}"), *flags)
        with running(*args, *QUICK, cwd=tmp_path, **env) as demo:
            assert demo.until_running() == expected, (flags, env)
            assert healthy(expected)


def test_make_demo_passes_a_port(tmp_path: Path) -> None:
    """``make demo PORT=8001`` runs ``vigil demo --port 8001``."""
    result = subprocess.run(
        ["make", "-n", "-C", str(REPO), "demo", "PORT=8001"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"vigil demo --port 8001\b", result.stdout), result.stdout


# Item 16: Ctrl+C on make demo, the Python probe, settings errors.


def test_ctrl_c_on_make_demo_ends_cleanly(tmp_path: Path) -> None:
    """Ctrl+C on ``make demo``: vigil stops cleanly and make prints no error line.

    make gets the SIGINT as well and ends by it, as any program does on Ctrl+C; what
    must not happen is vigil exiting 130 and make reporting ``*** ... Error 130``."""
    venv = Path(sys.executable).parents[1]
    argv = [
        "make",
        "-C",
        str(REPO),
        "demo",
        f"VENV={venv}",
        "PORT=0",
        f"DEMO_ARGS=--data-dir {tmp_path / 'd'} {' '.join(QUICK)}",
    ]
    # The stamp is older than pyproject.toml in some checkouts: touch nothing, tell make.
    argv.insert(1, f"--assume-old={venv / '.installed'}")
    demo = Running(argv, tmp_path, _env())
    try:
        demo.until_running()
        time.sleep(0.5)
        returncode = demo.interrupt()
    finally:
        demo.stop()
    assert returncode in (0, -signal.SIGINT), demo.output
    assert "Vigil stopped" in demo.output
    assert "***" not in demo.output
    assert "Error" not in demo.output
    assert "Traceback" not in demo.output


def test_makefile_python_probe_is_quiet_with_a_failing_shim(tmp_path: Path) -> None:
    """A ``python3.13`` on the PATH that fails when run (a pyenv shim) prints nothing."""
    shims = tmp_path / "shims"
    shims.mkdir()
    for name in ("python3.13", "python3.12"):
        shim = shims / name
        shim.write_text(f"#!/bin/sh\necho 'pyenv: {name}: command not found' >&2\nexit 127\n")
        shim.chmod(0o755)
    env = _env(PATH=f"{shims}:{os.environ['PATH']}")
    result = subprocess.run(
        ["make", "-n", "-C", str(REPO), f"VENV={tmp_path / 'venv'}", f"{tmp_path}/venv/.installed"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "pyenv" not in result.stderr + result.stdout
    assert "python3.13 -m venv" not in result.stdout


def test_invalid_settings_name_no_internal_class_and_no_value(tmp_path: Path) -> None:
    """An invalid setting's error names the setting, not a class of Vigil's or pydantic's,
    and quotes no value: a store URL may carry a password."""
    secret = "hunter2-very-secret-password"
    files = {
        "port.toml": '[web]\nport = "eighty"\n',
        "section.toml": f'store = "postgresql+psycopg://vigil:{secret}@db.example/vigil"\n',
        "type.toml": f"[store]\nurl = 5\nsqlite_synchronous = '{secret}'\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        result = run("migrate", "--config", str(tmp_path / name), cwd=tmp_path)
        assert result.returncode == 2, (name, result.stderr)
        message = result.stderr
        assert message.startswith("vigil: invalid settings: "), message
        assert message.count("\n") == 1, message
        for internal in ("_FromFile", "Settings", "StoreSettings", "pydantic", secret, "hunter2"):
            assert internal not in message, (name, message)
    assert (
        "web.port" in run("migrate", "--config", str(tmp_path / "port.toml"), cwd=tmp_path).stderr
    )


def test_a_bad_store_url_is_not_echoed(tmp_path: Path) -> None:
    """A store URL that cannot be parsed is refused without repeating any of it."""
    result = run("migrate", cwd=tmp_path, VIGIL_STORE__URL="postgresql+psycopg://u:hunter2@[::1")
    assert result.returncode == 2, result.stderr
    assert "hunter2" not in result.stderr
    assert result.stderr.startswith("vigil: invalid store URL")


# Items 10, 13, 14: replay.


needs_kasteren = pytest.mark.skipif(
    not KASTEREN.is_dir() and os.environ.get("CI") != "true", reason=f"{KASTEREN} is not here"
)


@needs_kasteren
@pytest.mark.parametrize("path", [DATA, DATA / "adl", KASTEREN], ids=["data", "adl", "own"])
def test_replay_path_accepts_the_documented_folders(path: Path, tmp_path: Path) -> None:
    """``--path`` may name ``shared/data`` (the help), ``shared/data/adl`` (the docs) or
    the data set's own folder."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    result = run("replay", "kasteren", "--path", str(path), cwd=tmp_path, VIGIL_STORE__URL=url)
    assert result.returncode == 0, result.stderr
    assert "replayed 2,638 events; rejected: 0\n" in result.stderr


@needs_kasteren
def test_replay_that_stores_nothing_exits_non_zero_and_says_why(tmp_path: Path) -> None:
    """``--as-recorded`` keeps 2010's timestamps, all too old: exit 1 with the reason."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    result = run(
        "replay", "kasteren", "--path", str(KASTEREN), "--as-recorded",
        cwd=tmp_path, VIGIL_STORE__URL=url,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "replayed 2,638 events; rejected: 2,638" in result.stderr
    assert "nothing was stored: every event was rejected (time_too_old 2,638)" in result.stderr


def _store_with(tmp_path: Path, *tenants: Tenant) -> str:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    platform = Platform(Settings(store={"url": url}))
    platform.apply_catalog(Catalog(tenants=tenants))
    platform.stop()
    return url


def _tenant(url: str, tenant: str) -> Tenant:
    platform = Platform(Settings(store={"url": url}))
    try:
        return platform.registry.tenant(tenant)
    finally:
        platform.stop()


@needs_kasteren
def test_replay_into_a_plant_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    """Replaying a home into an existing plant tenant is refused with a clear message;
    the plant keeps its name and kind."""
    plant = Tenant(id="plant", name="Riverside Plant", kind="plant")
    url = _store_with(tmp_path, plant)
    result = run(
        "replay", "kasteren", "--path", str(KASTEREN), "--tenant", "plant",
        cwd=tmp_path, VIGIL_STORE__URL=url,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "tenant 'plant' (Riverside Plant) is a plant" in result.stderr
    assert _tenant(url, "plant") == plant


@needs_kasteren
def test_replay_into_an_existing_council_adds_to_it(tmp_path: Path) -> None:
    """Replaying into an existing council adds the home and keeps the council's name."""
    north = Tenant(id="north", name="North Council", kind="council")
    url = _store_with(tmp_path, north)
    result = run(
        "replay", "kasteren", "--path", str(KASTEREN), "--tenant", "north",
        cwd=tmp_path, VIGIL_STORE__URL=url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert _tenant(url, "north") == north


# Item 15: simulate --mqtt says what was confirmed.


@pytest.mark.integration
def test_simulate_mqtt_to_a_prefix_nobody_reads_says_nothing_arrived(tmp_path: Path) -> None:
    """Publishing where no Vigil listens: exit 1, and the report says nothing was stored
    instead of 'rejected by Vigil: 0'."""
    require_server(1883, "Mosquitto")
    prefix = f"nobody-{uuid.uuid4().hex[:8]}"
    result = run(
        "simulate", "--mqtt", "127.0.0.1:1883", "--hours", "0.02",
        cwd=tmp_path, timeout=120,
        VIGIL_STORE__URL=f"sqlite:///{tmp_path / 's.db'}", VIGIL_MQTT__TOPIC_PREFIX=prefix,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "acknowledged by the broker, not by Vigil" in result.stderr
    assert re.search(r"confirmed in the store: 0 of [\d,]+ stored", result.stderr), result.stderr
    assert "nothing arrived" in result.stderr
    assert "rejected by Vigil: 0" not in result.stderr


@pytest.mark.integration
def test_simulate_mqtt_reports_what_the_server_stored(tmp_path: Path) -> None:
    """With a ``vigil serve`` subscribed to the prefix, the report counts what it stored."""
    require_server(1883, "Mosquitto")
    env = {
        "VIGIL_STORE__URL": f"sqlite:///{tmp_path / 's.db'}",
        "VIGIL_MQTT__ENABLED": "true",
        "VIGIL_MQTT__TOPIC_PREFIX": f"sim-{uuid.uuid4().hex[:8]}",
        "VIGIL_MQTT__CLIENT_ID": f"vigil-test-{uuid.uuid4().hex[:8]}",
    }
    assert run("migrate", cwd=tmp_path, **env).returncode == 0
    with running("serve", "--port", "0", cwd=tmp_path, **env) as server:
        server.until_running()
        # An unknown device makes the server read the registry again, at most every 2 s
        # (docs/getting-started.md); it read it at start-up, so let 2 s pass.
        time.sleep(2.5)
        result = run(
            "simulate", "--mqtt", "127.0.0.1:1883", "--hours", "0.02",
            cwd=tmp_path, timeout=120, **env,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    found = re.search(r"confirmed in the store: ([\d,]+) of ([\d,]+) stored", result.stderr)
    assert found, result.stderr
    assert found.group(1) == found.group(2), result.stderr
    assert found.group(1) != "0"


def test_plan_prints_progress_and_a_summary_and_writes_the_plan(tmp_path: Path) -> None:
    """``vigil plan`` shows timestamped progress, a summary with visits placed, travel and
    each visit not placed with its reason, and writes the plan as CSV when asked to."""
    out = tmp_path / "plan.csv"
    done = run(
        "plan", "--tenant", "north", "--date", "2026-12-08", "--seconds", "2",
        "--output", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert re.match(r"\[ +0\.\d s\] planning north on 2026-12-08: \d+ visits, 40 carers", lines[0])
    summary = next(line for line in lines if "] done: " in line)
    placed, total = map(int, re.search(r"done: (\d+) of (\d+) visits placed", summary).groups())
    assert 0 < placed <= total
    assert re.search(r"travel [\d,]+ min, checker: (feasible|unassigned)$", summary)
    not_placed = [line for line in lines if line.startswith("  not placed: ")]
    assert len(not_placed) == min(20, total - placed)
    assert all(": " in line.removeprefix("  not placed: ") for line in not_placed)
    assert lines[-1] == f"plan written to {out}"
    rows = out.read_text().splitlines()
    assert rows[0].startswith("carer,order,visit,client,start,end")
    assert len(rows) == 1 + total


def test_plan_refuses_a_bad_date_in_one_line(tmp_path: Path) -> None:
    """A date that is not YYYY-MM-DD is a usage error naming the value, with no plan run."""
    done = run("plan", "--tenant", "north", "--date", "08/12/2026", cwd=tmp_path)
    assert done.returncode == 2
    assert "not a date (YYYY-MM-DD): '08/12/2026'" in done.stderr
    assert not list(tmp_path.iterdir())
