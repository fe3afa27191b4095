"""The sparkline drawing in ``app.js``: a 0/1 sensor is drawn as steps (it holds
its value until the next reading), any other sensor as a line through its readings.

Runs ``drawSpark`` itself under Node with a minimal stand-in for the DOM."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import vigil.web

APP_JS = Path(vigil.web.__file__).parent / "static" / "app.js"

_HARNESS = """
var SVG = "svg";
function key(device, metric) { return device + "\\u0000" + metric; }
function formatValue(v) { return String(v); }
var series = {};
series[key("d", "m")] = POINTS;
function element(name) {
  return { name: name, attrs: {}, children: [], textContent: "",
    setAttribute: function (k, v) { this.attrs[k] = v; },
    getAttribute: function (k) { return this.attrs[k]; },
    appendChild: function (c) { this.children.push(c); this.firstChild = this.children[0]; },
    removeChild: function (c) { this.children.shift(); this.firstChild = this.children[0]; } };
}
var document = { createElementNS: function (ns, name) { return element(name); } };
var svg = element("svg");
svg.attrs["data-spark-device"] = "d"; svg.attrs["data-spark-metric"] = "m";
DRAW
drawSpark(svg);
var line = svg.children.filter(function (c) { return c.name === "polyline"; })[0];
var shape = svg.attrs["data-spark-shape"];
console.log(JSON.stringify({shape: shape, points: line && line.attrs.points}));
"""


def _draw(points: list[list[float]]) -> dict[str, str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    source = APP_JS.read_text()
    start = source.index("  function drawSpark(svg) {")
    end = source.index("\n  function addPoint", start)
    script = _HARNESS.replace("POINTS", json.dumps(points)).replace("DRAW", source[start:end])
    result = subprocess.run(
        [node, "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    return json.loads(result.stdout)


def test_a_binary_sensor_is_drawn_as_steps() -> None:
    """0 at t=0, 1 at t=50, 0 at t=100: each change is a vertical step at its time."""
    drawn = _draw([[0, 0], [50, 1], [100, 0]])
    assert drawn == {
        "shape": "steps",
        "points": "0.00,22.00 50.00,22.00 50.00,2.00 100.00,2.00 100.00,22.00",
    }


def test_other_sensors_are_drawn_as_a_line() -> None:
    """Readings that are not all 0/1 are joined directly."""
    drawn = _draw([[0, 0], [50, 2], [100, 1]])
    assert drawn == {"shape": "line", "points": "0.00,22.00 50.00,2.00 100.00,12.00"}
