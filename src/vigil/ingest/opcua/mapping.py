"""From OPC UA data changes to Vigil events: pure, so every rule is testable alone.

- Each configured node is one metric of one registered device of the server's tenant.
- A value's event time is its **source timestamp**, else its server timestamp, else
  the time it was received.
- Numbers become readings (times the node's ``scale``); Booleans become 1 and 0;
  anything else (text, arrays, structures) is refused as ``invalid_event``.
- A node whose status is **Bad** gives no reading and takes its device offline; once
  every node of the device is good again it is back online. Losing the server takes
  every device offline. Status events carry the receiving time, not the value's.
- A change with the same source timestamp as the node's last reading is the same
  sample sent again (a new subscription starts with each node's current value): it
  is dropped, so a reconnect never duplicates a reading.
- Vigil's ``seq`` is numbered here per device, above the highest Vigil accepted.

>>> from vigil.config import OpcUaNode
>>> node = OpcUaNode(node_id="ns=2;s=t", device="plant.m1.plc", metric="temperature", scale=0.1)
>>> numeric(215, node)
21.5
>>> event_time(None, 1_700_000_000.0, received=1_800_000_000.0)
1700000000.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from vigil.config import OpcUaNode, OpcUaServer
from vigil.events import DeviceStatus, Event, Reading
from vigil.ingest.directory import DeviceDirectory
from vigil.ingest.validation import Reason, Rejection


class Change(msgspec.Struct, frozen=True):
    """One data change as the client received it, in plain types."""

    node_id: str
    value: Any
    status: str
    """The status code's name: ``Good``, ``BadSensorFailure``, ``UncertainLastUsableValue``."""
    source_time: float | None
    server_time: float | None
    received: float
    bad: bool = False
    """The status's severity is Bad (the client decides it from the code's bits)."""


class NotNumeric(ValueError):
    """A value that is no reading: Vigil's OPC UA metrics are numbers."""


def numeric(value: Any, node: OpcUaNode) -> float:
    """The reading of ``value``, scaled; a Boolean is 1 or 0."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value) * node.scale
    raise NotNumeric(f"a value of type {type(value).__name__} is not a number")


def event_time(source: float | None, server: float | None, *, received: float) -> float:
    """When the value was true: the source's stamp, else the server's, else arrival."""
    if source is not None:
        return source
    return server if server is not None else received


def raw(change: Change) -> bytes:
    """What a dead letter keeps of a change, for a person to read."""
    return msgspec.json.encode(
        {
            "node": change.node_id,
            "value": repr(change.value)[:200],
            "status": change.status,
            "source_time": change.source_time,
            "server_time": change.server_time,
        }
    )


class NodeMap:
    """One server's nodes: each change to events and rejections, and presence per device."""

    def __init__(
        self,
        server: OpcUaServer,
        directory: DeviceDirectory,
        floor: Callable[[str, str], int | None],
    ) -> None:
        self.tenant = server.tenant
        self.nodes = {node.node_id: node for node in server.nodes}
        self.directory = directory
        self.floor = floor
        self._seq: dict[str, int] = {}
        self._last_time: dict[str, float] = {}
        self._bad: dict[str, set[str]] = {}
        self._online: dict[str, bool] = {}
        self.resent = 0
        """Changes dropped as the same sample again (counted, for tests and metrics)."""

    def _next_seq(self, device: str) -> int:
        seq = max(self._seq.get(device, 0), self.floor(self.tenant, device) or 0) + 1
        self._seq[device] = seq
        return seq

    def _status(self, device: str, entity: str, online: bool, when: float) -> DeviceStatus:
        self._online[device] = online
        return DeviceStatus(
            tenant=self.tenant,
            device=device,
            entity=entity,
            seq=self._next_seq(device),
            time=when,
            online=online,
        )

    def step(self, change: Change) -> tuple[list[Event], list[Rejection]]:
        """The events of one change (a status and/or a reading), or why it has none."""
        node = self.nodes.get(change.node_id)
        if node is None:
            detail = f"a change of node {change.node_id!r}, which is not configured"
            return [], [Rejection(index=None, reason=Reason.INTERNAL_ERROR, detail=detail)]
        ref = self.directory.get(self.tenant, node.device)
        if ref is None:
            detail = (
                f"OPC UA node {node.node_id!r} maps to device {node.device!r} of tenant "
                f"{self.tenant!r}, which is not registered"
            )
            return [], [_rejected(Reason.UNKNOWN_DEVICE, detail, node.device)]
        events: list[Event] = []
        bad = self._bad.setdefault(node.device, set())
        if change.bad:
            bad.add(node.node_id)
            if self._online.get(node.device) is not False:
                events.append(self._status(node.device, ref.entity, False, change.received))
            return events, []
        bad.discard(node.node_id)
        if not bad and self._online.get(node.device) is not True:
            events.append(self._status(node.device, ref.entity, True, change.received))
        if change.source_time is not None and change.source_time == self._last_time.get(
            node.node_id
        ):
            self.resent += 1
            return events, []
        try:
            value = numeric(change.value, node)
        except NotNumeric as err:
            detail = f"OPC UA node {node.node_id!r} ({node.device} {node.metric}): {err}"
            return events, [_rejected(Reason.INVALID_EVENT, detail, node.device)]
        if change.source_time is not None:
            self._last_time[node.node_id] = change.source_time
        when = event_time(change.source_time, change.server_time, received=change.received)
        events.append(
            Reading(
                tenant=self.tenant,
                device=node.device,
                entity=ref.entity,
                seq=self._next_seq(node.device),
                time=when,
                metric=node.metric,
                value=value,
                unit=node.unit,
            )
        )
        return events, []

    def lost(self, when: float) -> list[Event]:
        """The server is gone: every device seen online is offline, at ``when``."""
        events: list[Event] = []
        for device, online in sorted(self._online.items()):
            ref = self.directory.get(self.tenant, device)
            if online and ref is not None:
                events.append(self._status(device, ref.entity, False, when))
        self._bad.clear()
        return events

    def unmonitored(self, node_id: str, status: str) -> Rejection:
        """The server refused to monitor a configured node (unknown id, no access)."""
        node = self.nodes[node_id]
        detail = (
            f"the server refused to monitor node {node_id!r} ({status}), configured "
            f"for device {node.device!r} metric {node.metric!r}"
        )
        return _rejected(Reason.UNKNOWN_NODE, detail, node.device)


def _rejected(reason: Reason, detail: str, device: str | None) -> Rejection:
    return Rejection(index=None, reason=reason, detail=detail, device=device)
