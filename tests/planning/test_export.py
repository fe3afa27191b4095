"""A plan as CSV, a carer's calendar, JSON, and the reasons for visits left out."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import replace

import icalendar

from tests.planning.helpers import good_plan, small_problem
from vigil.planning import Carer, Visit
from vigil.planning.export import reason, rows, summary, to_csv, to_ics, to_json

DAY = dt.date(2026, 12, 8)


def test_rows_follow_each_run_with_travel_and_partner() -> None:
    """Rows come carer by carer in run order, with the travel to each visit and, for a
    double-handed visit, the carer doing the other half."""
    table = rows(small_problem(), good_plan())
    assert [(r.carer, r.visit) for r in table] == [
        ("A", "v1"), ("A", "v2"), ("A", "h1"), ("B", "h2"), ("C", "v3"),
    ]  # fmt: skip
    assert [r.travel for r in table] == [10, 10, 10, 30, 20]
    assert table[2].partner == "B" and table[3].partner == "A"


def test_csv_has_a_row_per_visit_and_one_per_visit_left_out() -> None:
    """The CSV lists every planned visit with its times and every visit left out with why."""
    problem = small_problem()
    plan = replace(good_plan(), unassigned=("v9",))
    lonely = Visit("v9", "p9", 1, 10, 20, 5, frozenset({"sign language"}))
    problem = replace(problem, visits=(*problem.visits, lonely))
    table = list(csv.DictReader(io.StringIO(to_csv(problem, plan))))
    assert len(table) == 6
    assert table[0]["visit"] == "v1" and table[0]["start"] == "00:00"
    assert table[-1]["visit"] == "v9"
    assert "skills it needs (sign language)" in table[-1]["not_placed_because"]


def test_ics_has_an_event_per_visit_and_break_of_that_carer() -> None:
    """Carer A's calendar: three visits and one break, on the day asked, and nothing else."""
    body = to_ics(small_problem(), good_plan(), "A", DAY, "north")
    calendar = icalendar.Calendar.from_ical(body)
    events = [c for c in calendar.walk("VEVENT")]
    assert [str(e["summary"]) for e in events] == ["Visit p1", "Visit p2", "Visit p3", "Break"]
    assert events[0].decoded("dtstart").date() == DAY
    assert "double-handed with B" in str(events[2]["description"])


def test_reasons_name_the_first_thing_that_stops_a_visit() -> None:
    """Missing skills, nobody on shift, and no room are told apart."""
    problem = small_problem()
    plan = good_plan()
    skill = Visit("x", "p", 1, 10, 20, 5, frozenset({"sign language"}))
    night = Visit("y", "p", 1, 900, 950, 5)
    busy = Visit("z", "p", 1, 10, 20, 5)
    assert "skills" in reason(problem, plan, skill)
    assert "on shift" in reason(problem, plan, night)
    assert "has room" in reason(problem, plan, busy)
    assert "skills" in reason(
        replace(problem, carers=(Carer("D", 0, 0, 0, 500),)), plan, problem.visit("v1")
    )


def test_json_and_summary_agree() -> None:
    """The JSON's counts are the summary's, and every run is listed."""
    problem, plan = small_problem(), good_plan()
    body = json.loads(to_json(problem, plan, "north", DAY))
    facts = summary(problem, plan)
    assert (body["visits"], body["placed"]) == (facts.visits, facts.placed) == (5, 5)
    assert [r["carer"] for r in body["runs"]] == ["A", "B", "C"]
    assert facts.feasible
