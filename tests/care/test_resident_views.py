"""The resident page's pure parts: buckets into heatmap cells and timeline spans, care
day records into indicator series with the person's band, and chart geometry."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from vigil.care import charts, heatmap, indicators, timeline
from vigil.care.localtime import day_end, day_start, zone
from vigil.care.sensors import Channel
from vigil.engine.projection_rows import HistoryBucket

LONDON = zone("Europe/London")
KITCHEN = Channel("kitchen", "kitchen", "motion")
BED = Channel("bed", "bedroom", "bed")
DOOR = Channel("front_door", "hall", "door")
KETTLE = Channel("kettle", "kitchen", "appliance")
THERMO = Channel("temperature_lounge", "lounge", "temperature")


def bucket(
    device: str,
    metric: str,
    start: float,
    values: list[float],
    resolution: int = 3600,
) -> HistoryBucket:
    return HistoryBucket(
        tenant="t",
        entity="h",
        device=device,
        metric=metric,
        resolution=resolution,
        start=start,
        count=len(values),
        min=min(values),
        max=max(values),
        sum=sum(values),
    )


def local(day: date, hour: int, minute: int = 0) -> float:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON).timestamp()


def test_heatmap_cells_are_per_care_day_and_local_hour() -> None:
    """A summer bucket at 07:00 UTC is 08:00 local; 01:00 local belongs to the care day
    before; quiet rooms are still listed; temperature and unknown sensors count nothing;
    days outside the window are left out."""
    day = date(2025, 7, 10)
    channels = {("m", "motion"): KITCHEN, ("t", "temperature"): THERMO, ("b", "occupied"): BED}
    rows = [
        bucket("m", "motion", local(day, 8), [1.0, 1.0]),
        bucket("m", "motion", local(day + timedelta(days=1), 1), [1.0]),
        bucket("m", "motion", local(day - timedelta(days=9), 9), [1.0]),  # outside 7 days
        bucket("t", "temperature", local(day, 8), [21.0, 22.0]),
        bucket("x", "motion", local(day, 8), [1.0]),  # not one of the home's sensors
        bucket("m", "motion", local(day, 9), [1.0], resolution=900),  # not hourly
    ]
    grid = heatmap.build(channels, rows, LONDON, day, days=7)
    assert grid.rooms == ["bedroom", "kitchen"]
    assert grid.days[0] == day - timedelta(days=6) and grid.days[-1] == day
    assert grid.counts == {("kitchen", day, 8): 2, ("kitchen", day, 1): 1}
    assert grid.busiest_hour("kitchen", day) == 8
    assert grid.busiest_hour("bedroom", day) is None


def test_heatmap_autumn_change_keeps_both_one_oclocks() -> None:
    """On the night the clocks go back, 01:00-02:00 happens twice: both hours' motion
    lands in the one cell, nothing is lost."""
    day = date(2025, 10, 25)  # the night of Saturday to Sunday 26 October
    first_one = datetime(2025, 10, 26, 0, 0, tzinfo=zone("UTC")).timestamp()  # 01:00 BST
    rows = [
        bucket("m", "motion", first_one, [1.0]),
        bucket("m", "motion", first_one + 3600, [1.0, 1.0]),  # 01:00 GMT
    ]
    grid = heatmap.build({("m", "motion"): KITCHEN}, rows, LONDON, day, days=1)
    assert grid.counts == {("kitchen", day, 1): 3}


def test_held_state_through_mixed_buckets() -> None:
    """A two-state sensor's spans from buckets: a bucket with both states is in use;
    an odd number of changes in it flips the state after it, an even one keeps it."""
    on = timeline._on(BED, "occupied")
    rows = [
        bucket("b", "occupied", 0.0, [1.0, 0.0], 60),  # on then off: in use that minute
        bucket("b", "occupied", 600.0, [0.0, 1.0, 0.0], 60),  # off -> on: odd, on after
        bucket("b", "occupied", 1200.0, [0.0], 60),
    ]
    assert timeline.held(rows, on, until=3000.0) == [(0.0, 60.0), (600.0, 1200.0)]
    assert timeline.held(rows[:2], on, until=3000.0) == [(0.0, 60.0), (600.0, 3000.0)]


def test_lanes_order_and_counts() -> None:
    """Rooms first in walking order, then bed, doors, appliances; spans clipped to
    the day, motion joined across touching minutes; the kettle counts its switch-ons."""
    day = date(2025, 1, 6)
    start, end = day_start(day, LONDON), day_end(day, LONDON)
    channels = {
        ("m", "motion"): KITCHEN,
        ("d", "contact"): DOOR,
        ("k", "power"): KETTLE,
        ("b", "occupied"): BED,
        ("t", "temperature"): THERMO,
    }
    t = local(day, 8)
    rows = [
        bucket("m", "motion", t, [1.0], 60),
        bucket("m", "motion", t + 60, [1.0], 60),
        bucket("k", "power", t, [2000.0, 0.0], 60),
        bucket("d", "contact", t + 600, [1.0, 0.0], 60),
        bucket("m", "motion", start - 120, [1.0], 60),  # before the day: not drawn
    ]
    lanes = timeline.lanes(channels, rows, start, end)
    assert [lane.key for lane in lanes] == ["room:kitchen", "bed", "front_door", "kettle"]
    by_key = {lane.key: lane for lane in lanes}
    assert by_key["room:kitchen"].spans == [(t, t + 120)]
    assert by_key["room:kitchen"].events == 2
    assert by_key["kettle"].spans == [(t, t + 60)] and by_key["kettle"].events == 1
    assert by_key["front_door"].events == 2
    assert by_key["bed"].spans == []


def test_out_estimate_needs_a_motion_sensor_and_15_minutes() -> None:
    """Out only from the front door to the next sign of someone (or the door again),
    when that is over 15 minutes; never in a home without motion sensors."""
    door = timeline.Lane("front_door", "Front door", "door", [(0.0, 60.0), (5000.0, 5060.0)])
    hall = timeline.Lane("room:hall", "Hall", "room", [(120.0, 180.0)])
    assert timeline.estimate_out([door, hall], 9000.0) == [(5060.0, 9000.0)]
    late = timeline.Lane("room:hall", "Hall", "room", [(2000.0, 2060.0)])
    assert timeline.estimate_out([door, late], 9000.0) == [(60.0, 2000.0), (5060.0, 9000.0)]
    assert timeline.estimate_out([door], 9000.0) == []


def test_out_bins_after_midnight_belong_to_the_night() -> None:
    """Quarter-hour 4 (01:00) of a care day is the next calendar day's early hours."""
    day = date(2025, 1, 6)
    [(a, b)] = timeline.out_from_bins([4], day, LONDON)
    assert a == local(day + timedelta(days=1), 1) and b - a == 900


