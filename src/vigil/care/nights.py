"""Night-time bathroom visits rising over several nights: a pooled excess test.

A urinary infection raises night-time visits over a few nights, often by less than a
single night's natural spread can show. Looking at each night alone needs a large
rise on every night; the sum of the last two or three nights against the person's
own rate sees a steady moderate one (two nights of 6 against a usual 2.5 is strong
evidence; either night alone is not).

The person's rate is learned with its uncertainty: a gamma prior (the population's
1.5 visits a night, worth ``prior_nights`` nights) updated with their earlier nights,
so the sum of the next ``k`` nights is negative binomial (the gamma-Poisson predictive).
A window is in excess when that sum is improbably high (tail ≤ ``alpha``), at least
``min_extra`` a night above the rate on average, and every night in it above the rate
(at least one more than it: a rise still going on, not one wild night two days ago).

>>> found = excess([1, 2, 1, 1, 2, 1, 1, 6, 6])
>>> found.nights, found.total, round(found.rate, 2), found.tail < 0.001
([6, 6], 12, 1.35, True)
>>> excess([1, 2, 1, 1, 2, 1, 1, 4, 1]) is None
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import msgspec

from vigil.care.conditions import close_condition, learning_note, open_condition
from vigil.care.state import CareState
from vigil.engine.operator import Emission

if TYPE_CHECKING:
    from vigil.care.monitor import CareMonitor

KIND = "night_bathroom"


class Excess(msgspec.Struct, frozen=True, kw_only=True):
    """The nights that are in excess of the person's rate, and how improbably."""

    nights: list[int]
    """The window's nightly counts, oldest first."""
    total: int
    rate: float
    """The person's usual visits a night (the mean of the learned rate)."""
    expected: float
    """``rate`` times the nights in the window."""
    tail: float
    """P(a total at least this high | the person's usual), negative binomial."""
    baseline_nights: int


def nb_tail(total: int, shape: float, nights: float, window: int) -> float:
    """P(S >= total) for the sum S of ``window`` nights of a Poisson count whose rate is
    gamma(``shape``, rate ``nights``): negative binomial with p = nights / (nights + window).

    >>> round(nb_tail(4, 3.0, 3.0, 1), 3)   # mean 1 a night, known from 3 nights
    0.038
    """
    if total <= 0:
        return 1.0
    p = nights / (nights + window)
    term = math.exp(shape * math.log(p))  # P(S = 0)
    below = 0.0
    for s in range(total):
        below += term
        term *= (shape + s) / (s + 1) * (1.0 - p)
    return max(0.0, 1.0 - below)


def excess(
    nights: Sequence[int],
    *,
    windows: Sequence[int] = (2, 3),
    alpha: float = 0.01,
    min_extra: float = 1.5,
    prior_rate: float = 1.5,
    prior_nights: float = 3.0,
    history: int = 28,
) -> Excess | None:
    """The most improbable window of the last nights (``nights`` oldest first, the latest
    last) that is in excess of the person's earlier nights, or None."""
    best: Excess | None = None
    for window in windows:
        if len(nights) < window:
            continue
        recent = list(nights[-window:])
        earlier = list(nights[:-window])[-history:]
        shape = prior_rate * prior_nights + sum(earlier)
        weight = prior_nights + len(earlier)
        rate = shape / weight
        total = sum(recent)
        if total < window * (rate + min_extra) or min(recent) < rate + 1.0:
            continue
        tail = nb_tail(total, shape, weight, window)
        if tail > alpha or (best is not None and tail >= best.tail):
            continue
        best = Excess(
            nights=recent,
            total=total,
            rate=rate,
            expected=rate * window,
            tail=tail,
            baseline_nights=len(earlier),
        )
    return best


def usual_rate(
    nights: Sequence[int], *, prior_rate: float = 1.5, prior_nights: float = 3.0, history: int = 28
) -> float:
    """The person's usual visits a night from the nights before the latest."""
    earlier = list(nights[:-1])[-history:]
    return (prior_rate * prior_nights + sum(earlier)) / (prior_nights + len(earlier))


def chance(tail: float) -> str:
    """``0.0021`` -> ``'about 1 in 480'``: a tail probability in words."""
    if tail <= 0.0:
        return "less than 1 in 10,000"
    odds = 1.0 / tail
    if odds >= 10_000:
        return "less than 1 in 10,000"
    digits = max(0, int(math.log10(odds)) - 1)
    return f"about 1 in {round(odds, -digits):,.0f}"


def check(monitor: CareMonitor, state: CareState, now: float, outputs: list[Emission]) -> None:
    """Each morning, once last night's visits are known: the last nights together
    against the person's own rate; open (or update) on excess, close when back."""
    today = state.today
    assert today is not None
    known = [r.night_bathroom for r in state.history if r.night_bathroom is not None]
    recent: list[int] = [*known, today.record.night_bathroom]  # type: ignore[list-item]
    found = excess(
        recent,
        windows=monitor.rising_windows,
        alpha=monitor.rising_alpha,
        min_extra=monitor.rising_min_extra,
    )
    if found is not None:
        counts = ", ".join(str(n) for n in reversed(found.nights))
        window = len(found.nights)
        message = (
            f"Night-time bathroom visits: {counts} on the last {window} nights "
            f"(latest first), {found.total} in all; usually about {found.rate:.1f} a "
            f"night ({found.expected:.0f} in {window} nights); so many by chance: "
            f"{chance(found.tail)}." + learning_note(state, monitor.learning_days)
        )
        evidence = {
            "reason": f"{found.total} night bathroom visits in {window} nights, "
            f"usually about {found.expected:.0f}",
            "nights": found.nights,
            "total": found.total,
            "usual_per_night": round(found.rate, 2),
            "expected": round(found.expected, 1),
            "chance": round(found.tail, 5),
            "baseline_nights": found.baseline_nights,
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
            force=True,
        )
        return
    usual = usual_rate(recent)
    if KIND in state.open and recent[-1] <= usual + 1:
        message = (
            f"Night-time bathroom visits back to {recent[-1]} last night "
            f"(usually about {usual:.1f})."
        )
        close_condition(state, KIND, now, message, outputs)
