"""Gradual decline: found against the person's own earlier weeks, explained, and closed."""

from __future__ import annotations

from datetime import date, timedelta

from tests.care.helpers import Home, at
from vigil.care.decline import assess, explain, recovered
from vigil.care.state import DayRecord

MONDAY = date(2026, 11, 2)


def days(events: int, moves: int, count: int, **kw: object) -> list[DayRecord]:
    return [
        DayRecord(day="", weekend=False, events=events, moves=moves, complete=True, **kw)  # type: ignore[arg-type]
        for _ in range(count)
    ]


def test_two_weeks_well_below_the_own_usual_is_a_decline() -> None:
    """Four normal weeks, then a week at 80% and a week at 60% of them: both measures."""
    history = days(500, 30, 28) + days(400, 24, 7) + days(300, 18, 7)
    found = {f.measure: f for f in assess(history)}
    assert sorted(found) == ["activity", "mobility"]
    assert (found["activity"].recent, found["activity"].previous) == (300.0, 400.0)
    assert found["activity"].usual == 500.0 and found["activity"].baseline_days == 28
    assert round(found["mobility"].drop, 2) == 0.4
    assert explain(list(found.values())) == (
        "Less active and moving between rooms less for two weeks: 300 sensor events a day "
        "this week, 400 the week before, usually 500 (own earlier 28 days): down 40%; 18 "
        "moves between rooms a day this week, 24 the week before, usually 30 (own earlier "
        "28 days): down 40%."
    )


def test_one_bad_week_is_not_a_trend() -> None:
    """The week before was at the usual level: a single quiet week (a cold) is no decline."""
    assert assess(days(500, 30, 35) + days(300, 18, 7)) == []


def test_a_home_that_was_always_quiet_is_not_declining() -> None:
    """Low numbers are judged against the person's own: 120 events a day, every day."""
    assert assess(days(120, 6, 42)) == []


def test_too_few_weeks_say_nothing() -> None:
    """Under four weeks of usable days there is no earlier normal to compare with."""
    assert assess(days(500, 30, 13) + days(200, 10, 14)) == []


def test_days_away_or_silent_are_not_counted() -> None:
    """Days away and days with no event at all are left out, not taken as inactivity."""
    history = days(500, 30, 28) + days(0, 0, 7) + days(500, 30, 7, away=True)
    assert assess(history) == []


def test_recovered_once_the_last_week_is_near_the_usual() -> None:
    low = days(500, 30, 28) + days(300, 18, 14)
    assert not recovered(low)
    assert recovered(low + days(470, 28, 7))


def active_day(home: Home, day: date, vigour: float) -> None:
    """A day about the house: lounge stints between kitchen and bathroom trips; fewer and
    slower as ``vigour`` falls (at 1.0, a move every hour or so)."""
    home.morning(day)
    t, step = 8.0, 1.0 / vigour
    while t < 21.5:
        home.motion("lounge", at(day, t), 50 * step, every=3 / vigour)
        t += step
        room = "kitchen" if int(t) % 3 == 0 else "bathroom"
        home.motion("hall", at(day, t - 0.1))
        home.motion(room, at(day, t - 0.08), 4, every=1)
    home.motion("lounge", at(day, t), (22.3 - t) * 60, every=3 / vigour)
    home.evening(day)
    home.night(day, [27.0])


def test_monitor_raises_decline_with_evidence_and_keeps_it_one_condition() -> None:
    """Four steady weeks, then a slide to half the activity over the next three: one
    decline alert, citing the person's own usual level, opened in the slide."""
    home = Home(start=at(MONDAY, 0.0) - 3600)
    for i in range(49):
        vigour = 1.0 if i < 28 else 1.0 - 0.5 * min(1.0, (i - 28) / 14)
        active_day(home, MONDAY + timedelta(days=i), vigour)
    run = home.run(at(MONDAY + timedelta(days=49), 4.5))
    signals = run.of("decline")
    assert [s.change for s in signals] == ["open"]
    opened = signals[0]
    assert (
        at(MONDAY + timedelta(days=35), 4.0) <= opened.time <= at(MONDAY + timedelta(days=44), 4.0)
    )
    assert "usually" in opened.message and "own earlier" in opened.message
    assert opened.evidence["activity"]["this_week"] < 0.8 * opened.evidence["activity"]["usual"]
    others = [s for s in run.signals if s.kind != "decline"]
    assert others == []


def test_monitor_steady_weeks_raise_no_decline() -> None:
    """Seven ordinary weeks: no decline (and the rule can fail: see the test above)."""
    home = Home(start=at(MONDAY, 0.0) - 3600)
    for i in range(49):
        active_day(home, MONDAY + timedelta(days=i), 1.0 - 0.05 * (i % 3))
    run = home.run(at(MONDAY + timedelta(days=49), 4.5))
    assert run.of("decline") == []
