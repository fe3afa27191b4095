"""CareMonitor on crafted homes: each alert raises, updates and closes; edge cases hold."""

from __future__ import annotations

from datetime import date, timedelta

from tests.care.helpers import HOME, TENANT, Home, at, local_clock
from vigil.events import Tick

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
    assert signals[0].change == "open"
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


def test_bathroom_fall_raises_critical_and_closes_on_movement() -> None:
    """Seen in the bathroom at 10:30, then nothing anywhere: a possible fall after 45 min."""
    home = routine_home(3)
    day = MONDAY + timedelta(days=3)
    home.morning(day)
    home.daytime(day, 7.9, 10.4)
    home.motion("bathroom", at(day, 10.5), 2, every=1)
    home.motion("hall", at(day, 12.5))
    run = home.run(at(day, 13.0))
    signals = run.of("prolonged_inactivity")
    assert [s.change for s in signals] == ["open", "update", "close"]
    opened = signals[0]
    assert (local_clock(opened.time), opened.severity) == ("11:17", "critical")
    assert opened.message.startswith(
        "Possible fall: in the bathroom since 10:30 and no movement anywhere for 45 min"
    )
    assert signals[1].message.startswith(
        "Possible fall: in the bathroom since 10:30 and no movement anywhere for 1 h 45 min"
    )
    assert signals[-1].message.startswith("Movement again (in the hall) at 12:30")


def test_help_alarm_is_immediate_and_goes_to_responders() -> None:
    home = routine_home(1)
    day = MONDAY + timedelta(days=1)
    home.morning(day)
    home.alarm(at(day, 9.0))
    home.alarm(at(day, 9.05))
    run = home.run(at(day, 10.0))
    signals = run.of("help_alarm")
    assert [(s.change, s.severity, s.route) for s in signals] == [
        ("open", "critical", "responder"),
        ("update", "critical", "responder"),
    ]
    assert local_clock(signals[0].time) == "09:00"
    assert signals[0].message.startswith("Help button pressed at 09:00: call the resident now.")
    assert "again at 09:03 (first at 09:00)" in signals[1].message


def test_night_exit_raises_and_closes_when_back() -> None:
    """The front door at 02:00 with no movement at home since: critical after 30 min."""
    home = routine_home(3)
    night = MONDAY + timedelta(days=2)
    home.bed(False, at(night, 25.95))
    home.motion("hall", at(night, 25.98))
    home.door(at(night, 26.0))
    home.motion("hall", at(night, 26.9))
    run = home.run(at(night, 27.5))
    signals = run.of("night_exit")
    assert [s.change for s in signals] == ["open", "close"]
    assert (local_clock(signals[0].time), signals[0].severity) == ("02:30", "critical")
    assert signals[0].message == (
        "Front door opened at 02:00 and no movement at home since; now 02:30. "
        "The door is not usually used at night."
    )
    assert signals[1].message == "Back home: movement (in the hall) at 02:54, out 54 min."


def test_visitor_leaving_late_is_not_a_night_exit() -> None:
    """A visitor leaves at 23:30; the resident moves about afterwards: no alert."""
    home = routine_home(2)
    day = MONDAY + timedelta(days=2)
    home.morning(day)
    home.daytime(day, 7.9, 23.4)
    home.door(at(day, 23.5))
    home.motion("hall", at(day, 23.51))
    home.motion("lounge", at(day, 23.6), 10)
    home.evening(day, 23.9)
    run = home.run(at(day, 27.0))
    assert run.of("night_exit") == []
    assert run.signals == []


def test_missed_meals_raise_and_close_at_the_end_of_the_day() -> None:
    """A week of meals, then a day with no kitchen use: flagged by early afternoon."""
    home = routine_home(7)
    day = MONDAY + timedelta(days=7)
    home.bed(False, at(day, 7.2))
    home.motion("bedroom", at(day, 7.22), 3)
    home.door(at(day, 7.5))  # up: out to fetch the paper
    home.motion("hall", at(day, 7.52))
    home.daytime(day, 7.6, 22.2, kitchen=False)
    home.evening(day)
    run = home.run(at(day, 28.5))
    signals = run.of("missed_meals")
    assert signals[0].change == "open"
    assert signals[-1].change == "close"
    assert signals[0].message.startswith("Kitchen used in 0 quarter-hours today by ")
    assert "(no kitchen activity at all today)" in signals[0].message
    assert signals[-1].message == "Day ended: kitchen used in 0 quarter-hours."
    assert local_clock(signals[-1].time) == "04:00"


