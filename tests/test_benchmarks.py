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
