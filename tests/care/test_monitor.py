"""CareMonitor on crafted homes: each alert raises, updates and closes; edge cases hold."""

from __future__ import annotations

from datetime import date, timedelta

from tests.care.helpers import HOME, Home, at, local_clock

MONDAY = date(2026, 11, 2)


def days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(count)]


def routine_home(count: int = 8, **kwargs) -> Home:
    """A home whose resident keeps the same routine for ``count`` days from Monday."""
    home = Home(start=at(MONDAY, 0.0) - 3600, **kwargs)
    for day in days(MONDAY, count):
        home.normal_day(day)
    return home


def test_normal_days_raise_nothing() -> None:
    """Ten ordinary days, with the usual small variations, open no condition at all."""
    home = Home(start=at(MONDAY, 0.0) - 3600)
    for i, day in enumerate(days(MONDAY, 10)):
        home.normal_day(day, up=7.25 + 0.1 * (i % 4), bed=22.0 + 0.2 * (i % 3))
        home.temperature(19.5, at(day, 12.0))
    run = home.run(at(MONDAY + timedelta(days=10), 3.9))
    assert run.signals == []
    # Sunday's last hour (watching began at 23:00: a part-day, not a day learned), then
    # Monday to Tuesday of the next week; Wednesday's care day ends at 04:00 on Thursday.
    assert [d["day"] for d in run.days] == [str(MONDAY - timedelta(days=1))] + [
        str(d) for d in days(MONDAY, 9)
    ]
    last = run.days[-1]
    assert 7.2 < last["up"] < 7.6
    assert last["night_bathroom"] == 1
    assert last["kitchen_bins"] >= 8
    assert last["days_learned"] == 9


def test_not_up_raises_updates_and_closes() -> None:
    """Up at 07:30 every day; one morning nothing moves: a warning after the learned margin,
    critical 90 minutes later, closed when the resident is up, with their own normal cited."""
    home = routine_home(8)
    day = MONDAY + timedelta(days=8)
    home.night(day - timedelta(days=1), [])
    home.morning(day, up=11.0)
    run = home.run(at(day, 12.0))
    signals = run.of("not_up")
    assert [s.change for s in signals][0] == "open"
    assert signals[-1].change == "close"
    opened = signals[0]
    assert opened.severity == "warning"
    assert local_clock(opened.time) == "08:15"
    assert opened.message == (
        "Usually up by 07:30; no movement since 03:06 (in the bedroom); "
        "now 08:15. (still learning: 8 of 14 days)"
    )
    assert opened.key == f"not_up:{HOME}"
    assert opened.route == "coordinator"
    assert any(s.change == "update" and s.severity == "critical" for s in signals)
    assert signals[-1].message == "Up at 11:00 (usually up by 07:30, 3 h 30 min later than usual)."
    assert {s.key for s in signals} == {opened.key}
