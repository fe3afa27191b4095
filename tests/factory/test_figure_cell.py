"""The plant and network pages' value cell: a figure, a state, or a dash -- never
"None" (a line's row before its first shift has neither a number nor a text)."""

from __future__ import annotations

from pathlib import Path

import jinja2

import vigil.factory
from vigil.engine.projection_rows import LatestValue

TEMPLATES = Path(vigil.factory.__file__).parent / "templates"


def _cell(found: dict[str, LatestValue]) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    env.filters["number"] = lambda value: f"{value:g}"
    template = env.from_string(
        '{% from "factory_figure.html" import figure %}{{ figure(found, "oee") }}'
    )
    return template.render(found=found).strip()


def _row(value: float | None, text: str | None, unit: str | None = None) -> LatestValue:
    return LatestValue(
        tenant="plant", entity="line-1", device="oee", metric="oee",
        value=value, text=text, time=0.0, unit=unit,
    )  # fmt: skip


def test_a_number_with_its_unit() -> None:
    assert _cell({"oee": _row(73.9, None, "%")}) == '73.9<span class="unit">%</span>'


def test_a_state_as_text() -> None:
    assert _cell({"oee": _row(None, "off shift")}) == "off shift"


def test_a_row_with_neither_or_no_row_is_a_dash() -> None:
    dash = '<span class="muted">—</span>'
    assert _cell({"oee": _row(None, None)}) == dash
    assert _cell({}) == dash
