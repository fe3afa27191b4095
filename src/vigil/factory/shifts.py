"""A plant's shift calendar: which stretches of event time are planned for production.

Shifts are hours of the (UTC) day on working weekdays. The default is the
simulated plant's: two eight-hour shifts, 06:00-14:00 and 14:00-22:00, Monday to
Friday. Time outside every shift is planned time off: a machine standing still
then is neither down nor faulty.

>>> calendar = ShiftCalendar()
>>> monday_7am = 4 * 86400.0 + 7 * 3600.0   # 1970-01-05 was a Monday
>>> calendar.shift_at(monday_7am) == (4 * 86400.0 + 6 * 3600.0, 4 * 86400.0 + 14 * 3600.0)
True
>>> calendar.shift_at(monday_7am - 2 * 3600.0) is None
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DAY = 86400.0
HOUR = 3600.0

DEFAULT_SHIFTS: tuple[tuple[float, float], ...] = ((6.0, 14.0), (14.0, 22.0))
"""(start hour, end hour) of each shift of a working day, as the simulated plant works."""
DEFAULT_WORKDAYS: tuple[int, ...] = (0, 1, 2, 3, 4)
"""Monday is 0, as in ``datetime.weekday``."""


def weekday(time: float) -> int:
    """Monday is 0; 1970-01-01 was a Thursday."""
    return (int(time // DAY) + 3) % 7


@dataclass(frozen=True)
class ShiftCalendar:
    """Shifts as (start hour, end hour) of the day on ``workdays``; an end past 24 h
    runs into the next day (a night shift)."""

    shifts: Sequence[tuple[float, float]] = DEFAULT_SHIFTS
    workdays: Sequence[int] = DEFAULT_WORKDAYS

    def __post_init__(self) -> None:
        for start, end in self.shifts:
            if not 0 <= start < 24 or not start < end <= start + 24:
                raise ValueError(
                    f"a shift runs from an hour of the day to a later one: {start, end}"
                )

    def _spans(self, time: float) -> list[tuple[float, float]]:
        day = (time // DAY) * DAY
        spans = []
        for offset in (-1, 0, 1):
            begin = day + offset * DAY
            if weekday(begin) not in self.workdays:
                continue
            for start, end in self.shifts:
                spans.append((begin + start * HOUR, begin + end * HOUR))
        return sorted(spans)

    def shift_at(self, time: float) -> tuple[float, float] | None:
        """The (start, end) of the shift ``time`` falls in, or None off shift."""
        for start, end in self._spans(time):
            if start <= time < end:
                return start, end
        return None

    def next_boundary(self, time: float) -> float | None:
        """The first shift start or end strictly after ``time`` (None: no shifts at all)."""
        if not self.shifts or not self.workdays:
            return None
        for days in range(0, 8):
            probe = time + days * DAY
            found = [b for span in self._spans(probe) for b in span if b > time]
            if found:
                return min(found)
        return None
