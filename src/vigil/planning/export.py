"""A plan in the forms people use: rows, CSV, a carer's calendar, JSON; and why a visit
could not be placed.

Everything here reads a :class:`Problem` and a :class:`Plan` and nothing else, so the
command line, the web pages and tests show the same figures.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
from dataclasses import dataclass

import icalendar

from vigil.planning.checker import check
from vigil.planning.model import Plan, Problem, Visit


def clock(seconds: int | None) -> str:
    """Seconds since midnight as ``HH:MM``."""
    if seconds is None:
        return ""
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


@dataclass(frozen=True)
class Row:
    """One planned visit on a carer's run, with the travel to it."""

    carer: str
    order: int
    visit: str
    client: str
    start: int
    end: int
    earliest: int
    latest: int
    travel: int
    skills: tuple[str, ...]
    partner: str | None
    x: float
    y: float


def rows(problem: Problem, plan: Plan) -> list[Row]:
    """Every planned visit, carer by carer in run order."""
    partners: dict[str, str] = {}
    for link in problem.links:
        partners[link.first], partners[link.second] = link.second, link.first
    carer_of = {}
    for route in plan.routes:
        for stop in route.stops:
            carer_of[stop.visit] = route.carer
    out: list[Row] = []
    for route in plan.routes:
        carer = problem.carer(route.carer)
        place = carer.start_location
        for order, stop in enumerate(route.stops, 1):
            visit = problem.visit(stop.visit)
            x, y = problem.locations[visit.location]
            partner = partners.get(visit.id)
            out.append(
                Row(
                    carer=route.carer,
                    order=order,
                    visit=visit.id,
                    client=visit.client,
                    start=stop.start,
                    end=stop.start + visit.duration,
                    earliest=visit.earliest,
                    latest=visit.latest,
                    travel=problem.travel_time(carer.travel_mode, place, visit.location),
                    skills=tuple(sorted(visit.skills)),
                    partner=carer_of.get(partner) if partner else None,
                    x=x,
                    y=y,
                )
            )
            place = visit.location
    return out


def reason(problem: Problem, plan: Plan, visit: Visit, out: tuple[str, ...] = ()) -> str:
    """Why ``visit`` is not in the plan, in a coordinator's words (the first reason that
    applies: nobody qualified, nobody on shift then, or no room in a qualified run)."""
    carers = [c for c in problem.carers if c.id not in out]
    skilled = [c for c in carers if c.can_do(visit)]
    if not skilled:
        needs = ", ".join(sorted(visit.skills)) or "no special skill"
        return f"no carer on today has the skills it needs ({needs})"
    on_shift = [
        c
        for c in skilled
        if c.shift_start <= visit.latest and visit.earliest + visit.duration <= c.shift_end
    ]
    if not on_shift:
        return (
            f"no qualified carer is on shift between {clock(visit.earliest)} "
            f"and {clock(visit.latest + visit.duration)}"
        )
    if visit.latest < visit.earliest:
        return "its time window closed before the plan was made"
    link = next((k for k in problem.links if visit.id in (k.first, k.second)), None)
    if link is not None and len(on_shift) < 2:
        return "double-handed, and fewer than two qualified carers are on shift then"
    window = f"between {clock(visit.earliest)} and {clock(visit.latest)}"
    if link is not None:
        return (
            f"double-handed: no two qualified carers are free at the same time {window} "
            f"({len(on_shift)} qualified carers on shift)"
        )
    return f"no qualified carer's run has room {window} ({len(on_shift)} qualified carers on shift)"


def reasons(problem: Problem, plan: Plan, out: tuple[str, ...] = ()) -> dict[str, str]:
    """Visit id -> why it is not placed, for every visit the plan leaves out."""
    return {v: reason(problem, plan, problem.visit(v), out) for v in plan.unassigned}


@dataclass(frozen=True)
class Summary:
    """What a coordinator reads first about a plan."""

    visits: int
    placed: int
    unassigned: int
    runs: int
    travel_minutes: float
    feasible: bool
    problems: tuple[str, ...]


def summary(problem: Problem, plan: Plan) -> Summary:
    """Counts, travel and the independent checker's verdict (unplaced visits aside)."""
    report = check(problem, plan)
    other = tuple(sorted(report.kinds() - {"unassigned"}))
    return Summary(
        visits=len(problem.visits),
        placed=len(problem.visits) - len(plan.unassigned),
        unassigned=len(plan.unassigned),
        runs=sum(1 for r in plan.routes if r.stops),
        travel_minutes=round(report.travel / 60, 1),
        feasible=not other,
        problems=other,
    )


