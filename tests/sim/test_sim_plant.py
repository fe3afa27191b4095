"""The plant and its 5G network: counters, states, shifts, wear before breakdowns, radio."""

from __future__ import annotations

import statistics
from collections import defaultdict
from itertools import pairwise

import pytest

from vigil.events import Reading
from vigil.sim import FaultConfig, Region, RegionConfig

HOUR = 3600.0
DAY = 24 * HOUR
NO_FAULTS = FaultConfig(low_battery=0, offline=0, stuck=0)
PLANT = RegionConfig(seed=9, councils=0, lines=1, machines_per_line=3, cells=2, faults=NO_FAULTS)
STATES = {"running", "idle", "down", "setup"}
REASONS = {"jam", "no_material", "tool_change", "breakdown"}


@pytest.fixture(scope="module")
def monday() -> list[Reading]:
    region = Region(PLANT)
    return [e for e in region.events(PLANT.start + DAY) if isinstance(e, Reading)]


def series(readings: list[Reading], metric: str) -> dict[str, list[Reading]]:
    by_entity: dict[str, list[Reading]] = defaultdict(list)
    for r in readings:
        if r.metric == metric:
            by_entity[r.entity].append(r)
    return by_entity


def test_counters_never_decrease_and_add_up(monday: list[Reading]) -> None:
    """Per machine, cycle/good/reject counts never go down and good + reject == cycle."""
    latest: dict[str, dict[str, float]] = defaultdict(dict)
    for r in monday:
        if r.metric in ("cycle_count", "good_count", "reject_count"):
            assert r.value >= latest[r.entity].get(r.metric, 0.0)
            latest[r.entity][r.metric] = r.value
            counts = latest[r.entity]
            if r.metric == "reject_count":
                assert counts["good_count"] + counts["reject_count"] == counts["cycle_count"]
    assert all(c["cycle_count"] > 100 for c in latest.values())


def test_counters_report_every_ten_seconds(monday: list[Reading]) -> None:
    """The PLC reports its counters every 10 s of event time."""
    for readings in series(monday, "cycle_count").values():
        gaps = {round(b.timestamp - a.timestamp, 3) for a, b in pairwise(readings)}
        assert gaps == {10.0}


def test_states_follow_the_shift_pattern(monday: list[Reading]) -> None:
    """Idle at night, setup at 06:00, then running; down only with a reason; idle at 22:00."""
    states = series(monday, "state")
    reasons = series(monday, "downtime_reason")
    for entity, changes in states.items():
        values = [r.value for r in changes]
        assert set(values) <= STATES
        assert values[:3] == ["idle", "setup", "running"]
        assert values[-1] == "idle"
        assert changes[1].timestamp == PLANT.start + 6 * HOUR
        assert changes[-1].timestamp == PLANT.start + 22 * HOUR
        downs = [r.timestamp for r in changes if r.value == "down"]
        reasoned = [r.timestamp for r in reasons[entity]]
        assert set(reasoned) <= set(downs)  # some stops come with no reason (UNREASONED)
        assert {r.value for r in reasons[entity]} <= REASONS


def test_counts_only_rise_while_running(monday: list[Reading]) -> None:
    """No cycles are counted while a machine is idle, down or in setup."""
    state: dict[str, str] = {}
    last: dict[str, float] = {}
    for r in monday:
        if r.metric == "state":
            state[r.entity] = str(r.value)
        elif r.metric == "cycle_count":
            previous = last.get(r.entity, 0.0)
            if state.get(r.entity) != "running" and r.value > previous:
                # a cycle that finished in the same tick the machine stopped is allowed
                assert r.value - previous <= 1
            last[r.entity] = r.value


def test_weekend_is_idle() -> None:
    """On Saturday and Sunday machines stay idle and their counters stand still."""
    saturday = RegionConfig(
        seed=9,
        councils=0,
        lines=1,
        machines_per_line=3,
        cells=1,
        faults=NO_FAULTS,
        start=PLANT.start + 5 * DAY,
    )
    readings = [
        e for e in Region(saturday).events(saturday.start + 2 * DAY) if isinstance(e, Reading)
    ]
    assert {r.value for r in readings if r.metric == "state"} == {"idle"}
    assert {r.value for r in readings if r.metric == "cycle_count"} == {0.0}


def test_breakdowns_are_preceded_by_rising_vibration() -> None:
    """Before a breakdown, running vibration is well above the machine's own healthy level."""
    config = RegionConfig(
        seed=4, councils=0, lines=1, machines_per_line=4, cells=1, faults=NO_FAULTS
    )
    state: dict[str, str] = {}
    vibration: dict[str, list[tuple[float, float]]] = defaultdict(list)
    breakdowns: list[tuple[str, float]] = []
    for event in Region(config).events(config.start + 5 * DAY):
        if not isinstance(event, Reading):
            continue
        if event.metric == "state":
            state[event.entity] = str(event.value)
        elif event.metric == "vibration" and state.get(event.entity) == "running":
            vibration[event.entity].append((event.timestamp, float(event.value)))
        elif event.metric == "downtime_reason" and event.value == "breakdown":
            breakdowns.append((event.entity, event.timestamp))
    assert breakdowns
    for entity, at in breakdowns:
        healthy = statistics.median(v for t, v in vibration[entity][:360])
        before = [v for t, v in vibration[entity] if at - HOUR <= t < at]
        assert statistics.median(before) > 1.5 * healthy


