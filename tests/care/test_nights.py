"""The pooled night-time excess test: sees a steady moderate rise, not one odd night."""

from __future__ import annotations

from datetime import timedelta

from tests.care.helpers import Home, at
from tests.care.test_monitor import MONDAY, days
from vigil.care import nights


def test_two_moderate_nights_together_are_an_excess() -> None:
    """2-3 visits a night, then 6 and 6: neither night alone is far out for this person
    (a 6 happens about 1 night in 28: the old per-night 2 % level does not flag it), the
    two together are."""
    usual = [2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3]
    found = nights.excess([*usual, 6, 6])
    assert found is not None
    assert found.nights == [6, 6]
    assert found.total == 12
    assert found.baseline_nights == len(usual)
    assert round(found.rate, 2) == 2.32
    assert found.tail < 0.01
    assert nights.nb_tail(6, 1.5 * 3 + sum(usual), 3 + len(usual), 1) > 0.02


def test_three_nights_are_pooled_when_two_are_not_enough() -> None:
    """5, 5, 5 against about 2 a night: the three-night total is the stronger evidence."""
    usual = [2, 2, 1, 3, 2, 2, 1, 3, 2, 2, 1, 3, 2, 2]
    found = nights.excess([*usual, 5, 5, 5])
    assert found is not None
    assert found.nights == [5, 5, 5]
    two = nights.excess([*usual, 5, 5, 5], windows=(2,), alpha=1.0)
    assert two is not None and two.tail > found.tail


def test_one_wild_night_then_a_normal_one_is_not_a_rise() -> None:
    """9 visits one night and 2 the next: the total is high, but the rise is not going on."""
    usual = [2, 2, 1, 3, 2, 2, 1, 3, 2, 2]
    assert nights.excess([*usual, 9, 2]) is None
    assert nights.excess([*usual, 9]) is None  # one night is not "several nights"


def test_a_persons_usual_spread_raises_nothing() -> None:
    """A resident who makes 1-4 trips a night, in any order, is never in excess."""
    pattern = [1, 4, 2, 3, 4, 1, 3, 4, 2, 1, 4, 4, 2, 3, 1, 4, 3, 2, 4, 1]
    for end in range(2, len(pattern) + 1):
        assert nights.excess(pattern[:end]) is None


def test_a_few_nights_learned_need_stronger_evidence() -> None:
    """The rate's uncertainty widens the tail: the same two nights are less surprising
    after 2 nights learned than after 20 like them."""
    short = nights.excess([1, 1, 5, 5], alpha=1.0)
    long = nights.excess([1] * 20 + [5, 5], alpha=1.0)
    assert short is not None and long is not None
    assert short.tail > long.tail


def test_chance_in_words() -> None:
    assert nights.chance(0.0021) == "about 1 in 480"
    assert nights.chance(0.04) == "about 1 in 25"
    assert nights.chance(0.0) == "less than 1 in 10,000"


def test_monitor_flags_a_moderate_rise_on_two_nights() -> None:
    """Two or three visits every night for two weeks, then six on two nights: flagged the
    morning after the second, citing the person's own rate, closed after a usual night."""
    home = Home(start=at(MONDAY, 0.0) - 3600)
    for i, day in enumerate(days(MONDAY, 14)):
        trips = (24.0, 26.0) if i % 2 else (24.0, 25.5, 27.0)
        home.normal_day(day, visits=trips)
    for day in days(MONDAY + timedelta(days=14), 2):
        home.normal_day(day, visits=(23.5, 24.3, 25.0, 25.8, 26.5, 27.3))
    home.normal_day(MONDAY + timedelta(days=16), visits=(24.0, 26.0))
    home.morning(MONDAY + timedelta(days=17))
    run = home.run(at(MONDAY + timedelta(days=17), 9.0))
    signals = run.of("night_bathroom")
    assert [s.change for s in signals] == ["open", "close"]
    opened = signals[0]
    assert opened.message.startswith(
        "Night-time bathroom visits: 6, 6 on the last 2 nights (latest first), 12 in all; "
        "usually about 2.3 a night (5 in 2 nights); so many by chance: about 1 in 190."
    )
    assert opened.evidence["nights"] == [6, 6]
    assert opened.evidence["chance"] < 0.01
    assert signals[-1].message.startswith("Night-time bathroom visits back to 2 last night")
