"""The region as a whole: determinism, ordering, numbering, schema and catalog consistency."""

from __future__ import annotations

import doctest
import importlib
import itertools
import re

import pytest

import vigil.sim
from vigil.catalog import Catalog
from vigil.events import Batch, Event, decode_batch_json, encode_json
from vigil.sim import FaultConfig, Region, RegionConfig

HOUR = 3600.0
IDENTIFIER = re.compile(r"^[A-Za-z0-9_.:\-]+$")
SMALL = RegionConfig(seed=3, homes_per_council=3, lines=1, machines_per_line=3, cells=2)


def run(config: RegionConfig, hours: float) -> list[Event]:
    region = Region(config)
    return list(region.events(config.start + hours * HOUR))


@pytest.fixture(scope="module")
def day() -> tuple[Catalog, list[Event]]:
    region = Region(SMALL)
    return region.catalog(), list(region.events(SMALL.start + 26 * HOUR))


def test_public_api_is_explicit_and_sorted() -> None:
    """``__all__`` is sorted and names exactly what the package exports."""
    assert vigil.sim.__all__ == sorted(vigil.sim.__all__)
    for name in vigil.sim.__all__:
        assert hasattr(vigil.sim, name)


@pytest.mark.parametrize(
    "module", ["vigil.sim", "vigil.sim.region", "vigil.sim.weather", "vigil.sim.common"]
)
def test_doctests(module: str) -> None:
    """The examples in the docstrings run and give what they show."""
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0


def test_same_seed_gives_identical_events() -> None:
    """Two regions built from the same config produce exactly the same stream."""
    assert run(SMALL, 6) == run(SMALL, 6)


def test_different_seed_gives_different_events() -> None:
    """Changing only the seed changes the stream."""
    other = RegionConfig(seed=4, homes_per_council=3, lines=1, machines_per_line=3, cells=2)
    assert run(SMALL, 6) != run(other, 6)


def test_adding_a_home_leaves_other_homes_alone() -> None:
    """Each home has its own generator: a bigger region does not change existing homes."""
    bigger = RegionConfig(seed=3, homes_per_council=4, lines=1, machines_per_line=3, cells=2)
    home = "north-council.home-02"

    def of_home(events: list[Event]) -> list[Event]:
        return [e for e in events if e.entity == home]

    assert of_home(run(SMALL, 12)) == of_home(run(bigger, 12))
    south = [e for e in Region(SMALL).catalog().entities if e.tenant == "south-council"]
    assert south == [e for e in Region(bigger).catalog().entities if e.id in {s.id for s in south}]


def test_events_are_time_ordered_and_within_range(day: tuple[Catalog, list[Event]]) -> None:
    """The merged stream never goes back in time and stays within [start, until)."""
    _, events = day
    times = [e.timestamp for e in events]
    assert times == sorted(times)
    assert times[0] >= SMALL.start
    assert times[-1] < SMALL.start + 26 * HOUR


def test_seq_starts_at_one_and_increments_by_one(day: tuple[Catalog, list[Event]]) -> None:
    """Per device, ``seq`` is 1, 2, 3, ... in stream order."""
    _, events = day
    last: dict[str, int] = {}
    for event in events:
        assert event.seq == last.get(event.device, 0) + 1, event
        last[event.device] = event.seq


def test_events_refer_to_catalog(day: tuple[Catalog, list[Event]]) -> None:
    """Every event's tenant, device and entity is in the catalog, and the device is the entity's."""
    catalog, events = day
    tenants = {t.id for t in catalog.tenants}
    entities = {e.id: e for e in catalog.entities}
    devices = {d.id: d for d in catalog.devices}
    for event in events:
        device = devices[event.device]
        assert event.tenant in tenants
        assert device.entity == event.entity
        assert device.tenant == event.tenant == entities[event.entity].tenant
        if hasattr(event, "metric"):
            assert event.metric in device.metrics, event


def test_every_device_reports(day: tuple[Catalog, list[Event]]) -> None:
    """No catalog device is silent for a whole day."""
    catalog, events = day
    assert {d.id for d in catalog.devices} == {e.device for e in events}


def test_catalog_ids_are_valid_and_unique(day: tuple[Catalog, list[Event]]) -> None:
    """Ids match the wire Identifier pattern and are unique across the region."""
    catalog, _ = day
    ids = [e.id for e in catalog.entities] + [d.id for d in catalog.devices]
    assert len(ids) == len(set(ids))
    assert all(IDENTIFIER.match(i) for i in ids)
    for entity in catalog.entities:
        assert entity.parent is None or entity.parent in {e.id for e in catalog.entities}


def test_catalog_shape() -> None:
    """Default config: two councils of 16 homes, a plant of 2 lines x 6 machines and 3 cells."""
    catalog = Region(RegionConfig(seed=1)).catalog()
    kinds = {t.id: t.kind for t in catalog.tenants}
    assert kinds == {"north-council": "council", "south-council": "council", "plant": "plant"}
    count = {
        k: sum(e.kind == k for e in catalog.entities) for k in ("home", "line", "machine", "cell")
    }
    assert count == {"home": 32, "line": 2, "machine": 12, "cell": 3}
    residents = [e.attributes["resident"] for e in catalog.entities if e.kind == "home"]
    assert len(set(residents)) == 32
    assert all(re.fullmatch(r"R-\d{4}", r) for r in residents)


def test_events_validate_against_the_schema(day: tuple[Catalog, list[Event]]) -> None:
    """A JSON batch of the stream decodes with the wire schema back to the same events."""
    _, events = day
    decoded = decode_batch_json(encode_json(Batch(events=events)))
    assert decoded.events == events


def test_heartbeats_are_kept_without_faults() -> None:
    """With faults off, no device stays silent longer than its catalog heartbeat."""
    config = RegionConfig(
        seed=5,
        homes_per_council=2,
        lines=1,
        machines_per_line=2,
        cells=1,
        faults=FaultConfig(low_battery=0, offline=0, stuck=0),
    )
    region = Region(config)
    heartbeat = {d.id: d.heartbeat for d in region.catalog().devices}
    last = dict.fromkeys(heartbeat, config.start)
    for event in region.events(config.start + 48 * HOUR):
        assert event.timestamp - last[event.device] <= heartbeat[event.device], event
        last[event.device] = event.timestamp


def test_continuing_gives_the_same_stream() -> None:
    """events(t1) then events(t2) equals events(t2) alone, even when the first is left mid-way."""
    whole = run(SMALL, 8)
    region = Region(SMALL)
    first = list(region.events(SMALL.start + 3 * HOUR))
    partial = list(itertools.islice(region.events(SMALL.start + 5 * HOUR), 1001))
    rest = list(region.events(SMALL.start + 8 * HOUR))
    assert first + partial + rest == whole
    assert region.until == SMALL.start + 8 * HOUR
