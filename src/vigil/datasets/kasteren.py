"""Reader for the Kasteren house A data set (van Kasteren et al., UbiComp 2008).

``kasterenSenseData.txt`` has a header naming sensors (``[ 5]    'Hall-Toilet door'``)
and then tab-separated lines ``25-Feb-2008 00:20:14<TAB>25-Feb-2008 00:22:57<TAB>24<TAB>1``
(start, end, sensor id, value - always 1); ``kasterenActData.txt`` lists activities
the same way. A trailing ``Length: N`` line closes each file.

All 14 sensors of house A are reed switches on doors, cupboards and appliance
doors, except the float switch in the toilet cistern (the paper, section 3): so
the appliances are ``contact`` (metric ``open``), not ``power``. The files name no
rooms; locations come from the sensor names. Times are local (Amsterdam) time
without a zone and are read as UTC.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from vigil.datasets.home import Activity, Interval, RecordedHome, Sensor, build_home, utc_seconds
from vigil.datasets.text import data_file, read_lines
from vigil.errors import MalformedPayload

SENSE_FILE: Final = "kasterenSenseData.txt"
ACTIVITY_FILE: Final = "kasterenActData.txt"

SENSORS: Final[dict[str, tuple[str, str | None]]] = {
    "microwave": ("contact", "kitchen"),
    "hall-toilet door": ("contact", "toilet"),
    "hall-bathroom door": ("contact", "bathroom"),
    "cups cupboard": ("contact", "kitchen"),
    "fridge": ("contact", "kitchen"),
    "plates cupboard": ("contact", "kitchen"),
    "frontdoor": ("contact", "entrance"),
    "dishwasher": ("contact", "kitchen"),
    "toiletflush": ("flush", "toilet"),
    "freezer": ("contact", "kitchen"),
    "pans cupboard": ("contact", "kitchen"),
    "washingmachine": ("contact", "bathroom"),
    "groceries cupboard": ("contact", "kitchen"),
    "hall-bedroom door": ("contact", "bedroom"),
}
"""Lower-cased sensor name -> (device kind, room). A door belongs to the room it opens."""

_MONTHS: Final = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_TIME = re.compile(r"^(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{1,2}):(\d{2}):(\d{2})$")
_SENSOR_NAME = re.compile(r"^\s*\[\s*(\d+)\]\s*'([^']*)'")
_ACTIVITY_NAME = re.compile(r"^\s*(\d+)\s*:\s*'([^']*)'")
_DATA = re.compile(r"^\d{1,2}-[A-Za-z]{3}-\d{4} ")


def read_kasteren(
    path: Path,
    *,
    tenant: str,
    entity: str = "kasteren-house-a",
    shift_to: float | None = None,
    keep_time_of_day: bool = False,
) -> RecordedHome:
    """Read Kasteren house A from its directory (or any file in it)."""
    names, intervals = _read_table(data_file(Path(path), SENSE_FILE), _SENSOR_NAME)
    labels, spans = _read_table(data_file(Path(path), ACTIVITY_FILE), _ACTIVITY_NAME)
    sensors = [
        Sensor(name, *SENSORS.get(name.lower(), ("contact", None))) for name in names.values()
    ]
    return build_home(
        tenant=tenant,
        entity=entity,
        entity_name="Kasteren house A",
        attributes={"dataset": "kasteren", "source": "kasteren_house_a", "time_zone": "UTC"},
        sensors=sensors,
        intervals=(Interval(names[key], start, end) for key, start, end in intervals),
        activities=(Activity(label=labels[key], start=s, end=e) for key, s, e in spans),
        shift_to=shift_to,
        keep_time_of_day=keep_time_of_day,
    )


def _read_table(
    path: Path, name_pattern: re.Pattern[str]
) -> tuple[dict[str, str], list[tuple[str, float, float]]]:
    """The header's id -> name list and the data lines as (id, start, end)."""
    names: dict[str, str] = {}
    rows: list[tuple[str, float, float]] = []
    for number, line in read_lines(path):
        if named := name_pattern.match(line):
            names[named.group(1)] = named.group(2).strip()
            continue
        if not _DATA.match(line):
            continue
        fields = [f.strip() for f in line.split("\t")]
        if len(fields) < 3 or fields[2] not in names:
            raise MalformedPayload(f"{path}:{number}: expected start, end, known id: {line!r}")
        rows.append((fields[2], _time(fields[0], path, number), _time(fields[1], path, number)))
    return names, rows


def _time(text: str, path: Path, number: int) -> float:
    """``25-Feb-2008 00:20:14`` as UTC epoch seconds, independent of the C locale."""
    parsed = _TIME.match(text)
    month = _MONTHS.get(parsed.group(2).lower()) if parsed else None
    if parsed is None or month is None:
        raise MalformedPayload(f"{path}:{number}: bad time {text!r}")
    day, _, year, hh, mm, ss = parsed.groups()
    return utc_seconds(int(year), month, int(day), int(hh), int(mm), int(ss))
