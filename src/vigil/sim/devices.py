"""Simulated devices: identity, sequence numbers, battery, and the faults they carry.

Sources (homes, machines, cells) do not build events themselves: they describe
them as small tuples (``Item``) and the region turns those into ``events``
structs in one place, where the per-device ``seq`` is assigned in output order
and offline devices are silenced. That keeps ``seq`` right however many sources
drive one device, and keeps fault handling out of every model.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Any

from vigil.catalog import Device
from vigil.sim.common import DAY
from vigil.sim.faults import FaultPlan

READING = 0
STATUS = 1
ALARM = 2

Item = tuple["Sensor", int, Any, Any, Any]
"""``(sensor, kind, a, b, c)``: reading (metric, value, unit), status (battery,
signal_dbm, online) or alarm (alarm, severity, detail)."""

Batch = tuple[float, list[Item]]
"""Items that share one event time. Sources yield batches in non-decreasing time."""

Source = Iterator[Batch]


def status_phase(rng: random.Random, interval: float) -> float:
    """A per-device offset so heartbeats of many devices do not fire together."""
    return round(rng.uniform(0.0, interval), 3)


class Sensor:
    """The running side of one catalog ``Device``.

    ``off_from``/``off_to`` cache the current or next offline window; the region
    advances them as its output time moves forward (which it only ever does).
    """

    __slots__ = (
        "battery0",
        "device",
        "drain",
        "entity",
        "faults",
        "id",
        "off_from",
        "off_to",
        "seq",
        "start",
        "stuck_key",
        "stuck_value",
        "tenant",
    )

    def __init__(
        self,
        device: Device,
        *,
        start: float,
        faults: FaultPlan | None = None,
        battery: tuple[float, float] | None = None,
    ) -> None:
        self.device = device
        self.tenant = device.tenant
        self.id = device.id
        self.entity = device.entity
        self.seq = 0
        self.faults = faults
        self.off_from = math.inf if faults is None or not faults.can_go_offline else -math.inf
        self.off_to = -math.inf
        self.start = start
        self.battery0, self.drain = battery if battery is not None else (math.nan, 0.0)
        self.stuck_key: tuple[float, float] | None = None
        self.stuck_value: float = 0.0

    def __repr__(self) -> str:
        return f"Sensor({self.id!r}, seq={self.seq})"

    # -- items ---------------------------------------------------------------------------

    def reading(self, metric: str, value: float | str | bool, unit: str | None = None) -> Item:
        return (self, READING, metric, value, unit)

    def status(
        self, time: float, *, signal_dbm: float | None = None, online: bool | None = None
    ) -> Item:
        return (self, STATUS, self.battery_at(time), signal_dbm, online)

    def alarm(self, alarm: str, severity: str = "critical", detail: str | None = None) -> Item:
        return (self, ALARM, alarm, severity, detail)

    # -- state -----------------------------------------------------------------------------

    def battery_at(self, time: float) -> float | None:
        """Whole-percent battery, draining linearly; ``None`` for mains-powered devices."""
        if self.battery0 != self.battery0:  # NaN: no battery
            return None
        level = self.battery0 - self.drain * (time - self.start) / DAY
        return float(max(0, round(level)))

    def hold_if_stuck(self, time: float, value: float) -> float:
        """The value a numeric sensor reports: frozen at its first value while stuck."""
        if self.faults is None:
            return value
        window = self.faults.stuck_window(time)
        if window is None:
            return value
        if window != self.stuck_key:
            self.stuck_key = window
            self.stuck_value = value
        return self.stuck_value

    def advance_offline(self, time: float) -> None:
        """Move the cached offline window to the one containing or following ``time``."""
        assert self.faults is not None
        self.off_from, self.off_to = self.faults.offline_after(time)
