"""Machine state and OEE against shifts worked out by hand (ISO 22400-2).

The crafted Monday (shifts 06:00-14:00 and 14:00-22:00), machine m1 with an ideal
cycle of 60 s:

    05:30 idle (off shift: planned)        counters 1000 / 900 good / 100 rejected
    06:00 setup       06:15 running
    08:00 down (jam)  08:01 running        a 1 min microstop (threshold 2 min)
    10:00 planned stop (a break)  10:30 running
    13:30 down (breakdown) ... 14:45 running   over the shift boundary: 30 + 45 min
    13:30 counters 1380 / 1270 / 110      15:45 counters 1440 / 1328 / 112

Shift 1: planned busy time 480 - 30 = 450 min; lost 15 min setup + 30 min breakdown,
so actual production time 405 min (the microstop stays in it); availability
405/450 = 0.9; performance 380 x 1 min / 405 min; quality 370/380; OEE =
370 x 1 min / 450 min = 0.8222.
Shift 2 at 15:45: planned busy 105 min, breakdown 45 min, production 60 min;
availability 60/105, performance 60 x 1 min / 60 min = 1, quality 58/60.
"""

from __future__ import annotations

from typing import Any

import pytest

from vigil.engine.operator import KeyedOperator, Output
from vigil.engine.projection_rows import LatestValue
from vigil.events import ConditionSignal, Derived, EntityConfigured, LogEvent, Reading, Tick
from vigil.factory import LineOEE, MachineOEE, ShiftCalendar
from vigil.sim.common import on_shift
from vigil.testing import check_operator, records, run_chain, sample_events

MONDAY = 1793577600.0  # 2026-11-02 00:00 UTC
H = 3600.0
TENANT = "plant"


def at(hours: float, minutes: float = 0.0) -> float:
    return MONDAY + hours * H + minutes * 60.0


def machine(entity: str, ideal: float, line: str = "l1") -> EntityConfigured:
    return EntityConfigured(
        tenant=TENANT,
        time=at(5),
        entity=entity,
        kind="machine",
        name=entity.upper(),
        parent=line,
        attributes={"ideal_cycle_s": ideal},
    )


class Plc:
    def __init__(self, entity: str) -> None:
        self.entity, self.seq = entity, 0

    def __call__(self, time: float, metric: str, value: float | str) -> Reading:
        self.seq += 1
        return Reading(
            tenant=TENANT,
            device=f"{self.entity}.plc",
            entity=self.entity,
            seq=self.seq,
            time=time,
            metric=metric,
            value=value,
        )

    def counters(self, time: float, cycles: float, good: float, rejects: float) -> list[Reading]:
        return [
            self(time, "cycle_count", cycles),
            self(time, "good_count", good),
            self(time, "reject_count", rejects),
        ]


def m1_day() -> list[LogEvent]:
    plc = Plc("m1")
    return [
        machine("m1", 60.0),
        plc(at(5, 30), "state", "idle"),
        *plc.counters(at(5, 30), 1000.0, 900.0, 100.0),
        plc(at(6), "state", "setup"),
        plc(at(6, 15), "state", "running"),
        plc(at(8), "state", "down"),
        plc(at(8), "downtime_reason", "jam"),
        plc(at(8, 1), "state", "running"),
        plc(at(10), "state", "planned_stop"),
        plc(at(10, 30), "state", "running"),
        *plc.counters(at(13, 30), 1380.0, 1270.0, 110.0),
        plc(at(13, 30), "state", "down"),
        plc(at(13, 30), "downtime_reason", "breakdown"),
        Tick(tenant=TENANT, time=at(13, 50)),
        Tick(tenant=TENANT, time=at(14)),
        plc(at(14, 45), "state", "running"),
        *plc.counters(at(15, 45), 1440.0, 1328.0, 112.0),
        Tick(tenant=TENANT, time=at(15, 45)),
    ]


