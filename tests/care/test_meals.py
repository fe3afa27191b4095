"""Missed meals judged over the time the person is about at home, against their own days."""

from __future__ import annotations

from datetime import date, timedelta

from tests.care.helpers import Home, at, local_clock
from tests.care.test_monitor import MONDAY, days
from vigil.care import meals


def test_today_below_every_comparable_day_is_missed() -> None:
    """Nothing in the kitchen after 2 h at home, when every day at home that long had some."""
    past = [(8, 2), (10, 1), (9, 3), (12, 2)]
    found = meals.assess(usual=2.0, seen=0, home=8, comparable=past)
    assert found == meals.Missed(seen=0, usual=2.0, home=8, fewest=1, days=4)


def test_a_day_like_today_before_is_not_an_alert() -> None:
    """One earlier day at home as long with no kitchen use: today is within their normal."""
    past = [(8, 2), (10, 0), (9, 3), (12, 2)]
    assert meals.assess(usual=2.0, seen=0, home=8, comparable=past) is None


def test_little_time_at_home_is_not_judged() -> None:
    """Home for half an hour between outings: too short to have missed a meal."""
    past = [(8, 2), (10, 1), (9, 3), (12, 2)]
    assert meals.assess(usual=2.0, seen=0, home=2, comparable=past) is None


def test_longer_at_home_than_usual_compares_with_usual_days() -> None:
    """Usually home 4-6 quarter-hours by now and always eats; today home 12 and has not:
    the usual days count (more time at home is more time to eat)."""
    past = [(4, 1), (5, 2), (6, 1), (5, 1)]
    found = meals.assess(usual=1.5, seen=0, home=12, comparable=past)
    assert found is not None and found.fewest == 1 and found.days == 3


def test_without_comparable_days_only_a_large_expectation_decides() -> None:
    assert meals.assess(usual=2.0, seen=0, home=8, comparable=[]) is None
    found = meals.assess(usual=5.0, seen=1, home=20, comparable=[])
    assert found is not None and found.fewest is None


class ContactHome(Home):
    """Kasteren-like: motion in the bathroom only; the kitchen seen through the fridge and
    kettle; the front door. The resident has breakfast, goes out at 09:30, is back at
    18:00 and eats again at 19:00."""

    def bathroom(self, time: float) -> None:
        self.motion("bathroom", time, 4, every=1)

    def day_out(self, day: date, *, breakfast: bool = True, out: bool = True) -> None:
        self.bathroom(at(day, 8.0))
        if breakfast:
            self.fridge(at(day, 8.25))
            self.kettle(at(day, 8.3))
            self.fridge(at(day, 8.5))
        self.bathroom(at(day, 9.1))
        if out:
            self.door(at(day, 9.5))
            self.door(at(day, 18.0))
        else:
            for hour in (10.5, 12.0, 13.5, 15.0, 16.5):
                self.bathroom(at(day, hour))
        self.bathroom(at(day, 18.2))
        self.fridge(at(day, 19.0))
        self.kettle(at(day, 19.1))
        self.bathroom(at(day, 22.5))


def contact_home() -> ContactHome:
    return ContactHome(start=at(MONDAY, 0.0) - 3600, motion_rooms=("bathroom",))


def test_out_all_day_after_breakfast_raises_nothing() -> None:
    """A week and a half of breakfast, out all day, dinner: the time out is not time in
    which meals were missed, though the kitchen is used in only a few quarter-hours."""
    home = contact_home()
    for day in days(MONDAY, 10):
        home.day_out(day)
    run = home.run(at(MONDAY + timedelta(days=10), 3.9))
    assert run.of("missed_meals") == []
    last = run.days[-1]
    assert last["kitchen_bins"] == 3
    # About from 08:00; out 09:30-18:00 (its first quarter-hour counted at home).
    assert last["home_by"][0] == 7  # 08:00-09:45, by 11:00


def test_at_home_all_day_without_the_kitchen_is_flagged() -> None:
    """The same resident stays in and does not open the fridge or use the kettle: flagged
    once they have been about at home longer than on their usual days, citing them."""
    home = contact_home()
    for day in days(MONDAY, 8):
        home.day_out(day)
    day = MONDAY + timedelta(days=8)
    home.day_out(day, breakfast=False, out=False)
    run = home.run(at(day, 28.5))
    signals = run.of("missed_meals")
    assert [s.change for s in signals] == ["open", "close"]
    opened = signals[0]
    assert opened.message.startswith(
        "Kitchen used in 0 quarter-hours today by 11:00, in 3 h 00 min up and at home;"
    )
    assert (
        "; usually about 2 in that time; at least 2 by this time on each of the last 8 days "
        "they were home as long, or as long as usual (no kitchen activity at all today)."
    ) in opened.message
    assert opened.evidence["comparable_days"] == 8
    assert opened.evidence["fewest"] == 2
    assert signals[-1].message == "Day ended: kitchen used in 1 quarter-hours."


def test_skipped_breakfast_is_flagged_until_the_resident_eats() -> None:
    """Up and straight out without breakfast, back at 18:00: by 19:00 the kitchen is
    still unused, where every usual day had two quarter-hours by then; the alert opens
    and closes at the next kitchen use, and does not open again."""
    home = contact_home()
    for day in days(MONDAY, 8):
        home.day_out(day)
    day = MONDAY + timedelta(days=8)
    home.bathroom(at(day, 9.1))
    home.door(at(day, 9.5))
    home.door(at(day, 18.0))
    home.bathroom(at(day, 18.2))
    home.fridge(at(day, 19.2))
    run = home.run(at(day, 21.5))
    signals = run.of("missed_meals")
    assert [(local_clock(s.time), s.change) for s in signals] == [
        ("19:00", "open"),
        ("19:12", "close"),
    ]
    assert signals[0].message.startswith(
        "Kitchen used in 0 quarter-hours today by 19:00, in 1 h 45 min up and at home;"
    )


def test_out_after_a_short_time_at_home_is_not_judged() -> None:
    """Twenty minutes at home in the morning and none of the kitchen, out until 18:00, a
    meal at 18:30: too little time about at home to have missed anything."""
    home = contact_home()
    for day in days(MONDAY, 8):
        home.day_out(day)
    day = MONDAY + timedelta(days=8)
    home.bathroom(at(day, 9.2))
    home.door(at(day, 9.5))
    home.door(at(day, 18.0))
    home.fridge(at(day, 18.5))
    home.kettle(at(day, 18.6))
    run = home.run(at(day, 21.5))
    assert run.of("missed_meals") == []