def record(day: date, **values: object) -> dict[str, object]:
    return {"day": day.isoformat(), "complete": True, "away": False, **values}


def test_band_leaves_out_the_latest_day_and_unusual_days() -> None:
    """The band is the 10th-90th percentile of complete days at home before the latest;
    an away day and an incomplete day are shown but do not make the normal."""
    last = date(2025, 3, 20)
    rows = [record(last - timedelta(days=i), night_bathroom=1) for i in range(1, 8)]
    rows.append(record(last, night_bathroom=5))
    rows.append({**record(last - timedelta(days=8), night_bathroom=9), "away": True})
    rows.append({**record(last - timedelta(days=9), night_bathroom=9), "complete": False})
    ind = indicators.INDICATORS[2]
    s = indicators.series(rows, ind, last_day=last, days=14)
    assert s.band == (1.0, 1.0) and s.usual_days == 7
    assert s.latest == 5.0 and s.outside
    assert dict(s.points)[last - timedelta(days=8)] == 9.0
    assert dict(s.points)[last - timedelta(days=12)] is None


def test_no_band_while_learning_and_unknown_values() -> None:
    """Fewer than five usual days: no band, never 'outside'; an unknown night
    bathroom count (None) is a gap, not a zero."""
    last = date(2025, 3, 20)
    rows = [record(last - timedelta(days=1), night_bathroom=None), record(last, night_bathroom=2)]
    s = indicators.series(rows, indicators.INDICATORS[2], last_day=last, days=7)
    assert s.band is None and not s.outside
    assert [v for _, v in s.points] == [None] * 6 + [2.0]


def test_formatting_and_trend_words() -> None:
    """Clock hours past midnight, minutes, degrees; weekly medians in words."""
    up, _, _, kitchen, _, cold, _, moves = indicators.INDICATORS
    assert indicators.format_value(up, 25.5) == "01:30"
    assert indicators.format_value(kitchen, 135.0) == "2 h 15 min"
    assert indicators.format_value(cold, 15.25) == "15.2 °C"
    assert indicators.format_value(moves, None) == "—"
    last = date(2025, 3, 21)
    rows = [record(last - timedelta(days=i), moves=40 - i) for i in range(21)]
    s = indicators.series(rows, moves, last_day=last, days=21)
    assert indicators.trend_words(s) == "weekly median 37; 23 2 weeks before"


def test_indicator_chart_geometry() -> None:
    """Dots inside the chart, later (higher) values nearer the top, the band a rect
    and the days outside it marked."""
    last = date(2025, 3, 20)
    rows = [record(last - timedelta(days=i), up=7.0 + (i % 3) / 10) for i in range(1, 14)]
    rows.append(record(last, up=10.0))
    s = indicators.series(rows, indicators.INDICATORS[0], last_day=last, days=14)
    chart = charts.indicator_chart(s)
    assert len(chart["dots"]) == 14
    assert all(
        0 <= d["x"] <= chart["width"] and 0 <= d["y"] <= chart["height"] for d in chart["dots"]
    )
    latest = chart["dots"][-1]
    assert latest["outside"] and latest["y"] == min(d["y"] for d in chart["dots"])
    assert chart["band"]["height"] > 0
    assert len(chart["weekly"].split()) == 2


def test_heatmap_panels_shade_against_the_rooms_own_peak() -> None:
    """Each room's busiest hour is fully shaded, an empty hour is no cell, and every cell
    says in words what it counts."""
    day = date(2025, 1, 6)
    grid = heatmap.Heatmap(
        rooms=["kitchen"], days=[day], counts={("kitchen", day, 8): 4, ("kitchen", day, 9): 1}
    )
    panel = charts.heatmap_panels(grid)["panels"][0]
    cells = {c["hour"]: c for c in panel["cells"]}
    assert sorted(cells) == [8, 9]  # quiet hours are the background
    assert cells[8]["opacity"] == 1.0 and cells[9]["opacity"] < 0.5
    assert cells[8]["title"] == "Kitchen, Mon 06 Jan, 08:00 to 09:00: 4 events"
