"""One shift's sums (``Shift``, part of ``MachineOEE``'s checkpoint format: its fields and
their order are kept) and what they say: the summary, the evidence, the top loss."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import msgspec

from vigil.factory.oee import minutes, percent


class Shift(msgspec.Struct, gc=False):
    """One shift's sums so far (seconds and parts)."""

    start: float = 0.0
    end: float = 0.0
    planned_busy: float = 0.0
    production: float = 0.0
    planned_stop: float = 0.0
    setup: float = 0.0
    down: float = 0.0
    """Unplanned downtime: stops (not microstops), idling, anything unknown; not setup."""
    microstops: int = 0
    microstop_seconds: float = 0.0
    produced: float = 0.0
    good: float = 0.0
    rejects: float = 0.0
    reasons: dict[str, float] = {}
    """Seconds of lost time per reason (stops by their reason, ``setup``, ``idle``)."""


def clock_time(timestamp: float) -> str:
    """``'06:00'``, UTC."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%H:%M")


def _day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%d %b")


def finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def top_reason(shift: Shift) -> tuple[str, float] | None:
    found = [(r, s) for r, s in shift.reasons.items() if s > 0]
    return min(found, key=lambda kv: (-kv[1], kv[0])) if found else None


def evidence(shift: Shift, figures: dict[str, float | None]) -> dict[str, Any]:
    return {
        "shift_start": shift.start,
        "shift_end": shift.end,
        **{k: finite(v) for k, v in figures.items()},
        "planned_busy_s": shift.planned_busy,
        "production_s": shift.production,
        "planned_stop_s": shift.planned_stop,
        "setup_s": shift.setup,
        "unplanned_down_s": shift.down,
        "microstops": shift.microstops,
        "microstop_s": shift.microstop_seconds,
        "good": shift.good,
        "rejects": shift.rejects,
        "produced": shift.produced,
        "reasons_s": {r: s for r, s in sorted(shift.reasons.items()) if s > 0},
    }


def shift_summary(name: str, shift: Shift, figures: dict[str, float | None]) -> str:
    """The shift in one line: OEE and its factors, parts, the top downtime reasons."""
    losses = sorted(shift.reasons.items(), key=lambda kv: (-kv[1], kv[0]))
    lost = ", ".join(f"{reason} {minutes(seconds)}" for reason, seconds in losses[:3] if seconds)
    micro = f"; {shift.microstops} microstops" if shift.microstops else ""
    return (
        f"{name}, shift {clock_time(shift.start)}-{clock_time(shift.end)} on "
        f"{_day(shift.start)}: OEE {percent(figures['oee'])} (availability "
        f"{percent(figures['availability'])}, performance {percent(figures['performance'])}, "
        f"quality {percent(figures['quality'])}); {shift.good:.0f} good, "
        f"{shift.rejects:.0f} rejected; downtime: {lost or 'none'}{micro}."
    )
