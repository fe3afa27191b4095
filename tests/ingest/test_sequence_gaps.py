"""Sequence gaps per device are counted and visible (issue 7, item 5): a gap is
allowed, but it must be seen."""

from __future__ import annotations

from tests.conftest import batch_json, reading
from vigil.platform import Platform

DEVICE = "north.home-1.temperature"


async def test_gaps_are_counted_per_device(platform: Platform) -> None:
    """Sequences 1, 2, 5, 9: two gaps, five numbers missing; contiguous devices show none."""
    ingestor = platform.ingestor
    for seq in (1, 2, 5, 9):
        await ingestor.ingest(batch_json(reading(seq=seq)), tenant="north", transport="test")
    other = "north.home-1.kitchen-motion"
    for seq in (1, 2, 3):
        body = batch_json(reading(other, seq=seq, metric="motion", value=1))
        await ingestor.ingest(body, tenant="north", transport="test")
    assert ingestor.counters.sequence_gaps("north") == {DEVICE: {"gaps": 2, "missing": 5}}
    assert ingestor.counters.sequence_gaps("south") == {}


async def test_rejected_events_make_no_gap(platform: Platform) -> None:
    """A duplicate or out-of-order event is not a gap."""
    ingestor = platform.ingestor
    for seq in (1, 2, 2, 1, 3):
        await ingestor.ingest(batch_json(reading(seq=seq)), tenant="north", transport="test")
    assert ingestor.counters.sequence_gaps("north") == {}
