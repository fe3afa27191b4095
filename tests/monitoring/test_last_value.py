"""LastValueTracker keeps the newest value of each sensor of an entity: one latest
row per device and metric, never replaced by a late reading, with its unit."""

from __future__ import annotations

from collections.abc import Sequence

from vigil.engine.keyed import KeyedRunner
from vigil.engine.projection_rows import LatestValue
from vigil.events import Reading
from vigil.monitoring import LastValueTracker
from vigil.store.event_log import LogRecord
from vigil.testing import run

T0 = 1_790_000_000.0


def _reading(
    seq: int, time: float, device: str, metric: str, value: float | str | bool, unit: str | None
) -> Reading:
    return Reading(
        tenant="t",
        device=device,
        entity="home",
        seq=seq,
        time=time,
        metric=metric,
        value=value,
        unit=unit,
    )


def _log(readings: Sequence[Reading]) -> list[LogRecord]:
    return [LogRecord(i, r.time, r) for i, r in enumerate(readings, start=1)]  # type: ignore[arg-type]


def _latest(readings: Sequence[Reading]) -> dict[tuple[str, str], tuple[object, ...]]:
    """The last ``LatestValue`` row written per (device, metric), as a projection
    that upserts them would hold it."""
    rows: dict[tuple[str, str], tuple[object, ...]] = {}
    for emitted in run(LastValueTracker(), _log(readings)):
        row = emitted.output
        if isinstance(row, LatestValue):
            rows[(row.device, row.metric)] = (row.value, row.text, row.time, row.unit)
    return rows


def test_latest_value_per_device_and_metric() -> None:
    """Each device/metric pair has its own newest value; numbers go in ``value``,
    text in ``text``; booleans are stored as 0/1."""
    readings = [
        _reading(1, T0, "d1", "temperature", 20.5, "°C"),
        _reading(2, T0 + 1, "d2", "temperature", 18.0, "°C"),
        _reading(3, T0 + 2, "d1", "humidity", 40.0, "%"),
        _reading(4, T0 + 3, "d1", "temperature", 21.0, "°C"),
        _reading(5, T0 + 4, "d2", "door", True, None),
        _reading(6, T0 + 5, "d2", "mode", "eco", None),
    ]
    assert _latest(readings) == {
        ("d1", "temperature"): (21.0, None, T0 + 3, "°C"),
        ("d2", "temperature"): (18.0, None, T0 + 1, "°C"),
        ("d1", "humidity"): (40.0, None, T0 + 2, "%"),
        ("d2", "door"): (1.0, None, T0 + 4, None),
        ("d2", "mode"): (None, "eco", T0 + 5, None),
    }


def test_a_late_reading_does_not_replace_a_newer_value() -> None:
    """A reading older than the sensor's latest is counted, but writes no latest
    row (and so is not published live): the newer value stays."""
    readings = [
        _reading(1, T0 + 100, "d1", "temperature", 21.0, "°C"),
        _reading(2, T0 + 50, "d1", "temperature", 19.0, "°C"),  # arrives late
    ]
    emitted = run(LastValueTracker(), _log(readings))
    assert [type(e.output).__name__ for e in emitted] == ["LatestValue"]
    assert _latest(readings) == {("d1", "temperature"): (21.0, None, T0 + 100, "°C")}
    runner = KeyedRunner(LastValueTracker())
    runner.process(_log(readings))
    sensor = runner.state_of("t", "home").sensors["d1/temperature"]
    assert (sensor.value, sensor.time, sensor.count) == (21.0, T0 + 100, 2)


def test_the_unit_is_kept_when_a_reading_omits_it() -> None:
    """A reading without a unit keeps the unit an earlier reading gave; a new unit
    replaces it."""
    readings = [
        _reading(1, T0, "d1", "power", 1.5, "kW"),
        _reading(2, T0 + 10, "d1", "power", 1.6, None),
    ]
    assert _latest(readings) == {("d1", "power"): (1.6, None, T0 + 10, "kW")}
    readings.append(_reading(3, T0 + 20, "d1", "power", 1700.0, "W"))
    assert _latest(readings) == {("d1", "power"): (1700.0, None, T0 + 20, "W")}


def test_the_live_update_carries_the_reading() -> None:
    """Every reading's latest-value row is what pages receive live: device, metric,
    value and unit, as a ``reading`` that is not a finding."""
    [row] = [
        e.output
        for e in run(LastValueTracker(), _log([_reading(1, T0, "d1", "co2", 612.0, "ppm")]))
    ]
    assert isinstance(row, LatestValue)
    assert (row.kind, row.entity, row.time, row.durable) == ("reading", "home", T0, False)
    assert row.data == {"device": "d1", "metric": "co2", "value": 612.0, "unit": "ppm"}
