"""Devices registered by another process are accepted without restarting the server."""

from __future__ import annotations

from tests.conftest import batch_json, reading
from vigil.catalog import Catalog, Device
from vigil.platform import Platform
from vigil.store.registry import RegistryRepository


async def test_device_registered_elsewhere_is_accepted(platform: Platform) -> None:
    """After the refresh interval, a device added to the store by someone else is known."""
    platform.ingestor.registry_refresh_seconds = 0.0
    newcomer = Device(
        tenant="north", id="north.home-1.new-sensor", entity="north.home-1", kind="motion"
    )
    RegistryRepository(platform.engine).apply(Catalog(devices=(newcomer,)))
    event = reading(newcomer.id, 1, metric="motion", value=1.0)
    result = await platform.ingestor.ingest(batch_json(event), tenant="north", transport="t")
    assert (result.accepted, result.rejected) == (1, [])


async def test_unknown_device_still_rejected_after_refresh(platform: Platform) -> None:
    """A refresh does not make an unregistered device acceptable."""
    platform.ingestor.registry_refresh_seconds = 0.0
    event = reading("north.home-1.nobody", 1)
    result = await platform.ingestor.ingest(batch_json(event), tenant="north", transport="t")
    assert result.rejected[0].reason == "unknown_device"