CSV_FIELDS = (
    "carer",
    "order",
    "visit",
    "client",
    "start",
    "end",
    "window_from",
    "window_to",
    "travel_min",
    "skills",
    "with_carer",
)


def to_csv(problem: Problem, plan: Plan) -> str:
    """The plan as CSV: one row per planned visit, then one per visit left out."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow((*CSV_FIELDS, "not_placed_because"))
    for row in rows(problem, plan):
        writer.writerow(
            (
                row.carer,
                row.order,
                row.visit,
                row.client,
                clock(row.start),
                clock(row.end),
                clock(row.earliest),
                clock(row.latest),
                round(row.travel / 60, 1),
                " ".join(row.skills),
                row.partner or "",
                "",
            )
        )
    for visit_id, why in reasons(problem, plan).items():
        visit = problem.visit(visit_id)
        writer.writerow(
            (
                "",
                "",
                visit.id,
                visit.client,
                "",
                "",
                clock(visit.earliest),
                clock(visit.latest),
                "",
                " ".join(sorted(visit.skills)),
                "",
                why,
            )
        )
    return buffer.getvalue()


def to_ics(problem: Problem, plan: Plan, carer_id: str, day: dt.date, tenant: str) -> bytes:
    """One carer's run as an iCalendar file: an event per visit and per break."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Vigil//carer run//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{carer_id} {day.isoformat()}")
    route = plan.route(carer_id)
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    if route is not None:
        for row in (r for r in rows(problem, plan) if r.carer == carer_id):
            event = icalendar.Event()
            event.add("uid", f"{tenant}/{day.isoformat()}/{row.visit}@vigil")
            event.add("dtstamp", midnight)
            event.add("dtstart", midnight + dt.timedelta(seconds=row.start))
            event.add("dtend", midnight + dt.timedelta(seconds=row.end))
            event.add("summary", f"Visit {row.client}")
            notes = [f"window {clock(row.earliest)}-{clock(row.latest)}"]
            if row.skills:
                notes.append("needs " + ", ".join(row.skills))
            if row.partner:
                notes.append(f"double-handed with {row.partner}")
            event.add("description", "; ".join(notes))
            event.add("location", f"{row.x:.0f} m E, {row.y:.0f} m N")
            calendar.add_component(event)
        carer = problem.carer(carer_id)
        for index, (rule, start) in enumerate(zip(carer.breaks, route.breaks, strict=False)):
            event = icalendar.Event()
            event.add("uid", f"{tenant}/{day.isoformat()}/{carer_id}/break{index}@vigil")
            event.add("dtstamp", midnight)
            event.add("dtstart", midnight + dt.timedelta(seconds=start))
            event.add("dtend", midnight + dt.timedelta(seconds=start + rule.duration))
            event.add("summary", "Break")
            calendar.add_component(event)
    return calendar.to_ical()


def to_json(problem: Problem, plan: Plan, tenant: str, day: dt.date) -> str:
    """The plan as JSON: runs with their visits, and visits left out with reasons."""
    by_carer = {
        carer: [
            {"visit": r.visit, "client": r.client, "start": clock(r.start), "end": clock(r.end)}
            for r in group
        ]
        for carer, group in itertools.groupby(rows(problem, plan), key=lambda r: r.carer)
    }
    facts = summary(problem, plan)
    body = {
        "tenant": tenant,
        "date": day.isoformat(),
        "solver": plan.solver,
        "visits": facts.visits,
        "placed": facts.placed,
        "travel_minutes": facts.travel_minutes,
        "runs": [
            {
                "carer": route.carer,
                "leave": clock(route.depart),
                "back": clock(route.back),
                "breaks": [clock(b) for b in route.breaks] if route.stops else [],
                "visits": by_carer.get(route.carer, []),
            }
            for route in plan.routes
        ],
        "not_placed": [{"visit": v, "because": why} for v, why in reasons(problem, plan).items()],
    }
    return json.dumps(body, indent=2) + "\n"


__all__ = [
    "Row",
    "Summary",
    "clock",
    "reason",
    "reasons",
    "rows",
    "summary",
    "to_csv",
    "to_ics",
    "to_json",
]
