"""The plan pages' pictures: the roster board and the run map, as SVG geometry.

Drawn from the plan's times and the visits' coordinates only (no script, no map
tiles: care networks are often closed); the templates turn these numbers into SVG.
"""

from __future__ import annotations

import colorsys
from typing import Any

from vigil.planning.export import clock, rows
from vigil.planning.model import Plan, Problem

DAY_START, DAY_END = 6 * 3600, 23 * 3600
BOARD_WIDTH, LABEL_WIDTH, ROW_HEIGHT = 1000, 90, 22
MAP_SIZE = 640


def colour(index: int, count: int) -> str:
    red, green, blue = colorsys.hls_to_rgb((index / max(1, count)) % 1.0, 0.42, 0.65)
    return f"#{int(red * 255):02x}{int(green * 255):02x}{int(blue * 255):02x}"


def _x(seconds: int) -> float:
    share = (min(max(seconds, DAY_START), DAY_END) - DAY_START) / (DAY_END - DAY_START)
    return round(LABEL_WIDTH + share * (BOARD_WIDTH - LABEL_WIDTH), 1)


def board(
    problem: Problem, plan: Plan, locked: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    """The roster board's geometry: a row per carer, a block per visit and break
    (``locked`` visits are marked)."""
    table = rows(problem, plan)
    lanes = []
    for lane, route in enumerate(plan.routes):
        carer = problem.carer(route.carer)
        y = lane * ROW_HEIGHT + 24
        blocks = []
        for row in (r for r in table if r.carer == route.carer):
            kind = "double" if row.partner else ("skill" if row.skills else "visit")
            blocks.append(
                {
                    "x": _x(row.start),
                    "width": max(2.0, round(_x(row.end) - _x(row.start), 1)),
                    "kind": kind,
                    "visit": row.visit,
                    "locked": row.visit in locked,
                    "title": f"{row.client} {clock(row.start)}-{clock(row.end)}"
                    + (f", with {row.partner}" if row.partner else "")
                    + (f", needs {', '.join(row.skills)}" if row.skills else ""),
                }
            )
        breaks = []
        if route.stops:
            for rule, start in zip(carer.breaks, route.breaks, strict=False):
                breaks.append(
                    {
                        "x": _x(start),
                        "width": round(_x(start + rule.duration) - _x(start), 1),
                        "title": f"break {clock(start)}-{clock(start + rule.duration)}",
                    }
                )
        lanes.append(
            {
                "carer": route.carer,
                "mode": carer.travel_mode,
                "y": y,
                "shift_x": _x(carer.shift_start),
                "shift_width": round(_x(carer.shift_end) - _x(carer.shift_start), 1),
                "blocks": blocks,
                "breaks": breaks,
            }
        )
    hours = [
        {"x": _x(hour * 3600), "label": f"{hour:02d}"}
        for hour in range(DAY_START // 3600, DAY_END // 3600 + 1)
    ]
    return {
        "lanes": lanes,
        "hours": hours,
        "width": BOARD_WIDTH + 12,
        "height": len(lanes) * ROW_HEIGHT + 30,
        "row": ROW_HEIGHT - 6,
    }


def run_map(problem: Problem, plan: Plan, only: str | None = None) -> dict[str, Any]:
    """Each carer's run as a line through its visits, in metres, north up."""
    xs = [x for x, _ in problem.locations]
    ys = [y for _, y in problem.locations]
    low_x, high_x, low_y, high_y = min(xs), max(xs), min(ys), max(ys)
    span = max(high_x - low_x, high_y - low_y, 1.0)
    margin = span * 0.03

    def point(location: int) -> tuple[float, float]:
        x, y = problem.locations[location]
        return (
            round((x - low_x + margin) / (span + 2 * margin) * MAP_SIZE, 1),
            round((high_y - y + margin) / (span + 2 * margin) * MAP_SIZE, 1),
        )

    runs = []
    for index, route in enumerate(plan.routes):
        if not route.stops or (only is not None and route.carer != only):
            continue
        carer = problem.carer(route.carer)
        places = [
            carer.start_location,
            *(problem.visit(s.visit).location for s in route.stops),
            carer.end_location,
        ]
        points = [point(p) for p in places]
        runs.append(
            {
                "carer": route.carer,
                "colour": colour(index, len(plan.routes)),
                "line": " ".join(f"{x},{y}" for x, y in points),
                "base": points[0],
                "stops": [
                    {"x": x, "y": y, "order": n, "visit": s.visit}
                    for n, ((x, y), s) in enumerate(zip(points[1:-1], route.stops, strict=True), 1)
                ],
            }
        )
    missing = [
        {
            "visit": v,
            "x": point(problem.visit(v).location)[0],
            "y": point(problem.visit(v).location)[1],
        }
        for v in plan.unassigned
        if only is None
    ]
    metres = round(span / 5, -2) or span / 5
    scale = round(metres / (span + 2 * margin) * MAP_SIZE, 1)
    return {
        "runs": runs,
        "missing": missing,
        "size": MAP_SIZE,
        "scale": {"metres": int(metres), "width": scale},
    }


__all__ = ["board", "colour", "run_map"]
