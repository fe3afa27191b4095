"""The benchmark scripts run end to end (``--quick``) and report their headline figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import server_available

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_ingest_benchmark_quick(tmp_path: Path) -> None:
    """benchmarks/ingest.py --quick pushes real readings through a real server and writes
    positive throughput and latency figures, the machine and the command."""
    output = tmp_path / "ingest.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "ingest.py"), "--quick"]
    command += ["--readings", "8000", "--output", str(output)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    figures = json.loads(output.read_text())
    assert [run["readings"] for run in figures["http"]["runs"]] == [8000]
    assert figures["http_readings_per_second"] > 0
    assert 0 < figures["http_p50_ms"] <= figures["http_p99_ms"]
    assert figures["machine"]["cores"] and figures["command"].endswith("--output " + str(output))
    if server_available(1883):
        assert figures["mqtt_readings_per_second"] > 0
        assert 0 < figures["mqtt_p50_ms"] <= figures["mqtt_p99_ms"]
    assert "HTTP → SQLite → operators" in result.stdout


@pytest.mark.slow
def test_ingest_benchmark_sparkplug_quick(tmp_path: Path) -> None:
    """--sparkplug --quick: simulated edge nodes publish BIRTHs and DDATA through the real
    Mosquitto into the server's Sparkplug host and the factory's OEE operators; every
    message is committed, and the OEE updates' latency from the message is reported."""
    if not server_available(1883):
        if os.environ.get("CI") == "true":
            pytest.fail("Mosquitto is not listening on 127.0.0.1:1883 (CI=true)")
        pytest.skip("Mosquitto is not listening on 127.0.0.1:1883")
    output = tmp_path / "sparkplug.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "ingest.py"), "--quick", "--no-http"]
    command += ["--no-mqtt", "--sparkplug", "--sparkplug-metrics", "12000", "--repeat", "1"]
    command += ["--output", str(output)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    figures = json.loads(output.read_text())
    spb = figures["sparkplug"]
    assert "factory" in spb["domains"] and spb["metrics_per_ddata"] == 30
    (run,) = spb["runs"]
    assert run["messages_lost"] == 0 and run["dead_letters"] == {}
    assert run["metrics"] == 12000 and figures["sparkplug_metrics_per_second"] > 0
    assert run["server_cpu_us_per_metric"] > 0
    assert spb["latency"]["oee_updates"] > 0
    assert 0 < spb["p50_ms"] <= figures["sparkplug_p99_ms"]
    assert "Sparkplug B → Mosquitto" in result.stdout


@pytest.mark.slow
def test_routing_benchmark_quick(tmp_path: Path) -> None:
    """benchmarks/routing.py --quick solves a few Solomon and Mankowska instances (each
    Mankowska plan verified by the independent checker), plans and re-plans a small
    council day, and writes the headline figures, the machine and the command."""
    data = Path("/work/shared/data")
    if not (ROOT.parent / "shared" / "data").exists() and not data.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("the reference data is missing (CI=true)")
        pytest.skip("the reference data in ../shared/data is missing")
    output = tmp_path / "routing.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "routing.py"), "--quick"]
    command += ["--output", str(output)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    figures = json.loads(output.read_text())
    assert figures["solomon_instances_1s"] == ["C101", "R101"]
    assert 0 <= figures["solomon_mean_gap_pct_1s"] < 5
    assert figures["pyvrp_mean_gap_pct_1s"] is not None
    assert "ortools_no_solution_1s" in figures
    assert figures["mankowska_feasible"] == 2
    assert all(run["feasible"] for run in figures["mankowska"]["runs"])
    assert 0 <= figures["mankowska_mean_gap_pct_ad"] < 20
    assert 0 < figures["replan_seconds"] < 10
    assert figures["council"]["replan"]["started_visits_kept"] is True
    assert figures["council"]["vigil"]["working_time_violations"] == 0
    assert figures["machine"]["cores"] and figures["command"].endswith("--output " + str(output))
    assert "headline figures" in result.stdout


@pytest.mark.slow
def test_ingest_benchmark_sections_quick(tmp_path: Path) -> None:
    """The PostgreSQL, InfluxDB, scale and pages sections in small forms: each reports
    its headline figure, or says why it was skipped (the missing alert queue page)."""
    output = tmp_path / "sections.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "ingest.py"), "--quick", "--no-mqtt"]
    command += ["--readings", "4000", "--output", str(output), "--postgresql", "--influxdb"]
    command += ["--no-install", "--scale", "--scale-devices", "6000", "--scale-entities", "6000"]
    command += ["--pages", "--page-devices", "2000", "--page-entities", "2000"]
    command += ["--page-readings", "4000", "--page-seconds", "2"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    figures = json.loads(output.read_text())
    if server_available(5432):
        assert figures["postgresql"]["readings_per_second"] > 0
        assert figures["postgresql_latency"]["p99_ms"] > 0
        insert = figures["postgresql_insert"]
        assert insert["copy_binary"]["rows"] == insert["executemany"]["rows"] == 20_000
    if "skipped" not in figures["influxdb"]:
        assert figures["influxdb"]["points_stored"] == 4000
        assert figures["influxdb_ratio"] > 0
    assert figures["devices_100k_ratio"] > 0
    assert [run["devices"] for run in figures["scale"]["runs"]] == [5000, 6000]
    assert figures["scale"]["stored_state_bytes_per_device"] > 0
    assert figures["overview_page_p99_ms"] > 0 and figures["entity_page_p99_ms"] > 0
    pages = figures["pages_at_scale"]
    assert ("alert_queue_p99_ms" in figures) != ("alert_queue" in pages["skipped"])


@pytest.mark.slow
def test_care_detection_benchmark_quick(tmp_path: Path) -> None:
    """benchmarks/care_detection.py --quick replays both real homes (as recorded and with
    injected anomalies), a few simulated homes with their ground truth and a small scale
    run, and writes the headline figures at the top level with the machine and command."""
    if not (ROOT.parent / "shared" / "data" / "adl").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("the reference ADL data is missing (CI=true)")
        pytest.skip("the reference data in ../shared/data/adl is missing")
    output = tmp_path / "care.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "care_detection.py"), "--quick"]
    command += ["--output", str(output)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    figures = json.loads(output.read_text())
    assert sorted(figures["real"]["homes"]) == ["kasteren", "ordonez"]
    assert set(figures["recall"]) >= {"not_up", "night_exit", "missed_meals"}
    assert figures["min_recall"] == min(v for v in figures["recall"].values())
    assert 0 <= figures["false_alerts_per_home_week"] <= 2
    assert "cold_spell" not in figures["recall"] and "cold_spell" in figures["sim_recall"]
    assert "decline" in figures["sim_recall"]
    assert figures["sim_min_recall"] == min(figures["sim_recall"].values())
    assert figures["events_per_second_5000_homes"] > 0 and figures["homes_per_process"] > 0
    assert figures["memory_bytes_per_home"] > figures["state_bytes_per_home"] / 4 > 0
    assert figures["machine"]["cores"] and figures["command"].endswith("--output " + str(output))
    assert "headline figures" in result.stdout


@pytest.mark.slow
def test_factory_correlation_benchmark_quick(tmp_path: Path) -> None:
    """benchmarks/factory_correlation.py --quick runs a simulated plant day through the
    factory chain and writes both headline fractions, the machine and the command."""
    output = tmp_path / "factory_correlation.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "factory_correlation.py"), "--quick"]
    command += ["--output", str(output)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    figures = json.loads(output.read_text())
    assert figures["network_stops"] > 0 and figures["machine_stops"] > 0
    assert 0.9 <= figures["network_stops_attributed"] <= 1
    assert 0 <= figures["machine_stops_misattributed"] <= 0.05
    assert figures["machine"]["cores"] and figures["command"].endswith("--output " + str(output))
    assert "caused by the network" in result.stdout