def m2_day() -> list[LogEvent]:
    """Runs from 06:00 without a stop; ideal cycle 30 s; 200 made, 194 good in shift 2."""
    plc = Plc("m2")
    return [
        machine("m2", 30.0),
        plc(at(5, 30), "state", "running"),
        *plc.counters(at(5, 30), 0.0, 0.0, 0.0),
        *plc.counters(at(13, 59), 400.0, 396.0, 4.0),
        *plc.counters(at(15, 45), 600.0, 590.0, 10.0),
    ]


def outputs_of(operators: list[KeyedOperator[Any]], events: list[LogEvent]) -> dict[str, list[Any]]:
    ordered = sorted(events, key=lambda e: e.timestamp)  # stable: same-time order kept
    run = run_chain(operators, records(ordered))
    return {name: [item.output for item in items] for name, items in run.emitted.items()}


def latest(outputs: list[Any], entity: str) -> dict[str, float | str | None]:
    rows: dict[str, float | str | None] = {}
    for row in outputs:
        if isinstance(row, LatestValue) and row.entity == entity:
            rows[row.metric] = row.text if row.text is not None else row.value
    return rows


def test_shift_oee_matches_the_hand_computed_shift() -> None:
    """Shift 1's finding: availability 0.9, performance 380/405, quality 370/380, OEE 370/450,
    with the setup and the breakdown's first 30 min as its downtime and one microstop."""
    out = outputs_of([MachineOEE()], m1_day())["machine_oee"]
    (shift,) = [o for o in out if isinstance(o, Output) and o.kind == "shift_oee"]
    data = shift.data
    assert shift.time == at(14)
    assert data["planned_busy_s"] == 450 * 60
    assert data["production_s"] == 405 * 60
    assert data["planned_stop_s"] == 30 * 60
    assert data["unplanned_down_s"] == 30 * 60
    assert data["setup_s"] == 15 * 60
    assert data["microstops"] == 1 and data["microstop_s"] == 60
    assert data["reasons_s"] == {"breakdown": 1800.0, "setup": 900.0}
    assert (data["produced"], data["good"], data["rejects"]) == (380, 370, 10)
    assert data["availability"] == pytest.approx(0.9)
    assert data["performance"] == pytest.approx(380 / 405)
    assert data["quality"] == pytest.approx(370 / 380)
    assert data["oee"] == pytest.approx(370 / 450)
    assert shift.message == (
        "M1, shift 06:00-14:00 on 02 Nov: OEE 82% (availability 90%, performance 94%, "
        "quality 97%); 370 good, 10 rejected; downtime: breakdown 30 min, setup 15 min; "
        "1 microstops."
    )


def test_the_next_shift_gets_the_rest_of_the_stop() -> None:
    """The breakdown over 14:00 counts 45 min in shift 2, which the machine's page shows."""
    out = outputs_of([MachineOEE()], m1_day())["machine_oee"]
    rows = latest(out, "m1")
    assert rows["state"] == "running"
    assert rows["availability"] == round(100 * 60 / 105, 1)
    assert rows["performance"] == 100.0
    assert rows["quality"] == round(100 * 58 / 60, 1)
    assert rows["oee"] == round(100 * (60 / 105) * (58 / 60), 1)
    assert rows["downtime_min"] == 45.0
    assert rows["top_downtime"] == "breakdown 45 min"
    assert (rows["good_parts"], rows["rejected_parts"]) == (58.0, 2.0)


def test_a_long_stop_raises_machine_down_for_engineers_and_closes() -> None:
    """Down 20 min opens ``machine_down`` (at the 13:50 tick), routed to engineers, with
    the reason; running again at 14:45 closes it. The 1 min jam raises nothing."""
    out = outputs_of([MachineOEE()], m1_day())["machine_oee"]
    signals = [o for o in out if isinstance(o, ConditionSignal)]
    assert [(s.kind, s.change, s.time) for s in signals] == [
        ("machine_down", "open", at(13, 50)),
        ("machine_down", "close", at(14, 45)),
    ]
    opened = signals[0]
    assert opened.route == "engineer"
    assert opened.message == "M1 has been down since 13:30 (20 min), reason: breakdown."
    assert opened.evidence["reason"] == "breakdown"
    assert signals[1].message == "M1 is no longer down, after 75 min (breakdown)."


