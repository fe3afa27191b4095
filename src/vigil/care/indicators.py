"""Daily indicators over weeks, each against the person's own normal band.

Pure: it reads the ``care_day`` records the care operator keeps in the store (one
per closed care day: getting up, bed time, night bathroom visits, kitchen use,
time out, lowest temperature, activity, moves between rooms). The normal band is
the middle of the person's own usual days -- the 10th to 90th percentile of the
complete days they were at home, the latest day left out so that it is judged
against the others -- and the trend is the median of each week.

>>> records = [{"day": f"2025-01-{d:02d}", "up": 7.0 + d / 10, "complete": True}
...            for d in range(1, 15)]
>>> s = series(records, INDICATORS[0], last_day=date(2025, 1, 14), days=14)
>>> [format_value(s.indicator, v) for v in s.band], format_value(s.indicator, s.latest)
(['07:13', '08:11'], '08:24')
>>> s.outside, [format_value(s.indicator, v) for _, v in s.weekly]
(True, ['07:24', '08:06'])
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from vigil.care import stats
from vigil.care.localtime import clock_hour, duration

MIN_USUAL_DAYS = 5
"""Usual days needed before a band is drawn."""


@dataclass(frozen=True)
class Indicator:
    key: str
    """The field of the ``care_day`` record."""
    label: str
    unit: str
    """clock (local hours; after midnight past 24), minutes, count or °C."""
    scale: float = 1.0
    """Record value x scale = the value shown (quarter-hours x 15 = minutes)."""
    help: str = ""


INDICATORS: tuple[Indicator, ...] = (
    Indicator("up", "Getting up", "clock", help="first kitchen, lounge or door use after 05:00"),
    Indicator("bed", "Bed time", "clock", help="last living-room activity of the evening"),
    Indicator("night_bathroom", "Night bathroom visits", "count"),
    Indicator("kitchen_bins", "Kitchen use", "minutes", 15.0, "quarter-hours with kitchen use"),
    Indicator("out_minutes", "Time out", "minutes"),
    Indicator("min_temperature", "Lowest temperature", "°C", help="coldest room"),
    Indicator("active_bins", "Activity", "minutes", 15.0, "quarter-hours with any activity"),
    Indicator("moves", "Moves between rooms", "count", help="a proxy for mobility"),
)


@dataclass(frozen=True)
class Series:
    indicator: Indicator
    points: list[tuple[date, float | None]]
    """One per day, oldest first; None when not known (no record, sensor out)."""
    band: tuple[float, float] | None
    """The person's normal: 10th-90th percentile of their usual days."""
    weekly: list[tuple[date, float]]
    """Median of each 7-day block ending on the last day (the block's first day)."""
    latest: float | None
    usual_days: int
    unusual: frozenset[date] = frozenset()
    """Days shown that do not count towards the normal (not watched throughout, away)."""

    @property
    def outside(self) -> bool:
        """Whether the latest value is outside the band."""
        if self.band is None or self.latest is None:
            return False
        return not self.band[0] <= self.latest <= self.band[1]


def quantile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between order statistics, to 6 decimal places.

    >>> quantile([1.0, 2.0, 3.0, 4.0, 5.0], 0.2)
    1.8
    """
    return round(stats.quantile(values, q), 6)


def value_of(record: Mapping[str, Any], indicator: Indicator) -> float | None:
    value = record.get(indicator.key)
    if value is None or isinstance(value, bool):
        return None
    return float(value) * indicator.scale


def usual(record: Mapping[str, Any]) -> bool:
    """A day that counts towards the normal: watched throughout, resident at home."""
    return bool(record.get("complete")) and not record.get("away")


def series(
    records: Sequence[Mapping[str, Any]], indicator: Indicator, *, last_day: date, days: int
) -> Series:
    """The indicator over the ``days`` care days up to ``last_day``."""
    by_day = {str(r.get("day")): r for r in records}
    first = last_day - timedelta(days=days - 1)
    calendar = [first + timedelta(days=i) for i in range(days)]
    points = [
        (d, value_of(by_day[d.isoformat()], indicator) if d.isoformat() in by_day else None)
        for d in calendar
    ]
    known = [(d, v) for d, v in points if v is not None]
    latest_day = known[-1][0] if known else None
    normal = [v for d, v in known if d != latest_day and usual(by_day[d.isoformat()])]
    band = None
    if len(normal) >= MIN_USUAL_DAYS:
        band = (quantile(normal, 0.1), quantile(normal, 0.9))
    weekly = []
    for end in range(days, 0, -7):
        block = [v for _, v in points[max(0, end - 7) : end] if v is not None]
        if block:
            weekly.append((calendar[max(0, end - 7)], round(statistics.median(block), 6)))
    return Series(
        indicator=indicator,
        points=points,
        band=band,
        weekly=weekly[::-1],
        latest=known[-1][1] if known else None,
        usual_days=len(normal),
        unusual=frozenset(d for d, _ in known if not usual(by_day[d.isoformat()])),
    )


def format_value(indicator: Indicator, value: float | None) -> str:
    """A value as people read it: ``07:40``, ``2 h 15 min``, ``3``, ``15.5 °C``."""
    if value is None:
        return "—"
    if indicator.unit == "clock":
        return clock_hour(value)
    if indicator.unit == "minutes":
        return duration(value * 60)
    if indicator.unit == "°C":
        return f"{value:.1f} °C"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def trend_words(s: Series) -> str:
    """The weekly medians in words: ``weekly median 07:40, 07:10 three weeks before``."""
    if not s.weekly:
        return "no days recorded yet"
    last = format_value(s.indicator, s.weekly[-1][1])
    if len(s.weekly) == 1:
        return f"median {last} this week"
    first = format_value(s.indicator, s.weekly[0][1])
    weeks = len(s.weekly) - 1
    return f"weekly median {last}; {first} {weeks} week{'s' if weeks > 1 else ''} before"
