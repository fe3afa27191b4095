"""Per line: OEE and state rolled up from its machines' ``machine_oee`` events.

Chained after ``MachineOEE``: each machine's derived event carries its shift's
sums (planned busy time, production time, ideal time of what it made, produced
and good parts), so the line's figures are ratios of sums over its machines,
ISO 22400-2's way of aggregating: availability = sum APT / sum PBT, and so on.
A machine whose latest event is from an earlier shift no longer counts.
"""

from __future__ import annotations

import random
from typing import Any

import msgspec

from vigil.engine.operator import Emission, KeyedOperator, LatePolicy
from vigil.engine.projection_rows import LatestValue
from vigil.events import Derived, LogEvent
from vigil.factory.machine import DEVICE
from vigil.factory.oee import oee_figures

START = 1_780_000_000.0


class MachineShare(msgspec.Struct, array_like=True, gc=False):
    state: str = "unknown"
    shift_start: float | None = None
    planned_busy: float = 0.0
    production: float = 0.0
    ideal: float | None = None
    produced: float = 0.0
    good: float = 0.0


class LineState(msgspec.Struct, gc=False):
    tenant: str = ""
    entity: str = ""
    machines: dict[str, MachineShare] = {}


def _number(data: dict[str, Any], name: str) -> float:
    value = data.get(name)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


class LineOEE(KeyedOperator[LineState]):
    """A line's OEE for the current shift and how many of its machines run.

    >>> op = LineOEE()
    >>> event = Derived(tenant="t", time=100.0, entity="m1", kind="machine_oee",
    ...                 data={"line": "l1", "state": "running", "on_shift": True,
    ...                       "shift_start": 0.0, "planned_busy": 100.0, "production": 80.0,
    ...                       "ideal": 72.0, "produced": 10, "good": 9})
    >>> state, rows = op.process(op.initial_state("l1"), event)
    >>> {row.metric: row.value for row in rows if row.value is not None}
    {'oee': 64.8, 'availability': 80.0, 'performance': 90.0, 'quality': 90.0, 'running': 1.0}
    """

    name = "line_oee"
    State = LineState
    late_policy = LatePolicy.PROCESS

    @classmethod
    def sample_inputs(cls, seed: int = 0) -> list[Derived]:
        """What it consumes, for the contract suite: ``sample_events`` holds no
        ``machine_oee`` events (two tenants, two lines, three machines each, 12 h)."""
        rng = random.Random(seed)
        events = []
        for tenant in ("tenant-0", "tenant-1"):
            for line in ("line-1", "line-2"):
                for machine in range(3):
                    sums = [0.0, 0.0, 0.0, 0.0]
                    time = START + rng.uniform(0, 600)
                    while time < START + 12 * 3600:
                        step = rng.uniform(30, 900)
                        running = rng.random() < 0.8
                        sums[0] += step
                        sums[1] += step if running else 0.0
                        parts = float(int(step / 60)) if running else 0.0
                        sums[2] += parts
                        sums[3] += parts - (rng.random() < 0.1)
                        events.append(
                            Derived(
                                tenant=tenant,
                                time=round(time, 3),
                                entity=f"{tenant}.{line}.m-{machine}",
                                kind="machine_oee",
                                data={
                                    "line": f"{tenant}.{line}",
                                    "state": "running" if running else "down",
                                    "on_shift": True,
                                    "shift_start": START
                                    + 8 * 3600 * ((time - START) // (8 * 3600)),
                                    "planned_busy": sums[0],
                                    "production": sums[1],
                                    "ideal": 55.0 * sums[2],
                                    "produced": sums[2],
                                    "good": max(0.0, sums[3]),
                                },
                            )
                        )
                        time += step
        return sorted(events, key=lambda e: e.time)

    def key(self, event: LogEvent) -> str | None:
        if type(event) is Derived and event.kind == "machine_oee":
            line = event.data.get("line")
            return line if isinstance(line, str) and line else None
        return None

    def process(self, state: LineState, event: LogEvent) -> tuple[LineState, list[Emission]]:
        assert type(event) is Derived
        data = event.data
        line = data["line"]
        state.tenant, state.entity = event.tenant, line
        shift_start = data.get("shift_start")
        share = MachineShare(
            state=str(data.get("state", "unknown")),
            shift_start=float(shift_start) if isinstance(shift_start, int | float) else None,
            planned_busy=_number(data, "planned_busy"),
            production=_number(data, "production"),
            ideal=_number(data, "ideal") if data.get("ideal") is not None else None,
            produced=_number(data, "produced"),
            good=_number(data, "good"),
        )
        if state.machines.get(event.entity) == share:
            return state, []  # nothing new (a derived event seen again after a restore)
        state.machines[event.entity] = share
        return state, self._rows(state, event.timestamp)

    def _rows(self, state: LineState, time: float) -> list[Emission]:
        current = max(
            (m.shift_start for m in state.machines.values() if m.shift_start is not None),
            default=None,
        )
        counted = [
            m for m in state.machines.values() if current is not None and m.shift_start == current
        ]
        ideal = [m.ideal for m in counted]
        figures = oee_figures(
            planned_busy=sum(m.planned_busy for m in counted),
            production=sum(m.production for m in counted),
            ideal=None if not counted or None in ideal else sum(i for i in ideal if i is not None),
            produced=sum(m.produced for m in counted),
            good=sum(m.good for m in counted),
        )
        states = [m.state for m in state.machines.values()]
        running = states.count("running")
        down = sum(1 for s in states if s in ("down", "unknown"))
        summary = f"{running} of {len(states)} running" + (f", {down} down" if down else "")
        rows: list[Emission] = []

        def row(metric: str, value: float | None, text: str | None, unit: str | None) -> None:
            rows.append(
                LatestValue(
                    tenant=state.tenant,
                    entity=state.entity,
                    device=DEVICE,
                    metric=metric,
                    value=value,
                    text=text,
                    time=time,
                    unit=unit,
                )
            )

        for metric in ("oee", "availability", "performance", "quality"):
            value = figures[metric]
            row(metric, None if value is None else round(100 * value, 1), None, "%")
        row("running", float(running), None, None)
        row("state", None, summary, None)
        return rows
