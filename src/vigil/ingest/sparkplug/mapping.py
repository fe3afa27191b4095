"""From Sparkplug's names to Vigil's: tenant, device, and a ``seq`` of Vigil's own.

- The Sparkplug **group** is the Vigil **tenant**.
- A device ``{device}`` of edge node ``{node}`` is the Vigil device
  ``{group}.{node}.{device}``; the edge node's own metrics belong to the device
  ``{group}.{node}``. The entity is the one the registry gives that device.
- Each Vigil device's events are numbered by a counter kept here, starting
  above the highest ``seq`` Vigil accepted for it (``floor``), so a rebirth or a
  restart never goes backwards and Vigil's own duplicate and order checks hold.

>>> vigil_device("plant", "line-1.m-01", "plc"), vigil_device("plant", "gw-1", None)
('plant.line-1.m-01.plc', 'plant.gw-1')
"""

from __future__ import annotations

from collections.abc import Callable

from vigil.events import DeviceStatus, Event, Reading
from vigil.ingest.directory import DeviceDirectory
from vigil.ingest.sparkplug.session import INVALID, Presence, Problem, Sample

MAX_METRIC = 64
"""Vigil's longest metric name (``vigil.events.Metric``)."""


def vigil_device(group: str, node: str, device: str | None) -> str:
    return f"{group}.{node}" if device is None else f"{group}.{node}.{device}"


class EventMapper:
    """Turns samples and presence into Vigil events, numbering each device's events."""

    def __init__(self, directory: DeviceDirectory, floor: Callable[[str, str], int | None]) -> None:
        self.directory = directory
        self.floor = floor
        self._last: dict[tuple[str, str], int] = {}

    def _seq(self, tenant: str, device: str) -> int:
        key = (tenant, device)
        seq = max(self._last.get(key, 0), self.floor(tenant, device) or 0) + 1
        self._last[key] = seq
        return seq

    def events(
        self, group: str, node: str, samples: list[Sample], presence: list[Presence]
    ) -> tuple[list[Event], list[Problem]]:
        """Events for the registered devices; a problem for each unknown device or bad name.

        A node with no Vigil device of its own only loses its presence (a gateway
        need not be registered); its metrics, if any, are ``unknown_device``."""
        events: list[Event] = []
        problems: list[Problem] = []
        unknown: dict[str, str] = {}
        for item in presence:
            device = vigil_device(group, node, item.device)
            ref = self.directory.get(group, device)
            if ref is None:
                if item.device is not None:
                    unknown[device] = "device"
                continue
            events.append(
                DeviceStatus(
                    tenant=group,
                    device=device,
                    entity=ref.entity,
                    seq=self._seq(group, device),
                    time=item.time,
                    online=item.online,
                )
            )
        for sample in samples:
            device = vigil_device(group, node, sample.device)
            ref = self.directory.get(group, device)
            if ref is None:
                unknown[device] = "node" if sample.device is None else "device"
                continue
            if len(sample.metric) > MAX_METRIC:
                detail = f"metric name longer than {MAX_METRIC} characters: {sample.metric!r}"
                problems.append(Problem(INVALID, detail, device))
                continue
            events.append(
                Reading(
                    tenant=group,
                    device=device,
                    entity=ref.entity,
                    seq=self._seq(group, device),
                    time=sample.time,
                    metric=sample.metric,
                    value=sample.value,
                )
            )
        for device, what in sorted(unknown.items()):
            detail = (
                f"Sparkplug {what} maps to Vigil "
                f"device {device!r} of tenant {group!r}, which is not registered"
            )
            problems.append(Problem("unknown_device", detail, device))
        return events, problems
