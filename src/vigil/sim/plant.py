"""A plant's production lines: machines that cycle, stop, wear out and break down.

Each machine runs its own seeded state machine: idle off shift, a setup at the
start of the working day, then running with random stops (jams, material
shortages, tool changes) and, now and then, a breakdown announced hours ahead
by rising vibration and temperature (``Machine.wear``, the hook richer failure
models will replace). Every ``PERIOD`` seconds the PLC reports its cumulative
counters, the condition sensor its temperature and vibration, and the machine's
5G modem the latency and signal it sees on its serving cell.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from vigil.catalog import Device, Entity
from vigil.sim.common import DAY, HOUR, MINUTE, derive_rng, next_shift_start, on_shift, shift_end
from vigil.sim.config import RegionConfig
from vigil.sim.devices import Batch, Item, Sensor, status_phase
from vigil.sim.faults import FaultPlan, battery
from vigil.sim.network import PERIOD, Cell

STOPS: tuple[tuple[str, float, float, float], ...] = (
    ("jam", 0.5, 2.0, 8.0),
    ("no_material", 0.1, 10.0, 40.0),
    ("tool_change", 0.2, 8.0, 20.0),
)
"""(reason, rate per running hour, shortest and longest minutes) of the everyday stops."""

BREAKDOWN_MINUTES = (45.0, 240.0)
KINDS = ("press", "cnc", "moulder", "welder", "packer", "labeller")


class Machine:
    """One machine with its PLC, condition sensor and 5G modem."""

    def __init__(self, config: RegionConfig, line: Entity, position: int, cell: Cell) -> None:
        self.config = config
        self.cell = cell
        self.rng = rng = derive_rng(config.seed, "machine", line.id, position)
        self.ideal_cycle = round(rng.uniform(30.0, 90.0), 1)
        self.speed = rng.uniform(0.88, 0.97)
        self.reject_rate = rng.uniform(0.005, 0.03)
        self.vibration = rng.uniform(1.5, 3.0)
        self.running_temperature = rng.uniform(32.0, 42.0)
        self.mtbf = rng.uniform(5.0, 20.0) * DAY
        self.rsrp = round(rng.uniform(-95.0, -78.0), 0)
        self.entity = Entity(
            tenant=line.tenant,
            id=f"{line.id}.m-{position + 1:02d}",
            kind="machine",
            name=f"{line.name} machine {position + 1}",
            parent=line.id,
            attributes={
                "machine_type": KINDS[position % len(KINDS)],
                "ideal_cycle_s": self.ideal_cycle,
                "cell": cell.entity.id,
            },
        )
        cell.modems += 1
        self.devices: list[Device] = []
        self.plc = self._device(
            "plc", "plc", ("state", "downtime_reason", "cycle_count", "good_count", "reject_count")
        )
        self.condition = self._device(
            "condition",
            "condition_sensor",
            ("temperature", "vibration"),
            numeric=True,
            powered=False,
        )
        self.modem = self._device("modem", "modem", ("latency_ms", "rsrp_dbm"))
        self.sensors = [self.plc, self.condition, self.modem]

        self.state = ""
        self.cycles = self.good = self.rejects = 0
        self._progress = 0.0
        self._temperature = 21.0
        self._last_rsrp = self.rsrp
        self._breakdown_at, self._lead = 0.0, 0.0
        self._schedule_breakdown(config.start)

    def _device(
        self,
        name: str,
        kind: str,
        metrics: tuple[str, ...],
        *,
        numeric: bool = False,
        powered: bool = True,
    ) -> Sensor:
        cfg, device_id = self.config, f"{self.entity.id}.{name}"
        device = Device(
            tenant=self.entity.tenant,
            id=device_id,
            entity=self.entity.id,
            kind=kind,
            metrics=metrics,
            heartbeat=3 * PERIOD,
        )
        self.devices.append(device)
        return Sensor(
            device,
            start=cfg.start,
            faults=FaultPlan(cfg.seed, device_id, cfg.faults, stuck_capable=numeric),
            battery=None if powered else battery(cfg.seed, device_id, cfg.faults),
        )

    # -- wear ------------------------------------------------------------------------------------

    def _schedule_breakdown(self, after: float) -> None:
        self._breakdown_at = after + self.rng.expovariate(1.0 / self.mtbf)
        self._lead = self.rng.uniform(12.0, 48.0) * HOUR

    def wear(self, time: float) -> float:
        """0 for a healthy machine rising to 1 at its next breakdown: the degradation hook."""
        onset = self._breakdown_at - self._lead
        if time <= onset:
            return 0.0
        return min(1.0, (time - onset) / self._lead) ** 2

    # -- the source --------------------------------------------------------------------------

    def source(self) -> Iterator[Batch]:
        """State changes when they happen; counters, condition and radio every ``PERIOD``."""
        rng, start = self.rng, self.config.start
        first = start + round(rng.uniform(0, PERIOD), 3)
        status_every = {self.condition: 30 * MINUTE, self.modem: 5 * MINUTE}
        status_due = {s: start + status_phase(rng, every) for s, every in status_every.items()}
        last, tick = start, 0
        change, pending = start, "begin"
        while True:
            t = round(first + tick * PERIOD, 3)
            if change <= t:
                self._run(last, change)
                last = change
                items, change, pending = self._transition(change, pending)
                yield round(last, 3), items
                continue
            self._run(last, t)
            last = t
            items = self._report(t)
            for sensor, due in status_due.items():
                if due <= t:
                    signal = self._last_rsrp if sensor is self.modem else None
                    items.append(sensor.status(t, signal_dbm=signal))
                    status_due[sensor] = due + status_every[sensor]
            yield t, items
            tick += 1

    def _run(self, begin: float, end: float) -> None:
        """Count the cycles completed between two times (only while running)."""
        if self.state != "running" or end <= begin:
            return
        rng = self.rng
        self._progress += (end - begin) / self.ideal_cycle * self.speed * rng.uniform(0.95, 1.05)
        while self._progress >= 1.0:
            self._progress -= 1.0
            self.cycles += 1
            if rng.random() < self.reject_rate * (1.0 + 3.0 * self.wear(end)):
                self.rejects += 1
            else:
                self.good += 1

    def _transition(self, t: float, cause: str) -> tuple[list[Item], float, str]:
        """Enter the next state at ``t``; return its readings, when it ends and why."""
        rng, plc = self.rng, self.plc
        if self.state == "running" and cause in ("stop", "breakdown"):
            if cause == "breakdown":
                reason, length = "breakdown", rng.uniform(*BREAKDOWN_MINUTES) * MINUTE
                self._schedule_breakdown(t + length)
            else:
                weights = [rate for _, rate, _, _ in STOPS]
                reason, _, shortest, longest = rng.choices(STOPS, weights)[0]
                length = rng.uniform(shortest, longest) * MINUTE
            self.state = "down"
            items = [plc.reading("state", "down"), plc.reading("downtime_reason", reason)]
            return items, t + length, "end"
        if not on_shift(t):
            self.state = "idle"
            return [plc.reading("state", "idle")], next_shift_start(t), "start"
        if cause in ("start", "begin"):
            self.state = "setup"
            return [plc.reading("state", "setup")], t + rng.uniform(10, 20) * MINUTE, "end"
        self.state = "running"
        rate = sum(rate for _, rate, _, _ in STOPS) / HOUR
        candidates = [
            (t + rng.expovariate(rate), "stop"),
            (max(self._breakdown_at, t + rng.uniform(5, 60) * MINUTE), "breakdown"),
            (shift_end(t), "end"),
        ]
        until, cause = min(candidates)
        return [plc.reading("state", "running")], until, cause

    def _report(self, t: float) -> list[Item]:
        rng = self.rng
        wear = self.wear(t)
        if self.state == "running":
            target, shake = (
                self.running_temperature + 10.0 * wear,
                self.vibration * (1.0 + 2.5 * wear),
            )
        else:
            target = 21.0
            shake = self.vibration * (0.5 if self.state == "setup" else 0.06)
        self._temperature += (target - self._temperature) * (
            1.0 - math.exp(-PERIOD / (20 * MINUTE))
        )
        temperature = self.condition.hold_if_stuck(
            t, round(self._temperature + rng.gauss(0, 0.15), 2)
        )
        vibration = round(abs(shake * (1.0 + rng.gauss(0, 0.08))), 3)
        latency, rsrp = self.cell.link(t, rng, self.rsrp)
        self._last_rsrp = rsrp
        plc, condition, modem = self.plc, self.condition, self.modem
        return [
            plc.reading("cycle_count", float(self.cycles)),
            plc.reading("good_count", float(self.good)),
            plc.reading("reject_count", float(self.rejects)),
            condition.reading("temperature", temperature, "degC"),
            condition.reading("vibration", vibration, "mm/s"),
            modem.reading("latency_ms", latency, "ms"),
            modem.reading("rsrp_dbm", rsrp, "dBm"),
        ]


def build_plant(
    config: RegionConfig, tenant: str
) -> tuple[list[Entity], list[Cell], list[Machine]]:
    """Lines, cells and machines; machines are spread over cells in contiguous blocks."""
    lines = [
        Entity(tenant=tenant, id=f"{tenant}.line-{n + 1}", kind="line", name=f"Line {n + 1}")
        for n in range(config.lines)
    ]
    cells = [Cell(config, tenant, n) for n in range(config.cells)]
    total = config.lines * config.machines_per_line
    machines = []
    for n, line in enumerate(lines):
        for position in range(config.machines_per_line):
            index = n * config.machines_per_line + position
            machines.append(Machine(config, line, position, cells[index * len(cells) // total]))
    return lines, cells, machines
