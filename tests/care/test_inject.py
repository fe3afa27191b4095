"""Anomalies injected into a recorded home's days use that home's own sensors and timing."""

from __future__ import annotations

import random
from datetime import date

from vigil.care.inject import RecordedDays
from vigil.catalog import Device
from vigil.events import Reading

DAY = date(2024, 10, 4)
MIDNIGHT = 1728000000.0  # 2024-10-04 00:00 UTC


def _device(name: str, kind: str, room: str, metric: str) -> Device:
    return Device(
        tenant="t", id=f"h.{name}", entity="h", kind=kind, location=room, metrics=(metric,)
    )


DEVICES = [
    _device("fridge", "contact", "kitchen", "open"),
    _device("frontdoor", "contact", "entrance", "open"),
    _device("bed", "pressure", "bedroom", "occupied"),
]


def _events() -> list[Reading]:
    """Three days: in bed 23:00, up 08:00 (bed empties, fridge), the door once at noon held 9 s."""
    out = []
    for d in range(3):
        base = MIDNIGHT + d * 86400
        for name, at, value in (
            ("bed", 8 * 3600 - 60, 0.0),
            ("fridge", 8 * 3600, 1.0),
            ("fridge", 8 * 3600 + 30, 0.0),
            ("frontdoor", 12 * 3600, 1.0),
            ("frontdoor", 12 * 3600 + 9, 0.0),
            ("fridge", 19 * 3600, 1.0),
            ("fridge", 19 * 3600 + 20, 0.0),
            ("bed", 23 * 3600, 1.0),
        ):
            out.append(
                Reading(
                    tenant="t",
                    device=f"h.{name}",
                    entity="h",
                    seq=0,
                    time=base + at,
                    metric=DEVICES[["fridge", "frontdoor", "bed"].index(name)].metrics[0],
                    value=value,
                )
            )
    return out


def test_night_exit_is_the_bed_then_the_front_door_held_as_this_home_holds_it() -> None:
    """Out of bed, then the front door open for this home's own 9 s, then nothing."""
    home = RecordedDays(DEVICES, _events(), "UTC")
    copy, label = home.inject("night_exit", DAY, random.Random(3))  # type: ignore[misc]
    after = [e for e in copy if e.timestamp >= label.start - 600]
    assert [(e.device, e.value) for e in after] == [
        ("h.bed", 0.0),
        ("h.frontdoor", 1.0),
        ("h.frontdoor", 0.0),
    ]
    assert after[2].timestamp - after[1].timestamp == 9.0
    assert 25.0 <= (label.start - MIDNIGHT) / 3600 < 27.5
    assert copy[-1].timestamp < label.end
    seqs = [e.seq for e in copy if e.device == "h.frontdoor"]
    assert seqs == list(range(1, len(seqs) + 1))


def test_not_up_removes_the_morning_and_empties_the_bed_in_the_afternoon() -> None:
    """From the day's getting up (the fridge at 08:00) nothing until 14:00, when the bed
    empties; the replay runs an hour past that, so the getting up is seen."""
    home = RecordedDays(DEVICES, _events(), "UTC")
    copy, label = home.inject("not_up", DAY, random.Random(1))  # type: ignore[misc]
    assert label.start == MIDNIGHT + 8 * 3600
    assert label.deadline == MIDNIGHT + 14 * 3600
    day = [
        (e.device, e.value, e.timestamp - MIDNIGHT)
        for e in copy
        if e.timestamp >= 4 * 3600 + MIDNIGHT
    ]
    assert day == [("h.bed", 0.0, 8 * 3600 - 60), ("h.bed", 0.0, 14 * 3600)]
