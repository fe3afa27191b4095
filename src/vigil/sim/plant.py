"""A plant's production lines: machines that cycle, stop, wear out and break down.

Each machine runs its own seeded state machine: idle off shift, a setup at the
start of the working day, then running with random stops (jams, material
shortages, tool changes) and, now and then, a breakdown announced hours ahead
by rising vibration and temperature (``Machine.wear``, the hook richer failure
models will replace). Every ``PERIOD`` seconds the PLC reports its cumulative
counters, the condition sensor its temperature and vibration, and the machine's
5G modem its link figures on its serving cell (latency, jitter, packet loss, RSRP,
RSRQ, SINR, throughput).

When its cell's radio is bad enough, the modem loses its link (silent until the
spell ends) and a running machine stops a few seconds later: the safety PLC
trips without a reason code, and an operator restarts it a minute or three after
the link is back. ``Machine.stops`` keeps the ground truth of every unplanned
stop: who caused it, the network or the machine (a quarter of everyday stops are
entered with no reason, as on a real shop floor).
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
UNREASONED = 0.25
"""Share of everyday stops (jams, material, tools) the operator leaves without a reason."""
NETWORK = "network"
"""The cause in ``Machine.stops`` of a stop the lost link caused."""
MODEM_METRICS = (
    "latency_ms",
    "jitter_ms",
    "packet_loss_pct",
    "rsrp_dbm",
    "rsrq_db",
    "sinr_db",
    "throughput_mbps",
)
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
                "link_class": "motion",
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
        self.modem = self._device("modem", "modem", MODEM_METRICS)
        self.loss_severity = 0.55 + 0.3 * (self.rsrp + 95.0) / 17.0
        """The cell's severity at which this modem loses its link: weaker signal, sooner."""
        self.stops: list[tuple[float, float, str]] = []
        """Ground truth: (start, end, cause) of every unplanned stop; cause ``network``
        or the machine's own reason."""
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
                if due <= t and not (sensor is self.modem and self.link_lost(t)):
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
        if self.state == "running" and cause == NETWORK:
            outage = self.cell.next_outage(t, self.loss_severity)
            back = (outage[1] if outage else t) + rng.uniform(5, 20)  # the modem re-attaches
            end = back + rng.uniform(1, 3) * MINUTE  # then someone restarts the machine
            self.state = "down"
            self.stops.append((t, end, NETWORK))
            return [plc.reading("state", "down")], end, "end"
        if self.state == "running" and cause in ("stop", "breakdown"):
            if cause == "breakdown":
                reason, length = "breakdown", rng.uniform(*BREAKDOWN_MINUTES) * MINUTE
                self._schedule_breakdown(t + length)
            else:
                weights = [rate for _, rate, _, _ in STOPS]
                reason, _, shortest, longest = rng.choices(STOPS, weights)[0]
                length = rng.uniform(shortest, longest) * MINUTE
            self.state = "down"
            self.stops.append((t, t + length, reason))
            items = [plc.reading("state", "down")]
            if cause == "breakdown" or rng.random() >= UNREASONED:
                items.append(plc.reading("downtime_reason", reason))
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
        outage = self.cell.next_outage(t, self.loss_severity)
        if outage is not None:  # the safety PLC trips a few seconds after the link goes
            candidates.append((outage[0] + rng.uniform(1, 5), NETWORK))
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
        plc, condition = self.plc, self.condition
        items = [
            plc.reading("cycle_count", float(self.cycles)),
            plc.reading("good_count", float(self.good)),
            plc.reading("reject_count", float(self.rejects)),
            condition.reading("temperature", temperature, "degC"),
            condition.reading("vibration", vibration, "mm/s"),
        ]
        if not self.link_lost(t):
            items += self._radio(t)
        return items

    def link_lost(self, time: float) -> bool:
        return self.cell.link_lost(time, self.loss_severity)

    def _radio(self, t: float) -> list[Item]:
        """What the modem reports of its link (nothing while the link is lost)."""
        rng, cell, modem = self.rng, self.cell, self.modem
        latency, rsrp = cell.link(t, rng, self.rsrp)
        self._last_rsrp = rsrp
        severity = cell.severity(t)
        jitter = round(abs(rng.gauss(1.0 + 20.0 * severity, 0.3 + 5.0 * severity)), 2)
        loss = round(max(0.0, rng.gauss(0.002 + 8.0 * severity, 0.001 + 2.0 * severity)), 3)
        rsrq = round(-10.0 - 8.0 * severity + rng.gauss(0.0, 0.7), 1)
        sinr = cell.sinr(t, rng, (self.rsrp + 86.0) / 2.0)
        throughput = round(max(0.0, rng.uniform(4.0, 12.0) * (1.0 - 0.8 * severity)), 2)
        return [
            modem.reading("latency_ms", latency, "ms"),
            modem.reading("jitter_ms", jitter, "ms"),
            modem.reading("packet_loss_pct", loss, "%"),
            modem.reading("rsrp_dbm", rsrp, "dBm"),
            modem.reading("rsrq_db", rsrq, "dB"),
            modem.reading("sinr_db", sinr, "dB"),
            modem.reading("throughput_mbps", throughput, "Mbps"),
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
