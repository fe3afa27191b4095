"""Geometry of the resident page's inline SVG charts: numbers in, shapes out.

Pure: the templates only place what these functions computed (no script, no chart
library: care networks are often closed). Every shape carries the words of a
``<title>`` so that hovering and screen readers say what it shows.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any

from vigil.care.heatmap import HOURS, Heatmap
from vigil.care.indicators import Series, format_value
from vigil.care.localtime import at_hour, clock, local
from vigil.care.timeline import Lane

ROOM_COLOURS: dict[str, str] = {
    "bedroom": "#6b5ca5",
    "bathroom": "#1f7a8c",
    "kitchen": "#c0561d",
    "lounge": "#3f8f5a",
    "hall": "#8a6d1f",
    "other": "#5a6473",
}
LANE_COLOURS: dict[str, str] = {
    "bed": "#6b5ca5",
    "door": "#b26b00",
    "appliance": "#1f6fb2",
    "out": "#b3261e",
}

CELL_W, CELL_H, DAY_LABEL_W, HOUR_LABEL_H = 12, 10, 52, 14


def room_colour(room: str) -> str:
    return ROOM_COLOURS.get(room, ROOM_COLOURS["other"])


def day_label(day: date) -> str:
    """``'Mon 06 Jan'``."""
    return day.strftime("%a %d %b")


def heatmap_panels(heatmap: Heatmap) -> dict[str, Any]:
    """One small multiple per room: a row per care day, a column per local hour
    (04:00 first), each hour with activity a cell shaded by the room's count against
    its own busiest hour (quiet hours are a patterned background: most hours are
    quiet, and a cell each made a resident's page 800 KB)."""
    width = DAY_LABEL_W + CELL_W * len(HOURS) + 4
    height = HOUR_LABEL_H + CELL_H * len(heatmap.days) + 2
    hour_labels = [
        {"x": DAY_LABEL_W + i * CELL_W, "label": f"{hour:02d}"}
        for i, hour in enumerate(HOURS)
        if i % 4 == 0
    ]
    day_labels = [
        {"y": HOUR_LABEL_H + i * CELL_H + CELL_H - 2, "label": day_label(day)}
        for i, day in enumerate(heatmap.days)
        if i % 2 == (len(heatmap.days) - 1) % 2  # every other day, the latest always
    ]
    panels = []
    for room in heatmap.rooms:
        peak = heatmap.peak(room)
        cells = []
        for row, day in enumerate(heatmap.days):
            for column, hour in enumerate(HOURS):
                count = heatmap.cell(room, day, hour)
                if not count:  # quiet hours are the panel's patterned background
                    continue
                cells.append(
                    {
                        "x": DAY_LABEL_W + column * CELL_W,
                        "y": HOUR_LABEL_H + row * CELL_H,
                        "count": count,
                        "day": day.isoformat(),
                        "hour": hour,
                        "opacity": round(0.15 + 0.85 * count / peak, 3),
                        "title": f"{room.capitalize()}, {day_label(day)}, {hour:02d}:00 to "
                        f"{(hour + 1) % 24:02d}:00: {count} event{'s' if count != 1 else ''}",
                    }
                )
        panels.append(
            {
                "room": room,
                "label": room.capitalize(),
                "colour": room_colour(room),
                "total": heatmap.total(room),
                "peak": peak,
                "cells": cells,
            }
        )
    return {
        "width": width,
        "height": height,
        "cell_w": CELL_W,
        "cell_h": CELL_H,
        "grid_x": DAY_LABEL_W,
        "grid_y": HOUR_LABEL_H,
        "grid_w": CELL_W * len(HOURS),
        "grid_h": CELL_H * len(heatmap.days),
        "hours": hour_labels,
        "days": day_labels,
        "panels": panels,
    }


TIMELINE_W, TIMELINE_LABEL_W, ROW_H, AXIS_H = 960, 120, 20, 18


def timeline_board(
    lanes: list[Lane], start: float, end: float, day: date, tz: tzinfo
) -> dict[str, Any]:
    """A row per lane over the care day, hour lines in the home's local time."""
    span = max(end - start, 1.0)
    plot = TIMELINE_W - TIMELINE_LABEL_W

    def x(moment: float) -> float:
        return round(TIMELINE_LABEL_W + (moment - start) / span * plot, 1)

    ticks = []
    for hour in range(4, 29):
        moment = at_hour(day, float(hour), tz)
        if start <= moment <= end:
            ticks.append({"x": x(moment), "label": clock(moment, tz) if hour % 2 == 0 else ""})
    rows = []
    for index, lane in enumerate(lanes):
        colour = (
            room_colour(lane.key.removeprefix("room:"))
            if lane.sort == "room"
            else LANE_COLOURS.get(lane.sort, "#5a6473")
        )
        y = AXIS_H + index * ROW_H
        blocks = [
            {
                "x": x(a),
                "width": max(round(x(b) - x(a), 1), 1.5),
                "title": f"{lane.label}: {clock(a, tz)} to {clock(b, tz)}",
            }
            for a, b in lane.spans
        ]
        rows.append({"lane": lane, "y": y, "colour": colour, "blocks": blocks})
    return {
        "width": TIMELINE_W,
        "height": AXIS_H + ROW_H * len(lanes) + 4,
        "label_w": TIMELINE_LABEL_W,
        "row": ROW_H,
        "ticks": ticks,
        "rows": rows,
    }


SPARK_W, SPARK_H, SPARK_PAD, SPARK_AXIS = 280, 72, 8, 56


def indicator_chart(s: Series) -> dict[str, Any]:
    """A small chart: the days as dots, the normal band shaded, the weekly medians
    as a line; higher is more (later, for clock times)."""
    values = [v for _, v in s.points if v is not None]
    values += [v for _, v in s.weekly]
    if s.band:
        values += list(s.band)
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high - low < 1e-9:
        low, high = low - 1.0, high + 1.0
    count = max(len(s.points) - 1, 1)
    plot_w, plot_h = SPARK_W - 2 * SPARK_PAD - SPARK_AXIS, SPARK_H - 2 * SPARK_PAD

    def x(i: int) -> float:
        return round(SPARK_PAD + i * plot_w / count, 1)

    def y(value: float) -> float:
        return round(SPARK_PAD + (high - value) / (high - low) * plot_h, 1)

    index = {d: i for i, (d, _) in enumerate(s.points)}
    dots = [
        {
            "x": x(i),
            "y": y(v),
            "day": d.isoformat(),
            "outside": s.band is not None
            and d not in s.unusual
            and not s.band[0] <= v <= s.band[1],
            "unusual": d in s.unusual,
            "title": f"{day_label(d)}: {format_value(s.indicator, v)}"
            + (" (not a usual day: not watched throughout, or away)" if d in s.unusual else ""),
        }
        for i, (d, v) in enumerate(s.points)
        if v is not None
    ]
    band = None
    if s.band:
        band = {"y": y(s.band[1]), "height": max(round(y(s.band[0]) - y(s.band[1]), 1), 1.0)}
    weekly = " ".join(
        f"{x(index[d] + min(3, len(s.points) - 1 - index[d]))},{y(v)}" for d, v in s.weekly
    )
    return {
        "width": SPARK_W,
        "height": SPARK_H,
        "pad": SPARK_PAD,
        "plot_w": plot_w,
        "axis_x": SPARK_W - SPARK_AXIS + 4,
        "band": band,
        "dots": dots,
        "weekly": weekly,
        "low": format_value(s.indicator, low),
        "high": format_value(s.indicator, high),
    }


def local_text(moment: float | None, tz: tzinfo) -> str:
    """``'Mon 06 Jan 09:30'`` in the home's time, for alerts."""
    if moment is None:
        return "—"
    return local(moment, tz).strftime("%a %d %b %H:%M")


def local_date(moment: float, tz: tzinfo) -> date:
    return datetime.fromtimestamp(moment, tz).date()
