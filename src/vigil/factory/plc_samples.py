"""PLC readings for the contract suite: what ``MachineOEE`` consumes (``sample_events``
has few PLC readings)."""

from __future__ import annotations

import random

from vigil.events import EntityConfigured, LogEvent, Reading

_SAMPLE_START = 1_780_000_000.0


def plc_samples(seed: int = 0) -> list[LogEvent]:
    """Two tenants with two machines each, 14 h of states and counters, in time order."""
    rng = random.Random(seed)
    events: list[LogEvent] = []
    for tenant in ("tenant-0", "tenant-1"):
        for n in range(2):
            entity, device = f"{tenant}.line-1.m-{n}", f"{tenant}.line-1.m-{n}.plc"
            events.append(
                EntityConfigured(
                    tenant=tenant,
                    time=_SAMPLE_START - 60.0,
                    entity=entity,
                    kind="machine",
                    name=f"Machine {n}",
                    parent=f"{tenant}.line-1",
                    attributes={"ideal_cycle_s": 45.0},
                )
            )
            time, seq, cycles, rejects = _SAMPLE_START, 0, 0.0, 0.0
            while time < _SAMPLE_START + 14 * 3600:
                seq += 1
                roll = rng.random()
                if roll < 0.3:
                    value = rng.choice(["running", "down", "setup", "idle", "planned_stop"])
                    metric: str = "state"
                elif roll < 0.4:
                    value, metric = (
                        rng.choice(["jam", "breakdown", "no_material"]),
                        "downtime_reason",
                    )
                else:
                    cycles += rng.randint(0, 5)
                    rejects += rng.random() < 0.1
                    metric, value = rng.choice(
                        [
                            ("cycle_count", cycles),
                            ("good_count", cycles - rejects),
                            ("reject_count", rejects),
                        ]
                    )
                events.append(
                    Reading(
                        tenant=tenant,
                        device=device,
                        entity=entity,
                        seq=seq,
                        time=round(time, 3),
                        metric=metric,
                        value=value,
                    )
                )
                time += rng.expovariate(1 / 90.0)
    return sorted(events, key=lambda e: e.timestamp)
