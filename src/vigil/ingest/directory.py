"""In-memory view of the registry and of each device's sequence, for the hot path."""

from __future__ import annotations

from collections.abc import Iterable

from vigil.store.registry import DeviceRef


class DeviceDirectory:
    """Known devices by (tenant, device). Rebuilt when the registry changes."""

    def __init__(self, refs: Iterable[DeviceRef] = ()) -> None:
        self._refs: dict[tuple[str, str], DeviceRef] = {}
        self.replace(refs)

    def replace(self, refs: Iterable[DeviceRef]) -> None:
        self._refs = {(ref.tenant, ref.device): ref for ref in refs}
        self._tenants = {tenant for tenant, _ in self._refs}

    def has_tenant(self, tenant: str) -> bool:
        """Whether ``tenant`` has a registered device (transports that name tenants by topic)."""
        return tenant in self._tenants

    def get(self, tenant: str, device: str) -> DeviceRef | None:
        return self._refs.get((tenant, device))

    def __len__(self) -> int:
        return len(self._refs)


class SequenceTracker:
    """Highest sequence accepted per device, including writes still in flight.

    Claims are taken before the write and given back if it fails, so two
    requests racing with the same sequence cannot both be accepted.
    """

    def __init__(self, known: Iterable[tuple[str, str, int]] = ()) -> None:
        self._last: dict[tuple[str, str], int] = {(t, d): s for t, d, s in known}

    def last(self, tenant: str, device: str) -> int | None:
        return self._last.get((tenant, device))

    def claim(self, tenant: str, device: str, seq: int) -> None:
        self._last[(tenant, device)] = seq

    def release(self, claims: Iterable[tuple[str, str, int, int | None]]) -> None:
        """Undo claims ``(tenant, device, claimed, previous)`` whose write failed."""
        for tenant, device, claimed, previous in reversed(list(claims)):
            if self._last.get((tenant, device)) == claimed:
                if previous is None:
                    del self._last[(tenant, device)]
                else:
                    self._last[(tenant, device)] = previous
