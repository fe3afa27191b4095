"""Reader for the Ordóñez A data set (Ordóñez, de Toledo and Sanchis, Sensors 2013).

``OrdonezA_Sensors.txt`` has two header lines, then lines such as
``2011-11-28 10:21:24<TAB><TAB>2011-11-28 10:21:31<TAB><TAB>Cabinet<TAB><TAB>Magnetic<TAB>Bathroom``
(start, end, sensor, type, room, separated by runs of tabs); ``OrdonezA_ADLs.txt``
has (start, end, activity). Times are local (Madrid) time without a zone and are
read as UTC.

Three activity lines end before they start (e.g. ``2011-12-02 12:20:41`` to
``2011-12-01 10:20:59``): typing slips in the source. They are kept, so counts
match the file, with ``end = start``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from vigil.datasets.home import Activity, Interval, RecordedHome, Sensor, build_home, utc_seconds
from vigil.datasets.text import data_file, read_lines
from vigil.errors import MalformedPayload

SENSE_FILE: Final = "OrdonezA_Sensors.txt"
ACTIVITY_FILE: Final = "OrdonezA_ADLs.txt"

TYPE_KINDS: Final[dict[str, str]] = {
    "pir": "motion",
    "magnetic": "contact",
    "pressure": "pressure",
    "flush": "flush",
    "electric": "power",
}
"""The file's sensor type -> Vigil device kind (its metric is in ``KIND_METRICS``)."""

_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$")
_DATA = re.compile(r"^\d{4}-\d{2}-\d{2} ")


def read_ordonez(
    path: Path,
    *,
    tenant: str,
    entity: str = "ordonez-a",
    shift_to: float | None = None,
    keep_time_of_day: bool = False,
) -> RecordedHome:
    """Read Ordóñez A from its directory (or any file in it)."""
    sensors: dict[str, Sensor] = {}
    intervals: list[Interval] = []
    sense = data_file(Path(path), SENSE_FILE)
    for number, fields in _rows(sense, 5):
        name, kind_name, room = fields[2], fields[3], fields[4]
        kind = TYPE_KINDS.get(kind_name.lower())
        if kind is None:
            raise MalformedPayload(f"{sense}:{number}: unknown sensor type {kind_name!r}")
        sensor = Sensor(name=name, kind=kind, location=room.lower())
        if sensors.setdefault(name, sensor) != sensor:
            raise MalformedPayload(f"{sense}:{number}: sensor {name!r} changed type or room")
        intervals.append(
            Interval(name, _time(fields[0], sense, number), _time(fields[1], sense, number))
        )

    activities: list[Activity] = []
    labels = data_file(Path(path), ACTIVITY_FILE)
    for number, fields in _rows(labels, 3):
        start, end = _time(fields[0], labels, number), _time(fields[1], labels, number)
        activities.append(Activity(label=fields[2], start=start, end=max(start, end)))

    return build_home(
        tenant=tenant,
        entity=entity,
        entity_name="Ordóñez A",
        attributes={"dataset": "ordonez", "source": "ordonez_a", "time_zone": "UTC"},
        sensors=sorted(sensors.values(), key=lambda s: s.name),
        intervals=intervals,
        activities=activities,
        shift_to=shift_to,
        keep_time_of_day=keep_time_of_day,
    )


def _rows(path: Path, width: int) -> list[tuple[int, list[str]]]:
    """Data lines split on runs of tabs (the files pad columns with extra tabs)."""
    rows: list[tuple[int, list[str]]] = []
    for number, line in read_lines(path):
        if not _DATA.match(line):
            continue
        fields = [f.strip() for f in re.split(r"\t+", line.strip())]
        if len(fields) != width:
            raise MalformedPayload(f"{path}:{number}: expected {width} columns: {line!r}")
        rows.append((number, fields))
    return rows


def _time(text: str, path: Path, number: int) -> float:
    parsed = _TIME.match(text)
    if parsed is None:
        raise MalformedPayload(f"{path}:{number}: bad time {text!r}")
    year, month, day, hh, mm, ss = (int(g) for g in parsed.groups())
    return utc_seconds(year, month, day, hh, mm, ss)
