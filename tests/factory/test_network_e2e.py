"""End to end on the simulator: a cell's bad spell costs links, the machines on them
stop, and the factory chain attributes exactly those stops to the network."""

from __future__ import annotations

import msgspec

from vigil.catalog import Catalog
from vigil.config import Settings
from vigil.engine.operator import Output
from vigil.engine.records import LogRecord
from vigil.events import ConditionSignal, Tick
from vigil.factory.domain import operators
from vigil.platform import configuration_events
from vigil.sim import FaultConfig, Region, RegionConfig
from vigil.sim.config import MONDAY_2026_11_02
from vigil.sim.plant import NETWORK
from vigil.testing.runs import run_chain

HOUR = 3600.0
NO_FAULTS = FaultConfig(low_battery=0, offline=0, stuck=0)


def test_a_simulated_degradation_is_correlated_with_the_stops_it_caused() -> None:
    """Ten hours of two shifts with frequent bad spells: every stop the network caused is a
    ``network_stop`` finding, no stop the machine caused is, and the condition explains
    the incident with the cell and the machines."""
    start = MONDAY_2026_11_02 + 5.5 * HOUR
    config = RegionConfig(
        seed=4,
        councils=0,
        lines=1,
        machines_per_line=4,
        cells=1,
        cell_episodes_per_day=30.0,
        start=start,
        faults=NO_FAULTS,
    )
    region = Region(config)
    catalog = region.catalog()
    end = start + 10 * HOUR
    events = [*configuration_events(Catalog(), catalog, time=start - 1)]
    events += region.events(until=end)
    events += [Tick(tenant="plant", time=start + 60.0 * n) for n in range(int(10 * HOUR / 60))]
    events.sort(key=lambda e: e.timestamp)
    log = [LogRecord(n, e.timestamp, e) for n, e in enumerate(events, start=1)]
    chain = run_chain(operators(Settings()), log)
    findings = [
        e.output
        for e in chain.emitted["stop_attribution"]
        if isinstance(e.output, Output) and e.output.kind == "network_stop"
    ]
    blamed = {(f.entity, round(f.data["stop_start"], 3)) for f in findings}
    caused, other = set(), set()
    for m in region.machines:
        for s, e, cause in m.stops:
            if e < end - 600:
                (caused if cause == NETWORK else other).add((m.entity.id, round(s, 3)))
    assert len(caused) >= 2
    assert caused <= blamed
    assert not (other & blamed)
    signals = [
        e.output for e in chain.emitted["stop_attribution"] if isinstance(e.output, ConditionSignal)
    ]
    assert signals[0].change == "open" and "5G cell 1" in signals[0].message
    assert "stopped until" in signals[0].message
    msgspec.json.encode(findings)  # what is kept is plain data