def test_oee_below_target_opens_at_the_end_of_the_shift() -> None:
    """With an 85% target the 82% shift opens ``oee_below_target``, explained with its losses."""
    out = outputs_of([MachineOEE(oee_target=0.85)], m1_day())["machine_oee"]
    (signal,) = [o for o in out if isinstance(o, ConditionSignal) and o.kind == "oee_below_target"]
    assert signal.change == "open" and signal.time == at(14)
    assert signal.message.startswith("Below the 85% target. M1, shift 06:00-14:00")
    assert "breakdown 30 min" in signal.message
    assert signal.evidence["oee"] == pytest.approx(370 / 450)
    assert signal.evidence["target"] == 0.85


def test_off_shift_a_still_machine_is_planned_never_down() -> None:
    """Stopped at 22:30 and through the night: no alert and state "off shift" all night;
    from 06:00 the stop counts, so ``machine_down`` opens at the 06:30 tick, down "since
    06:00", and the night adds nothing to Tuesday's planned busy time."""
    plc = Plc("m3")
    events: list[LogEvent] = [
        machine("m3", 60.0),
        plc(at(21), "state", "running"),
        plc(at(22, 30), "state", "down"),
        *[Tick(tenant=TENANT, time=at(22) + n * 1800.0) for n in range(1, 18)],
    ]
    out = outputs_of([MachineOEE()], events)["machine_oee"]
    downs = [o for o in out if isinstance(o, ConditionSignal) and o.kind == "machine_down"]
    assert [(s.change, s.time) for s in downs] == [("open", at(30, 30))]
    assert downs[0].message == "M3 has been down since 06:00 (30 min), reason not given."
    night = [o for o in out if isinstance(o, LatestValue) and o.metric == "state"]
    assert {r.text for r in night if at(22) < r.time < at(30)} == {"off shift"}
    rows = latest(out, "m3")
    assert rows["state"] == "down"
    assert rows["availability"] == 0.0
    assert rows["downtime_min"] == 30.0


def test_line_rolls_up_its_machines_through_the_chain() -> None:
    """Line l1 from m1 and m2's derived events: sums of their shift-2 times and parts.

    PBT 105 + 105 min, APT 60 + 105 min, ideal time 60 x 60 s + 200 x 30 s, 260 made,
    252 good."""
    out = outputs_of([MachineOEE(), LineOEE()], [*m1_day(), *m2_day()])
    derived = [o for o in out["machine_oee"] if isinstance(o, Derived)]
    assert {d.entity for d in derived} == {"m1", "m2"}
    assert all(d.data["line"] == "l1" for d in derived)
    rows = latest(out["line_oee"], "l1")
    availability, performance, quality = 9900 / 12600, 9600 / 9900, 252 / 260
    assert rows["availability"] == round(100 * availability, 1)
    assert rows["performance"] == round(100 * performance, 1)
    assert rows["quality"] == round(100 * quality, 1)
    assert rows["oee"] == round(100 * availability * performance * quality, 1)
    assert rows["state"] == "2 of 2 running"


def test_default_shifts_are_the_simulated_plants() -> None:
    """The default calendar says "on shift" exactly when the simulator staffs the plant."""
    calendar = ShiftCalendar()
    for step in range(0, 14 * 96):
        time = MONDAY + step * 900.0 + 1.0
        assert (calendar.shift_at(time) is not None) == on_shift(time), time


@pytest.mark.parametrize("operator", [MachineOEE, LineOEE], ids=lambda op: op.__name__)
def test_contract_on_plant_input(operator: Any) -> None:
    """The contract suite passes on the operator's own kind of input and the sample stream."""
    events = sorted(
        [*sample_events(seed=4, tenants=2, entities=2, hours=14), *operator.sample_inputs(seed=4)],
        key=lambda e: e.timestamp,
    )
    check_operator(operator, events)