def test_night_bathroom_visits_rising_over_nights() -> None:
    """One visit a night for a week, then five: flagged after the second such night,
    updated on the third, closed after a normal night."""
    home = Home(start=at(MONDAY, 0.0) - 3600)
    for day in days(MONDAY, 7):
        home.normal_day(day)
    for day in days(MONDAY + timedelta(days=7), 3):
        home.normal_day(day, visits=(24.0, 25.0, 26.0, 27.0, 28.5))
    home.normal_day(MONDAY + timedelta(days=10))
    home.morning(MONDAY + timedelta(days=11))
    run = home.run(at(MONDAY + timedelta(days=11), 9.0))
    signals = run.of("night_bathroom")
    assert [s.change for s in signals] == ["open", "update", "close"]
    assert str(signals[0].time) and local_clock(signals[0].time) == "07:30"
    assert signals[0].message.startswith(
        "Night-time bathroom visits: 5, 5 on the last 2 nights (latest first), 10 in all; "
        "usually about 1.1 a night (2 in 2 nights); so many by chance: about 1 in 1,300."
    )
    assert signals[0].evidence["nights"] == [5, 5]
    assert signals[0].evidence["baseline_nights"] == 7
    assert signals[-1].message.startswith("Night-time bathroom visits back to 1 last night")
    # A day's record holds the night that ended that morning.
    assert [d["night_bathroom"] for d in run.days[-4:]] == [1, 5, 5, 5]
    assert run.state.today.record.night_bathroom == 1


def test_cold_home_raises_escalates_and_closes_after_a_warm_day() -> None:
    home = routine_home(4)
    day = MONDAY + timedelta(days=1)
    for quarter in range(4 * 24 * 4):
        t = at(MONDAY, 0.0) + quarter * 900
        hour = (t - at(day, 0.0)) / 3600
        value = 19.0
        if 10.0 <= hour < 16.0:
            value = 14.5
        if 13.0 <= hour < 14.0:
            value = 9.5
        home.temperature(value, t)
    run = home.run(at(MONDAY + timedelta(days=4), 3.0))
    signals = run.of("cold_home")
    assert [(s.change, s.severity) for s in signals] == [
        ("open", "warning"),
        ("update", "critical"),
        ("close", "warning"),
    ]
    assert local_clock(signals[0].time) == "12:00"
    assert signals[0].message.startswith("Cold home: in the lounge 14.5 °C at 12:00, below 16 °C")
    assert signals[1].message.startswith("Cold home: in the lounge 9.5 °C at 13:00")
    # Closed a full day after the last cold reading (15:45, still the latest until 16:00).
    assert at(day, 15.75) + 86400 <= signals[-1].time <= at(day, 16.0) + 86400


def test_resident_away_pauses_alerts_but_not_the_help_button() -> None:
    """Marked away until Friday 12:00 (in hospital): an open alert closes, saying so;
    no "not up" while away, though nothing moves; the pendant still alerts; days away
    teach the routine nothing; alerts resume after the return."""
    home = routine_home(3)
    wednesday = MONDAY + timedelta(days=2)
    home.night(wednesday, [])  # routine_home's Wednesday night already has its visit
    home.morning(wednesday + timedelta(days=1), up=7.5)  # Thursday: up, then taken in
    home.motion("bathroom", at(wednesday + timedelta(days=1), 9.0), 2, every=1)
    friday_noon = at(MONDAY + timedelta(days=4), 12.0)
    home.configure(at(wednesday + timedelta(days=1), 10.0), away_until=friday_noon)
    home.alarm(at(MONDAY + timedelta(days=4), 8.0))  # a pendant pressed while away
    home.configure(friday_noon + 600)  # back: away cleared
    friday = MONDAY + timedelta(days=4)
    home.door(friday_noon + 900)
    home.daytime(friday, 12.3, 22.2)
    home.evening(friday)
    saturday = MONDAY + timedelta(days=5)
    home.night(saturday - timedelta(days=1), [])
    run = home.run(at(saturday, 11.0))
    inactivity = run.of("prolonged_inactivity")
    assert [s.change for s in inactivity] == ["open", "close"]
    assert inactivity[1].message == "Resident marked away until Fri 06 Nov 12:00: alerts paused."
    assert [s.change for s in run.of("help_alarm")] == ["open"]
    not_up = run.of("not_up")
    assert not_up[0].change == "open"  # only on Saturday, after the return
    assert all(s.time > friday_noon and s.change != "close" for s in not_up)
    away_days = [d for d in run.days if d["away"]]
    assert [d["day"] for d in away_days] == ["2026-11-05", "2026-11-06"]
    assert run.days[-1]["days_learned"] == 3


