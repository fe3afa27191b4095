"""Dead letters are bounded per tenant and source, and by age; the counts by reason
still cover everything ever rejected (issue 7, item 7)."""

from __future__ import annotations

import asyncio

from tests.conftest import batch_json, reading
from vigil.errors import MalformedPayload
from vigil.platform import Platform
from vigil.store.dead_letters import PruneDeadLetters


def prune(platform: Platform, **limits: float) -> int:
    settings = {"max_per_source": 10_000, "max_per_tenant": 100_000, "max_age_seconds": 1e9}
    job = PruneDeadLetters(**{**settings, **limits}, now=platform.clock())  # type: ignore[arg-type]
    return platform.writer.submit(job).result(10)


async def reject(platform: Platform, source: str, count: int, tenant: str = "north") -> None:
    device = f"{tenant}.home-1.ghost"
    body = batch_json(*(reading(device, seq=i) for i in range(1, count + 1)))
    await platform.ingestor.ingest(body, tenant=tenant, transport="test", source=source)


async def test_cap_per_source_keeps_the_newest_and_the_counts(platform: Platform) -> None:
    """Beyond the cap of a source its oldest dead letters go; other sources keep theirs,
    and the counts by reason still add up to every rejection."""
    await reject(platform, "gw-1", 12)
    await reject(platform, "gw-2", 3)
    await asyncio.to_thread(prune, platform, max_per_source=5)
    assert platform.dead_letters.stored("north") == 5 + 3
    assert platform.dead_letters.counts("north") == {"unknown_device": 15}
    newest = [d.detail for d in platform.dead_letters.recent("north") if d.source == "gw-1"]
    assert len(newest) == 5


async def test_cap_per_tenant(platform: Platform) -> None:
    """Many sources together are held to the tenant's cap; another tenant is untouched."""
    for source in ("a", "b", "c"):
        await reject(platform, source, 4)
    await reject(platform, "s", 2, tenant="south")
    await asyncio.to_thread(prune, platform, max_per_tenant=6)
    assert platform.dead_letters.stored("north") == 6
    assert platform.dead_letters.stored("south") == 2
    assert platform.dead_letters.counts("north") == {"unknown_device": 12}


async def test_retention_by_age_counts_unattributed_too(platform: Platform) -> None:
    """Dead letters older than the retention go, unattributed ones included, and are
    still counted."""
    await reject(platform, "gw-1", 2)
    await platform.ingestor.record_rejection(
        MalformedPayload("x"), tenant=None, transport="mqtt", source="t", body=b"{not json"
    )
    await asyncio.to_thread(prune, platform, max_age_seconds=-10)
    assert platform.dead_letters.stored("north") == 0
    assert platform.dead_letters.stored(None) == 0
    assert platform.dead_letters.count_unattributed() == 1
    assert platform.dead_letters.counts("north") == {"unknown_device": 2}


async def test_ingest_applies_retention_by_itself(platform: Platform) -> None:
    """Without anyone calling prune, ingest keeps a source's dead letters near its cap."""
    platform.ingestor.settings = platform.settings.ingest.model_copy(
        update={"dead_letter_max_per_source": 50}
    )
    for _ in range(3):
        await reject(platform, "gw-1", 600)
    await asyncio.to_thread(platform.writer.submit(_Noop()).result, 10)
    assert platform.dead_letters.stored("north") <= 50 + 600
    assert platform.dead_letters.counts("north") == {"unknown_device": 1800}
    assert platform.ingestor.counters.dead_letters_removed >= 1000


class _Noop:
    """A write job that only waits for the writer's earlier jobs."""

    def write(self, connection: object) -> None:
        return None

    def committed(self, result: object) -> None:
        pass

    def rolled_back(self) -> None:
        pass
