"""Gradual decline: activity or mobility trending down over weeks, against the person's own past.

Frailty rarely announces itself on one day. What shows is a slow slide: fewer sensor
events a day (overall activity) and fewer moves between rooms (mobility), week after
week. ``assess`` compares the last week of a person's daily records with their own
earlier weeks (the days before the last two), so a home that was always quiet is
never flagged for being quiet, and one bad week is not a trend: the week before it
must already have been below the person's usual level.

Days that say nothing about the person count for nothing: days away, days not watched
from their start, and days with no sensor event at all (out, or the sensors down:
device alerts cover those).

>>> from vigil.care.state import DayRecord
>>> def days(events, moves, n):
...     return [DayRecord(day="", weekend=False, events=events, moves=moves, complete=True)
...             for _ in range(n)]
>>> normal = days(500, 30, 28)
>>> [f.measure for f in assess(normal + days(470, 28, 14))]
[]
>>> [(f.measure, f.recent, f.usual) for f in assess(normal + days(380, 24, 7) + days(300, 17, 7))]
[('activity', 300.0, 500.0), ('mobility', 17.0, 30.0)]
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING

import msgspec

from vigil.care.conditions import close_condition, open_condition
from vigil.care.state import CareState, DayRecord
from vigil.care.stats import quantile
from vigil.engine.operator import Emission

if TYPE_CHECKING:
    from vigil.care.monitor import CareMonitor

KIND = "decline"

MEASURES = {"activity": "sensor events", "mobility": "moves between rooms"}
"""What each measure counts, in words."""


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """One measure well below the person's own usual level for two weeks running."""

    measure: str
    recent: float
    """Median a day over the last week."""
    previous: float
    """Median a day over the week before."""
    usual: float
    """Median a day over the person's earlier weeks."""
    low: float
    """The low end (10th percentile) of those earlier days."""
    baseline_days: int

    @property
    def drop(self) -> float:
        return 1.0 - self.recent / self.usual if self.usual else 0.0


def _value(record: DayRecord, measure: str) -> float:
    return float(record.events if measure == "activity" else record.moves)


def usable(history: Sequence[DayRecord]) -> list[DayRecord]:
    """The days that tell something about the person."""
    return [r for r in history if r.complete and not r.away and r.events > 0]


def assess(
    history: Sequence[DayRecord],
    *,
    week: int = 7,
    min_baseline: int = 14,
    drop: float = 0.25,
) -> list[Finding]:
    """The measures in decline: the last ``week`` usable days' median at least ``drop``
    below the earlier days' median and under their 10th percentile, and the ``week``
    before already below that median. Needs ``min_baseline`` earlier days."""
    days = usable(history)
    if len(days) < min_baseline + 2 * week:
        return []
    recent, previous, baseline = days[-week:], days[-2 * week : -week], days[: -2 * week]
    found = []
    for measure in MEASURES:
        before = [_value(r, measure) for r in baseline]
        usual, low = statistics.median(before), quantile(before, 0.1)
        now = statistics.median(_value(r, measure) for r in recent)
        then = statistics.median(_value(r, measure) for r in previous)
        if usual > 0 and now <= (1 - drop) * usual and now < low and then < usual:
            found.append(
                Finding(
                    measure=measure,
                    recent=float(now),
                    previous=float(then),
                    usual=float(usual),
                    low=float(low),
                    baseline_days=len(baseline),
                )
            )
    return found


def recovered(history: Sequence[DayRecord], *, week: int = 7, drop: float = 0.25) -> bool:
    """Whether every measure's last week is back within half of ``drop`` of the usual."""
    days = usable(history)
    if len(days) < 3 * week:
        return False
    recent, baseline = days[-week:], days[: -2 * week]
    for measure in MEASURES:
        usual = statistics.median(_value(r, measure) for r in baseline)
        now = statistics.median(_value(r, measure) for r in recent)
        if now < (1 - drop / 2) * usual:
            return False
    return True


def explain(findings: Sequence[Finding]) -> str:
    """``'Less active for two weeks: 300 sensor events a day this week, 380 the week
    before, usually 500 (own earlier 28 days): down 40%.'``"""
    parts = []
    for f in findings:
        parts.append(
            f"{f.recent:.0f} {MEASURES[f.measure]} a day this week, {f.previous:.0f} the week "
            f"before, usually {f.usual:.0f} (own earlier {f.baseline_days} days): "
            f"down {f.drop:.0%}"
        )
    what = " and ".join(
        {"activity": "less active", "mobility": "moving between rooms less"}[f.measure]
        for f in findings
    )
    return f"{what[0].upper()}{what[1:]} for two weeks: " + "; ".join(parts) + "."


def check(monitor: CareMonitor, state: CareState, now: float, outputs: list[Emission]) -> None:
    """Once a day, at its close: the last week against the person's earlier weeks."""
    findings = assess(state.history, drop=monitor.decline_drop)
    if findings:
        worst = max(findings, key=lambda f: f.drop)
        evidence = {
            "reason": f"{MEASURES[worst.measure]} down {worst.drop:.0%} "
            f"on their own usual over two weeks",
            **{
                f.measure: {
                    "this_week": f.recent,
                    "week_before": f.previous,
                    "usual": f.usual,
                    "usual_low": f.low,
                    "baseline_days": f.baseline_days,
                }
                for f in findings
            },
        }
        message = explain(findings)
        open_condition(
            state,
            KIND,
            now,
            message,
            "warning",
            evidence,
            outputs,
            update_minutes=monitor.update_minutes,
        )
    elif KIND in state.open and recovered(state.history, drop=monitor.decline_drop):
        message = "Activity and moves between rooms back near their usual level this week."
        close_condition(state, KIND, now, message, outputs)