def test_modems_report_latency_and_signal(monday: list[Reading]) -> None:
    """Latency is ~8-15 ms most of the time and RSRP around -75 to -100 dBm."""
    latency = [float(r.value) for r in monday if r.metric == "latency_ms"]
    rsrp = [float(r.value) for r in monday if r.metric == "rsrp_dbm"]
    assert 8.0 <= statistics.median(latency) <= 15.0
    assert sum(8.0 <= v <= 15.0 for v in latency) > 0.8 * len(latency)
    assert -100 <= statistics.median(rsrp) <= -75


def test_cells_degrade_sometimes_and_modems_on_them_see_it() -> None:
    """In a bad spell latency jumps to 50-200 ms for every modem on that cell at once."""
    config = RegionConfig(
        seed=4, councils=0, lines=1, machines_per_line=3, cells=1, faults=NO_FAULTS
    )
    slow: dict[int, set[str]] = defaultdict(set)
    for event in Region(config).events(config.start + 2 * DAY):
        if isinstance(event, Reading) and event.metric == "latency_ms" and float(event.value) > 40:
            assert float(event.value) <= 200
            slow[int(event.timestamp // 60)].add(event.entity)
    assert slow, "seed 4 has degraded spells in its first two days"
    assert max(len(machines) for machines in slow.values()) == 3


def test_cell_monitor_reports(monday: list[Reading]) -> None:
    """Cell monitors report devices, throughput and PRB use in range, busier on shift."""
    prb = series(monday, "prb_utilisation")
    assert set(prb) == {"plant.cell-1", "plant.cell-2"}
    for readings in prb.values():
        assert all(0 <= r.value <= 100 for r in readings)
        night = [r.value for r in readings if (r.timestamp - PLANT.start) < 5 * HOUR]
        day = [r.value for r in readings if 9 * HOUR < (r.timestamp - PLANT.start) < 12 * HOUR]
        assert statistics.mean(day) > statistics.mean(night)
    for readings in series(monday, "connected_devices").values():
        assert all(r.value >= 1 for r in readings)


def test_machines_have_distinct_ideal_cycles() -> None:
    """Each machine has its own ideal cycle time between 30 and 90 s, and a serving cell."""
    catalog = Region(PLANT).catalog()
    machines = [e for e in catalog.entities if e.kind == "machine"]
    cycles = [m.attributes["ideal_cycle_s"] for m in machines]
    assert len(set(cycles)) == len(cycles)
    assert all(30 <= c <= 90 for c in cycles)
    cells = {e.id for e in catalog.entities if e.kind == "cell"}
    assert all(m.attributes["cell"] in cells and m.parent == "plant.line-1" for m in machines)


def test_modems_report_every_link_figure(monday: list[Reading]) -> None:
    """Each modem report has latency, jitter, loss, RSRP, RSRQ, SINR and throughput."""
    from vigil.sim.plant import MODEM_METRICS

    for metric in MODEM_METRICS:
        assert series(monday, metric), metric
    sinr = [float(r.value) for r in monday if r.metric == "sinr_db" and ".modem" in r.device]
    assert 12 <= statistics.median(sinr) <= 26


def test_bad_spells_cost_links_and_stop_running_machines() -> None:
    """In a spell at or above a modem's threshold its reports stop, and a machine running
    then stops within seconds with no reason: a ``network`` stop in the ground truth."""
    config = RegionConfig(
        seed=3,
        councils=0,
        lines=1,
        machines_per_line=4,
        cells=1,
        faults=NO_FAULTS,
        cell_episodes_per_day=12.0,
    )
    region = Region(config)
    events = list(region.events(config.start + 2 * DAY))
    network = [(m, s) for m in region.machines for s in m.stops if s[2] == "network"]
    assert len(network) >= 3
    for machine, (start, _end, _) in network:
        downs = [
            e
            for e in events
            if isinstance(e, Reading)
            and e.entity == machine.entity.id
            and e.metric == "state"
            and e.value == "down"
            and abs(e.timestamp - start) < 1e-3
        ]
        assert len(downs) == 1
        reasons = [
            e
            for e in events
            if isinstance(e, Reading)
            and e.entity == machine.entity.id
            and e.metric == "downtime_reason"
            and abs(e.timestamp - start) < 1e-3
        ]
        assert reasons == []
        silent = [
            e
            for e in events
            if isinstance(e, Reading)
            and e.device == machine.modem.id
            and start - 1 <= e.timestamp <= start + 30
        ]
        assert silent == []  # the modem is not heard while its link is lost