def test_summer_time_changes_keep_the_local_routine() -> None:
    """Up at 07:30 by the wall clock before and after the clocks go forward (29 March 2026)
    and back (25 October 2026): the routine is learned in local time, so no alert, and
    "not up" falls due at the local deadline on the day after the change."""
    for change in (date(2026, 3, 29), date(2026, 10, 25)):
        first = change - timedelta(days=6)
        home = Home(start=at(first, 0.0) - 3600)
        for day in days(first, 8):
            home.normal_day(day)
        run = home.run(at(first + timedelta(days=8), 3.0))
        assert run.signals == [], change
        ups = [round(d["up"], 2) for d in run.days[1:]]
        assert ups == [7.5] * 7, change
        # The day after the change, a morning with nothing: due at 08:15 local time.
        late = first + timedelta(days=8)
        home.night(late - timedelta(days=1), [])
        home.morning(late, up=10.0)
        run = home.run(at(late, 11.0))
        opened = run.of("not_up")[0]
        assert local_clock(opened.time) == "08:15", change
        assert opened.message.startswith("Usually up by 07:30;"), change


def test_bathroom_sensor_offline_overnight_is_not_a_quiet_night() -> None:
    """A night with five visits, then a night the bathroom sensor was offline: that night's
    count is unknown, not zero, and one high night alone raises nothing."""
    home = Home(start=at(MONDAY, 0.0) - 3600)
    for day in days(MONDAY, 7):
        home.normal_day(day, visits=(27.0,) if day != MONDAY + timedelta(days=6) else (24.0,))
    night1 = MONDAY + timedelta(days=7)
    home.normal_day(night1, visits=(24.0, 25.0, 26.0, 27.0, 28.5))
    night2 = night1 + timedelta(days=1)
    home.normal_day(night2, visits=(24.0, 25.0, 26.0, 27.0, 28.5))
    home.offline("motion-bathroom", at(night2, 23.0), at(night2, 31.0))
    home.morning(night2 + timedelta(days=1))
    run = home.run(at(night2 + timedelta(days=1), 9.0))
    assert run.of("night_bathroom") == []
    assert run.days[-1]["night_bathroom"] == 5
    assert run.state.today.record.night_bathroom is None


def test_no_not_up_alert_when_the_living_room_sensors_are_offline() -> None:
    """Kitchen and lounge sensors silent since 23:00 (a dead gateway): no data is not "no
    movement", so the care team gets no "not up" (device health tells the installer)."""
    home = routine_home(7)
    day = MONDAY + timedelta(days=7)
    for name in ("motion-kitchen", "motion-lounge", "door-fridge", "plug-kettle", "door-front"):
        home.offline(name, at(day, -1.0), at(day, 12.0))
    home.night(day - timedelta(days=1), [])
    run = home.run(at(day, 11.5))
    assert run.of("not_up") == []


def test_new_resident_starts_from_population_defaults() -> None:
    """Watching starts on the resident's first evening; next morning nothing moves: the
    population's deadline (up by 08:30, plus two hours) applies, and the message says the
    routine is still being learned."""
    first = MONDAY
    home = Home(start=at(first, 18.0))
    home.daytime(first, 18.0, 22.0)
    home.evening(first)
    second = first + timedelta(days=1)
    home.morning(second, up=11.25)
    run = home.run(at(second, 12.0))
    signals = run.of("not_up")
    assert [s.change for s in signals] == ["open", "close"]
    assert local_clock(signals[0].time) == "10:30"
    assert signals[0].message == (
        "Usually up by 08:30; no movement since 22:30 yesterday (in the bedroom); "
        "now 10:30. (still learning: 0 of 14 days)"
    )


def test_first_morning_watched_from_midday_raises_nothing() -> None:
    """A home first watched from 11:00 cannot know whether the resident got up: no alert."""
    home = Home(start=at(MONDAY, 11.0))
    home.motion("lounge", at(MONDAY, 11.5), 60)
    run = home.run(at(MONDAY, 20.0))
    assert run.of("not_up") == []


def test_a_day_of_little_kitchen_use_like_earlier_ones_is_not_an_alert() -> None:
    """Every third day the resident has breakfast at home and eats out: once such days
    are among their own recent days, another raises nothing; the first one did."""
    home = Home(start=at(MONDAY, 0.0) - 3600)
    for i, day in enumerate(days(MONDAY, 10)):
        home.normal_day(day, kitchen=i % 3 != 2)
    run = home.run(at(MONDAY + timedelta(days=10), 3.0))
    opened = [s for s in run.of("missed_meals") if s.change == "open"]
    kitchen = {d["day"]: d["kitchen_bins"] for d in run.days}
    assert [kitchen[str(MONDAY + timedelta(days=i))] for i in (2, 5, 8)] == [2, 2, 2]
    opened_days = sorted({local_day(s.time) for s in opened})
    assert opened_days == [str(MONDAY + timedelta(days=2))]


