"""The resident page: one home's routine, day, indicators and alerts, read from the store.

``/residents/{home}`` shows an activity heatmap (care days x local hours, one small
multiple per room), the timeline of one care day (``?day=YYYY-MM-DD``, with the
previous and next days), the daily indicators against the person's own normal band
over weeks, and the home's open and past alerts with their evidence. Everything
comes from projections (hourly and minute history buckets), the ``care_day``
records and the conditions table, never from the care operator's memory, so the
page is the same when the operators run elsewhere. ``/api/v1/care/residents/...``
answers the same data as JSON. Reading either is audited: it is a person's day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from vigil.care import charts, heatmap, indicators, timeline
from vigil.care.day import DAY_METRIC
from vigil.care.heatmap import Slot
from vigil.care.localtime import care_day, day_end, day_start, zone
from vigil.care.monitor import CONDITION_KINDS, HOME_KIND
from vigil.care.sensors import Channel, channel_for
from vigil.catalog import Entity
from vigil.errors import InvalidRequest, NotFound
from vigil.security import Principal
from vigil.web.api import (
    Audit,
    Conditions,
    Findings,
    Now,
    PageRoute,
    Pages,
    Projections,
    Reader,
    Registry,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
api = APIRouter(prefix="/api/v1/care/residents", tags=["care"])
pages = Pages(Path(__file__).with_name("templates"))

DEFAULT_ZONE = "Europe/London"
"""As ``CareMonitor``'s default: homes whose attributes name no ``time_zone``."""
FINE, COARSE = 60, 900
CARRY_SECONDS = 12 * 3600.0
"""How far before a day the timeline looks for the bed's and plugs' state."""
OPEN_STATUSES = ("open", "acknowledged")

HeatmapDays = Annotated[int, Query(ge=7, le=56)]
Weeks = Annotated[int, Query(ge=1, le=26)]
DayParam = Annotated[str | None, Query(max_length=10, pattern=r"^\d{4}-\d{2}-\d{2}$")]


@dataclass(frozen=True)
class Home:
    entity: Entity
    tz: tzinfo
    channels: dict[Slot, Channel]
    today: date


def _home(
    tenant: str, entity_id: str, registry: Any, now: float, audit: Any, who: Principal
) -> Home:
    """The home (404 for another tenant's id or for an entity that is not a home)."""
    entity = registry.entity(tenant, entity_id)
    if entity.kind != HOME_KIND:
        raise NotFound(f"no home {entity_id!r}")
    audit(who, "read_resident", entity_id)
    tz = zone(str(entity.attributes.get("time_zone") or DEFAULT_ZONE))
    channels = {}
    for device in registry.devices(tenant, entity_id):
        for metric in device.metrics:
            channel = channel_for(device.kind, device.location, device.id, metric)
            if channel is not None:
                channels[(device.id, metric)] = channel
    return Home(entity, tz, channels, care_day(now, tz))


def _day(value: str | None, home: Home) -> date:
    if not value:
        return home.today
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        raise InvalidRequest(f"not a date (YYYY-MM-DD): {value!r}") from err


def build_heatmap(
    home: Home, projections: Any, tenant: str, days: int, *, fit: bool = False
) -> heatmap.Heatmap:
    """The last ``days`` care days; with ``fit``, only those since the first activity
    (a week at least), so that a new resident's page is not mostly empty rows."""
    first = home.today - timedelta(days=days - 1)
    buckets = projections.history(
        tenant,
        home.entity.id,
        resolution=3600,
        since=day_start(first, home.tz),
        until=day_end(home.today, home.tz),
    )
    grid = heatmap.build(home.channels, buckets, home.tz, home.today, days=days)
    seen = [day for (_, day, _) in grid.counts]
    if fit and seen:
        span = max(7, (home.today - min(seen)).days + 1)
        if span < days:
            grid = heatmap.build(home.channels, buckets, home.tz, home.today, days=span)
    return grid


@dataclass(frozen=True)
class DayView:
    day: date
    start: float
    end: float
    resolution: int
    lanes: list[timeline.Lane]
    out_note: str
    record: dict[str, Any] | None


