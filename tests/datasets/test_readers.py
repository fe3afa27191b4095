"""Reader options, the registry, data discovery and the JSON-lines format."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from vigil.datasets import (
    DIRECTORIES,
    RecordedHome,
    find_adl_root,
    load_dataset,
    read_jsonl,
    read_kasteren,
    read_ordonez,
    write_jsonl,
)
from vigil.errors import ConfigurationError, MalformedPayload
from vigil.events import Alarm, Reading


def test_readers_take_tenant_entity_and_shift(adl_root: Path) -> None:
    """The reader arguments reach the catalog and events; shift_to works from the reader too."""
    home = read_ordonez(adl_root / "ordonez_a", tenant="south", entity="flat-7", shift_to=1e9)
    assert home.catalog.tenants[0].id == "south"
    assert {e.entity for e in home.events} == {"flat-7"}
    assert home.events[-1].timestamp == 1e9
    kasteren = read_kasteren(adl_root / "kasteren_house_a" / "README.txt", tenant="south")
    assert kasteren.entity.id == "kasteren-house-a"


def test_ids_differ_between_data_sets(homes: dict[str, RecordedHome]) -> None:
    """Device ids are globally unique: no two data sets share one."""
    ids = [d.id for home in homes.values() for d in home.catalog.devices]
    assert len(ids) == len(set(ids))


def test_bad_entity_is_a_configuration_error(adl_root: Path) -> None:
    """An entity id the wire schema would reject fails at load time, naming it."""
    with pytest.raises(ConfigurationError, match="flat 7"):
        read_ordonez(adl_root / "ordonez_a", tenant="south", entity="flat 7")


def test_load_dataset_finds_standard_location(adl_root: Path) -> None:
    """load_dataset without a path finds shared/data/adl by walking up."""
    home = load_dataset("kasteren", tenant="north")
    assert home.events and home.entity.attributes["dataset"] == "kasteren"


def test_unknown_dataset_names_the_known_ones() -> None:
    """An unknown name is a configuration error listing what exists."""
    with pytest.raises(ConfigurationError, match="kasteren, ordonez"):
        load_dataset("casas", tenant="north")


def test_missing_data_names_what_was_looked_for(tmp_path: Path) -> None:
    """Without a shared/data/adl anywhere above, the error lists the paths tried."""
    with pytest.raises(ConfigurationError, match=r"shared/data/adl.*looked for"):
        find_adl_root(tmp_path)
    with pytest.raises(ConfigurationError, match=r"kasterenSenseData\.txt"):
        read_kasteren(tmp_path, tenant="north")


def test_find_adl_root_walks_up(tmp_path: Path) -> None:
    """A shared/data/adl beside any ancestor of the start is found."""
    root = tmp_path / "shared" / "data" / "adl"
    root.mkdir(parents=True)
    deep = tmp_path / "main" / "src" / "vigil"
    deep.mkdir(parents=True)
    assert find_adl_root(deep) == root.resolve()
    assert set(DIRECTORIES.values()) == {"kasteren_house_a", "ordonez_a"}


def test_jsonl_round_trip(home: RecordedHome, tmp_path: Path) -> None:
    """write_jsonl then read_jsonl gives back the same events."""
    path = tmp_path / "home.jsonl"
    assert write_jsonl(home.events, path) == len(home.events)
    assert read_jsonl(path) == home.events


def test_jsonl_keeps_any_event_type_and_sorts(tmp_path: Path) -> None:
    """Mixed event types and RFC 3339 times round-trip; reading sorts by time, skips blanks."""
    late = Alarm(tenant="t", device="d2", entity="e", seq=1, time=200.0, alarm="fall")
    early = Reading(
        tenant="t",
        device="d1",
        entity="e",
        seq=1,
        time=datetime(1970, 1, 1, 0, 1, 40, tzinfo=UTC),
        metric="motion",
        value=1.0,
    )
    path = tmp_path / "mixed.jsonl"
    write_jsonl([late, early], path)
    path.write_bytes(path.read_bytes() + b"\n  \n")
    assert read_jsonl(path) == [early, late]
    shifted = read_jsonl(path, shift_to=1000.0)
    assert [e.timestamp for e in shifted] == [900.0, 1000.0]


def test_jsonl_bad_line_names_its_number(tmp_path: Path) -> None:
    """A line that is not a valid event is rejected with file and line number."""
    path = tmp_path / "bad.jsonl"
    path.write_text('{"type": "reading"}\n')
    with pytest.raises(MalformedPayload, match=r"bad\.jsonl:1"):
        read_jsonl(path)
