"""Both ADL readers, checked against the raw files and the wire schema's promises."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from vigil.catalog import Catalog
from vigil.datasets import DIRECTORIES, KIND_METRICS, RecordedHome
from vigil.events import Batch, Reading, decode_batch_json, encode_json

from .conftest import LABEL_FILES, SENSE_FILES, TENANT, count_data_lines

DAYS = {"kasteren": 28, "ordonez": 14}
ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:\-]+$")


def _dates(times: list[float]) -> int:
    first, last = (datetime.fromtimestamp(t, UTC).date() for t in (min(times), max(times)))
    return (last - first).days + 1


def test_two_readings_per_interval(home: RecordedHome, name: str, adl_root: Path) -> None:
    """Every data line of the sensor file becomes exactly one start and one end reading."""
    lines = count_data_lines(adl_root / DIRECTORIES[name] / SENSE_FILES[name])
    assert lines > 0
    assert len(home.events) == 2 * lines
    assert sum(e.value == 1.0 for e in home.events) == lines


def test_span_in_days(home: RecordedHome, name: str) -> None:
    """The recording covers the documented number of days (28 Kasteren, 14 Ordonez)."""
    times = [e.timestamp for e in home.events]
    assert round((max(times) - min(times)) / 86_400) == DAYS[name]
    assert _dates([t for a in home.activities for t in (a.start, a.end)]) == DAYS[name]


def test_events_sorted_by_time(home: RecordedHome) -> None:
    """Events come in time order, as a replay sends them."""
    times = [e.timestamp for e in home.events]
    assert times == sorted(times)


def test_seq_counts_from_one_per_device(home: RecordedHome) -> None:
    """Each device's seq runs 1, 2, 3... with no gap, as ingest expects."""
    seqs: dict[str, list[int]] = defaultdict(list)
    for event in home.events:
        seqs[event.device].append(event.seq)
    assert seqs
    for values in seqs.values():
        assert values == list(range(1, len(values) + 1))


def test_each_device_alternates_on_off(home: RecordedHome) -> None:
    """Per device readings go 1, 0, 1, 0...: ties (back-to-back, zero-length) keep state right."""
    values: dict[str, list[float]] = defaultdict(list)
    for event in home.events:
        assert isinstance(event, Reading)
        values[event.device].append(float(event.value))
    for series in values.values():
        assert series == [1.0, 0.0] * (len(series) // 2)


def test_devices_in_catalog_and_entity(home: RecordedHome) -> None:
    """Every event names a catalogued device of the home's one entity, with that device's metric."""
    devices = {d.id: d for d in home.catalog.devices}
    entity = home.entity
    for event in home.events:
        assert isinstance(event, Reading)
        device = devices[event.device]
        assert event.entity == entity.id == device.entity
        assert event.tenant == TENANT == device.tenant
        assert event.metric in device.metrics
        assert event.metric == KIND_METRICS[device.kind]
    assert {e.device for e in home.events} == set(devices)


def test_catalog_shape_and_identifiers(home: RecordedHome) -> None:
    """One council tenant, one home, devices with rooms and ids that pass the wire pattern."""
    catalog = home.catalog
    assert [(t.id, t.kind) for t in catalog.tenants] == [(TENANT, "council")]
    assert [e.kind for e in catalog.entities] == ["home"]
    assert all(ID_PATTERN.match(d.id) and d.location for d in catalog.devices)
    assert all(d.id.startswith(f"{home.entity.id}.") for d in catalog.devices)
    assert msgspec.convert(msgspec.to_builtins(catalog), Catalog) == catalog


def test_events_survive_the_wire(home: RecordedHome) -> None:
    """The events encode and decode as a schema-valid batch unchanged."""
    batch = Batch(events=home.events)
    assert decode_batch_json(encode_json(batch)) == batch


def test_activities_match_label_file(home: RecordedHome, name: str, adl_root: Path) -> None:
    """One activity per label line, sorted by start, never ending before it starts."""
    lines = count_data_lines(adl_root / DIRECTORIES[name] / LABEL_FILES[name])
    assert len(home.activities) == lines
    starts = [a.start for a in home.activities]
    assert starts == sorted(starts)
    assert all(a.label and a.end >= a.start for a in home.activities)


@pytest.mark.parametrize("shift_to", [1_764_000_000.0, 1_764_123_456.789])
def test_shift_to_puts_last_event_there(home: RecordedHome, shift_to: float) -> None:
    """shift_to moves everything by one constant so the last event lands exactly on it."""
    moved = home.shifted(shift_to)
    assert moved.events[-1].timestamp == shift_to
    delta = shift_to - home.events[-1].timestamp
    for before, after in zip(home.events, moved.events, strict=True):
        assert after.timestamp - before.timestamp == pytest.approx(delta, abs=1e-6)
        assert (after.device, after.seq) == (before.device, before.seq)
    for before, after in zip(home.activities, moved.activities, strict=True):
        assert after.start - before.start == pytest.approx(delta, abs=1e-6)


def test_keep_time_of_day(home: RecordedHome) -> None:
    """keep_time_of_day shifts by whole days: last event at or within a day before shift_to."""
    shift_to = 1_764_123_456.0
    moved = home.shifted(shift_to, keep_time_of_day=True)
    last = moved.events[-1].timestamp
    assert shift_to - 86_400 < last <= shift_to
    for before, after in zip(home.events, moved.events, strict=True):
        assert after.timestamp % 86_400 == before.timestamp % 86_400
    for before, after in zip(home.activities, moved.activities, strict=True):
        assert after.start % 86_400 == before.start % 86_400