def _day_buckets(projections: Any, tenant: str, entity: str, start: float, end: float) -> Any:
    """The finest buckets that cover the day: 1-minute ones while they are kept."""
    fine = projections.history(
        tenant, entity, resolution=FINE, since=start - CARRY_SECONDS, until=end
    )
    coarse = projections.history(
        tenant, entity, resolution=COARSE, since=start - CARRY_SECONDS, until=end
    )
    fine_in = [b.start for b in fine if b.start >= start]
    coarse_in = [b.start for b in coarse if b.start >= start]
    if fine_in and (not coarse_in or min(fine_in) < min(coarse_in) + COARSE):
        return FINE, fine
    return COARSE, coarse


def _record(findings: Any, tenant: str, entity: str, day: date, end: float) -> dict | None:
    for row in findings.recent(tenant, entity=entity, kind="care_day", since=end - 3600.0, limit=4):
        if row.data.get("day") == day.isoformat():
            return dict(row.data)
    return None


def build_day(
    home: Home, projections: Any, findings: Any, tenant: str, day: date, now: float
) -> DayView:
    start, end = day_start(day, home.tz), day_end(day, home.tz)
    resolution, buckets = _day_buckets(projections, tenant, home.entity.id, start, end)
    lanes = timeline.lanes(home.channels, buckets, start, end, until=now)
    record = _record(findings, tenant, home.entity.id, day, end)
    if record is not None and "out_bins" in record:
        out = timeline.clip(timeline.out_from_bins(record["out_bins"], day, home.tz), start, end)
        note = "as the care day's record counted it"
    elif now < end:
        out = timeline.estimate_out(lanes, min(now, end))
        note = "estimated (the front door, then no one about for 15 min): the day is not over"
    else:
        out, note = [], "no record of this day"
    lanes.append(timeline.Lane("out", "Out of home", "out", out, len(out), note))
    return DayView(day, start, end, resolution, lanes, note, record)


def build_indicators(
    home: Home, findings: Any, tenant: str, weeks: int
) -> tuple[list[indicators.Series], list[dict[str, Any]]]:
    days = weeks * 7
    last = home.today - timedelta(days=1)  # the latest closed care day
    since = day_start(last - timedelta(days=days - 1), home.tz)
    rows = findings.recent(
        tenant, entity=home.entity.id, kind="care_day", since=since, limit=days + 7
    )
    records = sorted((dict(r.data) for r in rows), key=lambda r: str(r.get("day")))
    if records:  # a new resident: the charts span the days there are (a week at least)
        first = date.fromisoformat(str(records[0]["day"]))
        days = max(7, min(days, (last - first).days + 1))
    series = [
        indicators.series(records, ind, last_day=last, days=days) for ind in indicators.INDICATORS
    ]
    return series, records


def evidence_items(evidence: Mapping[str, Any], tz: tzinfo) -> list[tuple[str, str]]:
    """An alert's evidence as (label, text); epoch times in the home's local time.

    >>> evidence_items({"door_opened": 1736150400.0, "out_minutes": 40}, zone("UTC"))
    [('Door opened', 'Mon 06 Jan 08:00'), ('Out minutes', '40')]
    """
    items = []
    for key, value in evidence.items():
        if key == "reason":
            continue
        label = key.replace("_", " ").capitalize()
        if isinstance(value, int | float) and not isinstance(value, bool) and 1e9 < value < 1e10:
            text = charts.local_text(float(value), tz)
        elif isinstance(value, float):
            text = f"{value:.2f}".rstrip("0").rstrip(".")
        else:
            text = str(value)
        items.append((label, text))
    return items


