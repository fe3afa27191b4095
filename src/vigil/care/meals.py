"""Missed meals: kitchen use far below the person's own normal for the time at home.

Kitchen use means something only while the person is at home and about. A resident who
is out all day (or asleep) and has not used the kitchen has missed nothing; one who has
been up and at home for hours and has not opened the fridge may have. So the rule
counts only the quarter-hours the person was about at home today (from the first
sustained activity of the morning, less the time out: after the front door with
nothing indoors since) and compares today's kitchen use with

- the routine's expectation for those quarter-hours (``usual``): today's use must be at
  most ``ratio`` of it;
- the person's own earlier days on which they had been about at home at least as long
  by this hour, or at least as long as they usually are (``comparable``): today's use
  must be under half the fewest of those days. With ``min_days`` such days all above
  today, a normal day this low has been rare for this person (about 1 in ``days + 1``
  or less).

While too few comparable days are known (a new resident, or one rarely home this long)
the routine's expectation alone decides, and only when it is large
(``min_expected`` quarter-hours): the population's meal times are not this person's.

>>> past = [(10, 3), (12, 2), (9, 1), (11, 4), (8, 2), (14, 5), (10, 2)]
>>> found = assess(usual=2.5, seen=0, home=8, comparable=past)
>>> found.fewest, found.days
(1, 7)
>>> assess(usual=2.5, seen=0, home=8, comparable=[*past, (9, 0)]) is None   # it happened
True
>>> assess(usual=2.5, seen=1, home=8, comparable=past) is None   # a snack is not nothing
True
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

import msgspec

from vigil.care import devices
from vigil.care import routine as routines
from vigil.care.conditions import close_condition, learning_note, open_condition
from vigil.care.day import KITCHEN_HOURS, count_before, home_bins
from vigil.care.localtime import care_hour, clock, day_type, duration
from vigil.care.state import CareState, home_zone
from vigil.engine.operator import Emission

if TYPE_CHECKING:
    from vigil.care.monitor import CareMonitor

KIND = "missed_meals"


class Missed(msgspec.Struct, frozen=True, kw_only=True):
    """Why kitchen use today is far below normal."""

    seen: int
    """Kitchen quarter-hours today while about at home."""
    usual: float
    """The routine's expectation for those quarter-hours."""
    home: int
    """Quarter-hours about at home today so far."""
    fewest: int | None
    """The fewest kitchen quarter-hours by this hour on the comparable days (None: too
    few of them, the routine decided)."""
    days: int
    """How many comparable days there were."""


def assess(
    *,
    usual: float,
    seen: int,
    home: int,
    comparable: Sequence[tuple[int, int]],
    ratio: float = 0.3,
    min_expected: float = 4.0,
    min_home: int = 4,
    min_days: int = 3,
) -> Missed | None:
    """Today's kitchen use (``seen`` of ``usual`` expected, in ``home`` quarter-hours at
    home and about) against ``comparable``: (quarter-hours about at home, kitchen
    quarter-hours) by this hour on each of the person's earlier days."""
    if home < min_home or seen > ratio * usual:
        return None
    # At home longer than usual is more time to eat, not less: days at home at least as
    # long as today, or as long as usual by this hour, are like today.
    usual_home = statistics.median(hours for hours, _ in comparable) if comparable else home
    need = max(min_home, min(home, usual_home))
    like = [kitchen for hours, kitchen in comparable if hours >= need]
    if len(like) >= min_days:
        fewest = min(like)
        if seen >= fewest / 2:
            return None  # a day like today has happened before (eating out, a carer cooking)
        return Missed(seen=seen, usual=usual, home=home, fewest=fewest, days=len(like))
    if usual < min_expected:
        return None
    fewest = min(like) if like else None
    if fewest is not None and seen >= fewest / 2:
        return None
    return Missed(seen=seen, usual=usual, home=home, fewest=fewest, days=len(like))


def check(monitor: CareMonitor, state: CareState, now: float, outputs: list[Emission]) -> None:
    """Between ``kitchen_from`` and ``kitchen_until``: open the alert when today's kitchen
    use is far below normal for the time about at home, close it when use is back."""
    today = state.today
    assert today is not None
    tz = home_zone(state, monitor.time_zone)
    if today.about_at is None and today.up_at is None:
        return
    if not devices.has(state, rooms=frozenset({"kitchen"})):
        return
    if not monitor.kitchen_from <= care_hour(now, tz) < monitor.kitchen_until:
        return  # judged in the day; the day's end closes it
    kind = day_type(date.fromisoformat(today.record.day))
    bins = home_bins(state, today, now, tz)
    usual = routines.expected(state.routine, kind, "@kitchen", bins)
    seen = len(set(today.active.get("@kitchen", ())) & set(bins))
    opened = state.open.get(KIND)
    if opened is not None:
        if seen >= 0.5 * usual or seen > monitor.kitchen_ratio * usual + 1:
            message = (
                f"Kitchen in use again: {seen} quarter-hours today by {clock(now, tz)} "
                f"(usually about {usual:.0f})."
            )
            close_condition(state, KIND, now, message, outputs)
        return
    hour = int(care_hour(now, tz))
    index = hour - KITCHEN_HOURS[0]
    home = sum(1 for b in bins if b < hour * 4)
    so_far = count_before(today.active.get("@kitchen", ()), hour)
    comparable = [
        (r.home_by[index], r.kitchen_by[index])
        for r in state.history[-28:]
        if not r.away
        and len(r.kitchen_by) == len(KITCHEN_HOURS)
        and len(r.home_by) == len(KITCHEN_HOURS)
    ]
    found = assess(
        usual=usual,
        seen=max(so_far, seen),  # kitchen use since the hour began counts too
        home=home,
        comparable=comparable,
        ratio=monitor.kitchen_ratio,
        min_expected=monitor.kitchen_min_expected,
        min_home=monitor.kitchen_min_home,
        min_days=monitor.kitchen_days,
    )
    if found is None:
        return
    about = duration(home * 900)
    fewest = (
        f"; at least {found.fewest} by this time on each of the last {found.days} days "
        "they were home as long, or as long as usual"
        if found.fewest
        else ""
    )
    message = (
        f"Kitchen used in {seen} quarter-hour{'s' if seen != 1 else ''} today by "
        f"{clock(now, tz)}, in {about} up and at home; usually about {usual:.0f} "
        f"in that time{fewest}"
        + ("" if today.active.get("@kitchen") else " (no kitchen activity at all today)")
        + "."
        + learning_note(state, monitor.learning_days)
    )
    evidence = {
        "reason": f"kitchen used {seen} quarter-hours today, usually about {usual:.0f}",
        "kitchen_quarter_hours": seen,
        "usual": round(usual, 1),
        "home_quarter_hours": home,
        "fewest": found.fewest,
        "comparable_days": found.days,
    }
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
