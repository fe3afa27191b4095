"""Local time for a home: care days, quarter-hour bins, clock times in words.

A person gets up at 07:30 by the clock on their wall, summer or winter, so
routines are learned in the home's own time zone (``zoneinfo``), never in UTC.
A care day runs from 04:00 to 04:00 local time: the night belongs to the
evening before it, and the day change is never in the middle of a night's sleep.

>>> tz = zone("Europe/London")
>>> day = care_day(1743300000.0, tz)   # 2025-03-30 03:00 BST: still Saturday's night
>>> str(day), day_end(day, tz) - day_start(day, tz)   # the night the clocks go forward
('2025-03-29', 82800.0)
>>> bin_of(1743310800.0, tz)   # 05:00 UTC is 06:00 BST
24
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_STARTS_AT = 4
"""Local hour at which one care day ends and the next begins."""
BINS = 96
"""Quarter-hours in a day."""


@lru_cache(maxsize=128)
def zone(name: str) -> tzinfo:
    """The zone named (``Europe/London``); UTC for an empty or unknown name."""
    if not name or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def local(time: float, tz: tzinfo) -> datetime:
    return datetime.fromtimestamp(time, tz)


def care_day(time: float, tz: tzinfo) -> date:
    """The care day a moment belongs to (03:00 on Tuesday is Monday's night)."""
    moment = local(time, tz)
    if moment.hour < DAY_STARTS_AT:
        return moment.date() - timedelta(days=1)
    return moment.date()


def day_start(day: date, tz: tzinfo) -> float:
    return datetime(day.year, day.month, day.day, DAY_STARTS_AT, tzinfo=tz).timestamp()


def day_end(day: date, tz: tzinfo) -> float:
    return day_start(day + timedelta(days=1), tz)


def at_hour(day: date, hour: float, tz: tzinfo) -> float:
    """The moment a care day's clock shows ``hour`` (24 and above: after midnight)."""
    extra, hour = divmod(hour, 24.0)
    when = day + timedelta(days=int(extra))
    whole = int(hour)
    minutes = round((hour - whole) * 60)
    base = datetime(when.year, when.month, when.day, whole, tzinfo=tz)
    return (base + timedelta(minutes=minutes)).timestamp()


def hour_of(time: float, tz: tzinfo) -> float:
    """Local clock hours (7.5 is 07:30), as the wall clock shows them."""
    moment = local(time, tz)
    return moment.hour + moment.minute / 60 + moment.second / 3600


def care_hour(time: float, tz: tzinfo) -> float:
    """Local hours within the care day: 02:00 at night is 26.0."""
    hour = hour_of(time, tz)
    return hour + 24.0 if hour < DAY_STARTS_AT else hour


def bin_of(time: float, tz: tzinfo) -> int:
    moment = local(time, tz)
    return moment.hour * 4 + moment.minute // 15


def quarter_hours(start: float, end: float) -> list[float]:
    """The start of every quarter-hour from the one holding ``start`` to before ``end``
    (200 at most)."""
    first = math.floor(start / 900.0) * 900.0
    count = max(0, min(200, math.ceil((end - first) / 900.0)))
    return [first + i * 900.0 for i in range(count)]


def within_hours(hour: float, start: float, end: float) -> bool:
    """Whether the clock ``hour`` is in ``[start, end)``, a span that may run over
    midnight (23.0 to 6.0 is the night)."""
    hour %= 24.0
    if start > end:
        return hour >= start or hour < end
    return start <= hour < end


def is_weekend(day: date) -> bool:
    return day.weekday() >= 5


def day_type(day: date) -> str:
    return "weekend" if is_weekend(day) else "weekday"


def clock(time: float, tz: tzinfo) -> str:
    """``'09:30'``."""
    return local(time, tz).strftime("%H:%M")


def clock_hour(hour: float) -> str:
    """``clock_hour(8.1666)`` -> ``'08:10'``; 25.5 -> ``'01:30'``."""
    minutes = round(hour * 60) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def when(time: float, tz: tzinfo, now: float) -> str:
    """A clock time, with the day when it is not the same day as ``now``."""
    moment, today = local(time, tz), local(now, tz)
    if moment.date() == today.date():
        return moment.strftime("%H:%M")
    if moment.date() == today.date() - timedelta(days=1):
        return moment.strftime("%H:%M yesterday")
    return moment.strftime("%a %d %b %H:%M")


def duration(seconds: float) -> str:
    """``'45 min'``, ``'2 h 05 min'``."""
    minutes = max(0, round(seconds / 60))
    if minutes < 90:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
