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

import msgspec


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
