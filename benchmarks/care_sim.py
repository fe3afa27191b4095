"""The simulator's ground truth: many homes, each with one labelled anomaly of a known start.

Anomalies unfold as the simulator makes them (``vigil.sim.anomalies``): a resident who
stays in bed, a fall in the bathroom, a day of no meals, a night-time exit, several
nights of extra bathroom visits, a heating failure, and a decline in activity over
weeks. Each is placed after at least a week of normal days (the routine learned), at a
random day and hour drawn from the seed. Sensor faults are on, as the simulator's
defaults have them (devices offline for hours, stuck thermometers, weak batteries).
"""

from __future__ import annotations

import random
import statistics
import time

from care_replay import Stream, opened
from vigil.sim import Anomaly, Region, RegionConfig

HOUR = 3600.0
DAY = 24 * HOUR
SHORT_KINDS = (
    "not_up",
    "bathroom_fall",
    "missed_meals",
    "night_exit",
    "night_bathroom",
    "cold_spell",
)
SIM_KINDS = (*SHORT_KINDS, "decline")
SHORT_DAYS = 21
DECLINE_DAYS = 56
NOT_FALSE = frozenset({"help_alarm"})
"""The simulator presses help buttons on purpose: those alerts are right, not false."""


def _anomaly(kind: str, entity: str, start: float, rng: random.Random) -> tuple[Anomaly, float]:
    """The anomaly and the latest time an alert still counts as catching it."""
    day = start + rng.randint(8, SHORT_DAYS - 4) * DAY
    if kind == "not_up":
        a = Anomaly(entity=entity, kind="not_up", start=day + 5 * HOUR, hours=8.0)
        return a, a.end
    if kind == "bathroom_fall":
        a = Anomaly(entity=entity, kind=kind, start=day + rng.uniform(11, 17) * HOUR, hours=4.0)
        return a, a.start + 1.5 * HOUR
    if kind == "missed_meals":
        a = Anomaly(entity=entity, kind=kind, start=day + 4 * HOUR, hours=24.0)
        return a, day + 21 * HOUR
    if kind == "night_exit":
        a = Anomaly(entity=entity, kind=kind, start=day + rng.uniform(25, 27.5) * HOUR, hours=3.0)
        return a, a.start + 2 * HOUR
    if kind == "night_bathroom":
        a = Anomaly(entity=entity, kind=kind, start=day + 12 * HOUR, hours=60.0, extra=4)
        return a, a.start + 72 * HOUR
    if kind == "cold_spell":
        a = Anomaly(entity=entity, kind=kind, start=day + 9 * HOUR, hours=24.0)
        return a, a.start + 12 * HOUR
    first = start + 28 * DAY  # four weeks of the person's own normal first
    a = Anomaly(entity=entity, kind="decline", start=first, hours=21 * 24.0)
    return a, start + DECLINE_DAYS * DAY


def _region(homes: int, seed: int, kinds: tuple[str, ...], days: int) -> tuple[dict, dict]:
    """Run ``homes`` simulated homes for ``days``, one anomaly each: their alerts, labels."""
    plain = Region(RegionConfig(seed=seed, councils=1, homes_per_council=homes, plant=False))
    rng = random.Random(seed)
    labels: dict[str, tuple[Anomaly, float]] = {}
    queue = list(kinds)
    for index, home in enumerate(plain.homes):
        kind = queue[index % len(queue)]
        if kind == "cold_spell" and home.resident.cold_home:
            kind = queue[(index + 1) % len(queue)]  # a home always cold has its alert open
        labels[home.entity.id] = _anomaly(kind, home.entity.id, plain.config.start, rng)
    config = RegionConfig(
        seed=seed,
        councils=1,
        homes_per_council=homes,
        plant=False,
        anomalies=tuple(a for a, _ in labels.values()),
    )
    region = Region(config)
    stream = Stream(region.catalog(), config.start)
    t, end, records, began = config.start, config.start + days * DAY, 0, time.perf_counter()
    while t < end:
        t += DAY
        records += stream.feed(region.events(until=t), t)
        done = (t - config.start) / DAY
        if done % 7 == 0 or t >= end:
            rate = records / (time.perf_counter() - began)
            print(f"    day {done:.0f} of {days}: {records:,} records ({rate:,.0f}/s)", flush=True)
    alerts: dict[str, list] = {}
    for signal in opened(stream.emitted):
        alerts.setdefault(signal.entity, []).append(signal)
    colds = {h.entity.id for h in region.homes if h.resident.cold_home}
    states = [stream.runner.operator.encode_state(e.state) for e in stream.runner.keys.values()]
    run = {"alerts": alerts, "colds": colds, "states": states, "start": config.start}
    return run, labels


def run_sim(
    homes: int, seed: int, expected: dict[str, str], *, quick: bool
) -> tuple[dict, list[bytes]]:
    """Recall and time to alert per type, false alerts before each home's anomaly, and
    the homes' encoded states at the end (learned over three weeks)."""
    decline_homes = max(4, homes // 7)
    short, short_labels = _region(homes - decline_homes, seed, SHORT_KINDS, SHORT_DAYS)
    decline, decline_labels = _region(
        decline_homes, seed + 1, ("decline",), 49 if quick else DECLINE_DAYS
    )
    trials: dict[str, list[dict]] = {k: [] for k in SIM_KINDS}
    false_alerts: dict[str, int] = {}
    weeks = 0.0
    for run, labels in ((short, short_labels), (decline, decline_labels)):
        for entity, (anomaly, deadline) in labels.items():
            signals = run["alerts"].get(entity, [])
            want = expected[anomaly.kind]
            hits = [
                s.time for s in signals if s.kind == want and anomaly.start <= s.time <= deadline
            ]
            trials[anomaly.kind].append(
                {
                    "home": entity,
                    "start": anomaly.start,
                    "detected": bool(hits),
                    "minutes_to_alert": (min(hits) - anomaly.start) / 60 if hits else None,
                }
            )
            weeks += (anomaly.start - run["start"]) / (7 * DAY)
            for s in signals:
                cold = s.kind == "cold_home" and entity in run["colds"]
                if s.time < anomaly.start and s.kind not in NOT_FALSE and not cold:
                    false_alerts[s.kind] = false_alerts.get(s.kind, 0) + 1
    by_type = {k: _summary(v) for k, v in trials.items() if v}
    sizes = [len(state) for state in short["states"]]
    return {
        "homes": homes,
        "decline_homes": decline_homes,
        "days": SHORT_DAYS,
        "decline_days": 49 if quick else DECLINE_DAYS,
        "recall": {k: v["recall"] for k, v in by_type.items()},
        "by_type": by_type,
        "false_alerts_before_anomaly": false_alerts,
        "false_alerts_per_home_week": round(sum(false_alerts.values()) / max(weeks, 1e-9), 2),
        "state_bytes_per_home_learned": round(statistics.mean(sizes)) if sizes else None,
        "trials": trials,
    }, short["states"]


def _summary(trials: list[dict]) -> dict:
    caught = sorted(t["minutes_to_alert"] for t in trials if t["detected"])
    return {
        "trials": len(trials),
        "detected": len(caught),
        "recall": round(len(caught) / len(trials), 3),
        "minutes_to_alert_median": round(statistics.median(caught)) if caught else None,
        "minutes_to_alert_max": round(caught[-1]) if caught else None,
    }