def local_day(time: float) -> str:
    from datetime import datetime

    from tests.care.helpers import LONDON

    return str(datetime.fromtimestamp(time, LONDON).date())


def test_a_sensor_offline_teaches_the_routine_nothing() -> None:
    """A bathroom visit at 03:00 every night; on Thursday night there is none. With the
    bathroom sensor offline that night, Thursday leaves the learned 03:00 bathroom
    probability as Wednesday left it; seen online, the quiet night lowers it."""
    from vigil.care import routine as routines

    def learned(days_run: int, *, offline: bool = False) -> float:
        home = Home(start=at(MONDAY, 0.0) - 3600)
        for day in days(MONDAY, 3):
            home.normal_day(day)
        thursday = MONDAY + timedelta(days=3)
        home.normal_day(thursday, visits=())
        if offline:
            home.offline("motion-bathroom", at(thursday, 23.0), at(thursday, 31.0))
        run = home.run(at(MONDAY + timedelta(days=days_run), 4.5))
        return routines.probability(run.state.routine, "weekday", "bathroom", 3 * 4)

    wednesday = learned(3)  # Monday to Wednesday closed
    assert learned(4, offline=True) == wednesday
    assert learned(4) < wednesday


def test_a_clock_leap_of_weeks_closes_one_day_not_every_day() -> None:
    """Ticks stop (a platform down) and resume 30 days later: the day that was under way
    is closed, the days between were not watched and get no records, no alert floods."""
    home = routine_home(2)
    home.heartbeat = None  # the devices are silent too: only the clock moves
    stop = at(MONDAY + timedelta(days=2), 6.0)
    later = at(MONDAY + timedelta(days=32), 12.0)
    home.events.append(Tick(tenant=TENANT, time=later))
    run = home.run(later, ticks_until=stop)
    # Sunday's hour, Monday, Tuesday; then Wednesday, closed by the leap.
    assert [d["day"] for d in run.days] == [str(MONDAY + timedelta(days=i)) for i in range(-1, 3)]
    assert run.state.today.record.day == str(MONDAY + timedelta(days=32))
    assert [s.kind for s in run.signals if s.change == "open"] == []


def quiet_home(count: int) -> Home:
    """A home with motion only in the bedroom, bathroom and kitchen (as Ordóñez A has no
    hall or lounge motion): meals and bathroom trips by day, ``count`` days from Monday."""
    home = Home(start=at(MONDAY, 0.0) - 3600, motion_rooms=("bedroom", "bathroom", "kitchen"))
    for day in days(MONDAY, count):
        home.morning(day)
        for hour in (10.5, 12.5, 15.5, 18.0):
            home.motion("kitchen", at(day, hour), 15, every=2)
            home.motion("bathroom", at(day, hour + 0.5), 4, every=1)
        home.evening(day)
        home.night(day, [27.0])
    return home


def test_night_exit_in_a_home_without_hall_or_lounge_motion() -> None:
    """Out of bed at 01:56, the front door at 02:00 and no sensor since: someone who was
    about indoors went out, although no motion sensor watches the hall; back at 02:50."""
    home = quiet_home(3)
    night = MONDAY + timedelta(days=2)
    home.bed(False, at(night, 25.93))
    home.motion("bedroom", at(night, 25.96))
    home.door(at(night, 26.0))
    home.door(at(night, 26.84))
    run = home.run(at(night, 27.5))
    signals = run.of("night_exit")
    assert [s.change for s in signals] == ["open", "close"]
    assert (local_clock(signals[0].time), signals[0].severity) == ("02:30", "critical")
    assert local_clock(signals[1].time) == "02:50"


def test_coming_home_at_night_to_a_quiet_home_is_not_a_night_exit() -> None:
    """In the same home, out at 19:00 (after the kitchen) and in at 01:00 by the front door,
    then straight to sleep with no sensor firing: coming home, not leaving."""
    home = quiet_home(3)
    evening = MONDAY + timedelta(days=3)
    home.morning(evening)
    home.motion("kitchen", at(evening, 18.8), 10, every=2)
    home.door(at(evening, 19.0))
    home.door(at(evening, 25.0))
    run = home.run(at(evening, 28.0))
    assert run.of("night_exit") == []
