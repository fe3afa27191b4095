"""Family check on ground truth: each anomaly the simulator injects is caught by
CareMonitor, with the matching alert, soon after its known start; the same homes
without the anomaly raise no such alert over the same days."""

from __future__ import annotations

import pytest

from vigil.care import CareMonitor
from vigil.catalog import Catalog
from vigil.engine.keyed import KeyedRunner
from vigil.events import ConditionSignal, Tick
from vigil.platform import configuration_events
from vigil.sim import Anomaly, FaultConfig, Region, RegionConfig
from vigil.store.event_log import LogRecord

HOUR = 3600.0
DAY = 24 * HOUR
NO_FAULTS = FaultConfig(low_battery=0, offline=0, stuck=0)
START = RegionConfig().start  # Monday 2 November 2026, 00:00 (GMT: local time is UTC)
DAYS = 6
HOME = "north-council.home-02"  # not one of the sim's cold homes with this seed

# kind injected -> (condition expected, start, hours, at most this long to the alert)
CASES = {
    # from 05:00; with four days learned the deadline is still the population's 10:30
    "not_up": ("not_up", START + 4 * DAY + 5 * HOUR, 8.0, 6 * HOUR),
    "bathroom_fall": ("prolonged_inactivity", START + 4 * DAY + 11 * HOUR, 4.0, 1 * HOUR),
    "missed_meals": ("missed_meals", START + 4 * DAY + 4 * HOUR, 24.0, 14 * HOUR),
    "night_exit": ("night_exit", START + 4 * DAY + 2.5 * HOUR, 3.0, 45 * 60),
    "night_bathroom": ("night_bathroom", START + 3 * DAY + 12 * HOUR, 60.0, 2 * DAY),
    # the rooms cool for hours before they are below 16 °C for two
    "cold_spell": ("cold_home", START + 4 * DAY + 9 * HOUR, 24.0, 9 * HOUR),
}


def _run(anomalies: tuple[Anomaly, ...]) -> list[ConditionSignal]:
    config = RegionConfig(
        seed=3,
        councils=1,
        homes_per_council=2,
        plant=False,
        faults=NO_FAULTS,
        pendant_per_day=0.0,
        fall_per_day=0.0,
        anomalies=anomalies,
    )
    region = Region(config)
    catalog = region.catalog()
    runner = KeyedRunner(CareMonitor())
    offset = 0
    emitted = []

    def feed(events: list) -> None:
        nonlocal offset
        records = []
        for event in events:
            offset += 1
            records.append(LogRecord(offset, 0.0, event))
        emitted.extend(runner.process(records))

    feed(configuration_events(Catalog(), catalog, time=config.start))
    t = config.start
    while t < config.start + DAYS * DAY:
        t += 300
        feed([*region.events(until=t), Tick(tenant="north-council", time=t)])
    return [
        e.output
        for e in emitted
        if isinstance(e.output, ConditionSignal) and e.output.entity == HOME
    ]


@pytest.fixture(scope="module")
def control() -> list[ConditionSignal]:
    return _run(())


@pytest.mark.parametrize("kind", sorted(CASES))
def test_injected_anomaly_is_alerted(kind: str, control: list[ConditionSignal]) -> None:
    expected, start, hours, within = CASES[kind]
    anomaly = Anomaly(entity=HOME, kind=kind, start=start, hours=hours)  # type: ignore[arg-type]
    signals = _run((anomaly,))
    opened = [s for s in signals if s.kind == expected and s.change == "open"]
    assert opened, f"{kind}: no {expected} alert; got {[(s.kind, s.change) for s in signals]}"
    first = min(s.time for s in opened)
    assert start <= first <= start + within, (kind, (first - start) / HOUR)
    assert not [s for s in control if s.kind == expected and s.change == "open"]