@router.get("/residents/{entity_id}")
def resident_page(
    entity_id: str,
    request: Request,
    principal: Reader,
    registry: Registry,
    projections: Projections,
    conditions: Conditions,
    findings: Findings,
    audit: Audit,
    now: Now,
    day: DayParam = None,
    days: HeatmapDays = 28,
    weeks: Weeks = 8,
) -> Response:
    tenant = principal.tenant
    home = _home(tenant, entity_id, registry, now, audit, principal)
    shown = _day(day, home)
    grid = build_heatmap(home, projections, tenant, days, fit=True)
    view = build_day(home, projections, findings, tenant, shown, now)
    series, records = build_indicators(home, findings, tenant, weeks)
    alerts = conditions.for_entity(tenant, entity_id, limit=100)
    care = [a for a in alerts if a.kind in CONDITION_KINDS]  # device problems are apart
    summary = next(
        (v.text for v in projections.latest(tenant, entity_id) if v.metric == DAY_METRIC), None
    )
    return pages.render(
        request,
        principal,
        "resident.html",
        title=home.entity.name,
        home=home.entity,
        resident=str(home.entity.attributes.get("resident") or ""),
        summary=summary,
        learned=records[-1].get("days_learned") if records else None,
        grid=grid,
        heat=charts.heatmap_panels(grid),
        view=view,
        board=charts.timeline_board(view.lanes, view.start, view.end, shown, home.tz),
        previous=(shown - timedelta(days=1)).isoformat(),
        following=(shown + timedelta(days=1)).isoformat() if shown < home.today else None,
        series=[(s, charts.indicator_chart(s), indicators.trend_words(s)) for s in series],
        format_value=indicators.format_value,
        day_label=charts.day_label,
        open_alerts=[a for a in care if a.status in OPEN_STATUSES],
        past_alerts=[a for a in care if a.status not in OPEN_STATUSES],
        device_alerts=[a for a in alerts if a.kind not in CONDITION_KINDS],
        zone_name=str(home.entity.attributes.get("time_zone") or DEFAULT_ZONE),
        evidence=lambda row: evidence_items(row.evidence, home.tz),
        local=lambda t: charts.local_text(t, home.tz),
        days=len(grid.days),
        weeks=weeks,
        hours=heatmap.HOURS,
    )


@api.get("/{entity_id}/heatmap", summary="A resident's activity per room, care day and hour")
def heatmap_api(
    entity_id: str,
    principal: Reader,
    registry: Registry,
    projections: Projections,
    audit: Audit,
    now: Now,
    days: HeatmapDays = 28,
) -> dict[str, Any]:
    home = _home(principal.tenant, entity_id, registry, now, audit, principal)
    grid = build_heatmap(home, projections, principal.tenant, days)
    return {
        "entity": entity_id,
        "name": home.entity.name,
        "days": [d.isoformat() for d in grid.days],
        "hours": list(heatmap.HOURS),
        "rooms": {
            room: {d.isoformat(): [grid.cell(room, d, h) for h in heatmap.HOURS] for d in grid.days}
            for room in grid.rooms
        },
    }


@api.get("/{entity_id}/timeline", summary="One care day of a resident's home, as time spans")
def timeline_api(
    entity_id: str,
    principal: Reader,
    registry: Registry,
    projections: Projections,
    findings: Findings,
    audit: Audit,
    now: Now,
    day: DayParam = None,
) -> dict[str, Any]:
    home = _home(principal.tenant, entity_id, registry, now, audit, principal)
    view = build_day(home, projections, findings, principal.tenant, _day(day, home), now)
    return {
        "entity": entity_id,
        "name": home.entity.name,
        "day": view.day.isoformat(),
        "start": view.start,
        "end": view.end,
        "resolution": view.resolution,
        "lanes": [
            {
                "key": lane.key,
                "label": lane.label,
                "sort": lane.sort,
                "events": lane.events,
                "spans": [list(span) for span in lane.spans],
                "note": lane.note,
            }
            for lane in view.lanes
        ],
    }


@api.get("/{entity_id}/indicators", summary="A resident's daily indicators and normal bands")
def indicators_api(
    entity_id: str,
    principal: Reader,
    registry: Registry,
    findings: Findings,
    audit: Audit,
    now: Now,
    weeks: Weeks = 8,
) -> dict[str, Any]:
    home = _home(principal.tenant, entity_id, registry, now, audit, principal)
    series, _ = build_indicators(home, findings, principal.tenant, weeks)
    return {
        "entity": entity_id,
        "name": home.entity.name,
        "indicators": {
            s.indicator.key: {
                "label": s.indicator.label,
                "unit": s.indicator.unit,
                "days": {d.isoformat(): v for d, v in s.points},
                "band": list(s.band) if s.band else None,
                "weekly": {d.isoformat(): v for d, v in s.weekly},
                "latest": s.latest,
                "outside": s.outside,
                "usual_days": s.usual_days,
            }
            for s in series
        },
    }
