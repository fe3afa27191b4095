"""The plant's private 5G network: cells that occasionally degrade, and what their monitors report.

A cell's degradation is a pure function of time (episodes planned per day from
the cell's own seed), so the machines' modems and the cell monitor agree on
when the network was bad without talking to each other. In the worst spells a
modem loses its link (``link_lost``): the weaker its usual signal, the sooner.
Machines whose control link is lost stop (``vigil.sim.plant``), which is the
ground truth the correlation of stops with network events is measured on.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

from vigil.catalog import Device, Entity
from vigil.sim.common import DAY, MINUTE, day_index, derive_rng, on_shift, poisson
from vigil.sim.config import RegionConfig
from vigil.sim.devices import Batch, Sensor
from vigil.sim.faults import FaultPlan

PERIOD = 10.0
"""Seconds between cell monitor reports (and machine modem reports)."""

Episode = tuple[float, float, float]
"""(start, end, severity in (0, 1]) of a spell of bad radio: interference, congestion, a fault."""


class Cell:
    """One 5G cell: its entity, its monitor device, and its spells of degradation."""

    def __init__(self, config: RegionConfig, tenant: str, index: int) -> None:
        self.config = config
        self.rng = derive_rng(config.seed, "cell", tenant, index)
        self.entity = Entity(
            tenant=tenant,
            id=f"{tenant}.cell-{index + 1}",
            kind="cell",
            name=f"5G cell {index + 1}",
            attributes={"band": "n77", "pci": 100 + index},
        )
        device_id = f"{self.entity.id}.monitor"
        self.device = Device(
            tenant=tenant,
            id=device_id,
            entity=self.entity.id,
            kind="cell_monitor",
            metrics=("connected_devices", "throughput_mbps", "prb_utilisation", "sinr_db"),
            heartbeat=3 * PERIOD,
        )
        self.sensor = Sensor(
            self.device,
            start=config.start,
            faults=FaultPlan(config.seed, device_id, config.faults, stuck_capable=False),
        )
        self.modems = 0
        self.episodes_per_day = self.rng.uniform(0.4, 1.2)
        if config.cell_episodes_per_day is not None:
            self.episodes_per_day = config.cell_episodes_per_day
        self.capacity_mbps = self.rng.uniform(400, 800)
        self._days: dict[int, list[Episode]] = {}

    def episodes(self, day: int) -> list[Episode]:
        """Degradation spells starting on ``day``, planned from the cell's per-day seed."""
        found = self._days.get(day)
        if found is None:
            rng = derive_rng(self.config.seed, "cell-episodes", self.entity.id, day)
            found = []
            for _ in range(poisson(rng, self.episodes_per_day)):
                begin = day * DAY + rng.uniform(0, DAY)
                found.append((begin, begin + rng.uniform(5, 30) * MINUTE, rng.uniform(0.3, 1.0)))
            found.sort()
            if len(self._days) > 8:
                self._days.clear()
            self._days[day] = found
        return found

    def severity(self, time: float) -> float:
        """0 when the cell is healthy, up to 1 in the worst spells."""
        day = day_index(time)
        worst = 0.0
        for episodes in (self.episodes(day - 1), self.episodes(day)):
            for begin, end, severity in episodes:
                if begin <= time < end and severity > worst:
                    worst = severity
        return worst

    def source(self) -> Iterator[Batch]:
        """Cell monitor reports every ``PERIOD`` seconds."""
        rng, sensor = self.rng, self.sensor
        first = self.config.start + round(rng.uniform(0, PERIOD), 3)
        others = 3.0
        for k in range(2**62):
            t = round(first + k * PERIOD, 3)
            busy = on_shift(t)
            severity = self.severity(t)
            target = rng.uniform(6, 12) if busy else rng.uniform(1, 4)
            others += (target - others) * 0.02
            load = rng.uniform(0.35, 0.6) if busy else rng.uniform(0.04, 0.12)
            prb = min(100.0, 100 * load + 45 * severity + rng.gauss(0, 2))
            throughput = self.capacity_mbps * load * (1 - 0.7 * severity) * rng.uniform(0.9, 1.1)
            yield (
                t,
                [
                    sensor.reading("connected_devices", float(self.modems + round(others))),
                    sensor.reading("throughput_mbps", round(max(0.0, throughput), 1), "Mbps"),
                    sensor.reading("prb_utilisation", round(max(0.0, prb), 1), "%"),
                    sensor.reading("sinr_db", self.sinr(t, rng), "dB"),
                ],
            )

    def link(self, time: float, rng: random.Random, rsrp_dbm: float) -> tuple[float, float]:
        """(latency ms, RSRP dBm) a modem sees: ~8-15 ms normally, 50-200 ms in a bad spell.

        ``rsrp_dbm`` is the modem's usual signal, set by where it sits in the cell.
        """
        severity = self.severity(time)
        jitter = rng.gauss(0.0, 1.0)
        if severity > 0:
            latency = 50 + 150 * severity * rng.uniform(0.6, 1.0)
        else:
            latency = 11.0 * math.exp(0.12 * jitter)
        return round(latency, 1), round(rsrp_dbm + rng.gauss(0.0, 1.5) - 15 * severity, 0)

    def sinr(self, time: float, rng: random.Random, offset: float = 0.0) -> float:
        """SINR (dB) at ``time``: ~20 dB in a healthy cell, near or below 0 in a bad spell."""
        return round(20.0 + offset - 24.0 * self.severity(time) + rng.gauss(0.0, 1.0), 1)

    def link_lost(self, time: float, threshold: float) -> bool:
        """Whether a modem that loses its link at ``threshold`` severity has lost it."""
        return self.severity(time) >= threshold

    def next_outage(self, after: float, threshold: float) -> tuple[float, float] | None:
        """The first spell at or above ``threshold`` still going at or after ``after``
        (within two days): when a modem of that threshold loses and regains its link."""
        day = day_index(after)
        for d in (day - 1, day, day + 1, day + 2):
            for begin, end, severity in self.episodes(d):
                if severity >= threshold and end > after:
                    return max(begin, after), end
        return None
