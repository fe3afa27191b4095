"""Seeded event streams for checking operators: mixed, messy, and the same every time.

A stream looks like what the log holds after ingest: several tenants, entities and
devices; numeric, binary, boolean and text readings; device status and alarms;
times as epoch seconds; per-device ``seq`` increasing in log order. It is messy on
purpose: devices go silent for hours (so event-time timers fire), batteries run
down and recover, a sensor gets stuck on one value, and some events arrive late
or out of order.

>>> events = sample_events(seed=7)
>>> events == sample_events(seed=7), events == sample_events(seed=8)
(True, False)
>>> sorted({type(e).__name__ for e in events})  # doctest: +NORMALIZE_WHITESPACE
['Alarm', 'ConditionAction', 'ConditionSignal', 'DeviceConfigured', 'DeviceStatus',
 'EntityConfigured', 'Reading', 'Tick']

Besides device events the stream holds what the platform writes into the log:
configuration (devices registered with a heartbeat or none, some re-configured
midway, an entity marked away), clock ticks, and conditions opened, updated and
closed by an imaginary operator with people acting on them -- so operators that
consume any of these are exercised too.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

import msgspec

from vigil.engine.records import LogRecord
from vigil.events import (
    Alarm,
    ConditionAction,
    ConditionSignal,
    DeviceConfigured,
    DeviceStatus,
    EntityConfigured,
    Event,
    LogEvent,
    Reading,
    Tick,
)

START = 1_780_000_000.0
"""Event time of the first sample event (May 2026), as epoch seconds."""

_decode_event = msgspec.msgpack.Decoder(LogEvent).decode
_encode = msgspec.msgpack.Encoder().encode


def canonical(event: LogEvent) -> LogEvent:
    """The event as the log hands it to operators: validated, epoch time, wire types.

    Round-trips through MessagePack, so schema limits are enforced and a value
    written as ``1`` comes back as ``1.0``, exactly as after ingest.
    """
    event = _decode_event(_encode(event))
    if type(event.time) is not float:
        event = msgspec.structs.replace(event, time=event.timestamp)
    return event


def records(events: Iterable[LogEvent], *, first: int = 1, step: int = 1) -> list[LogRecord]:
    """Wrap events as log records; ``received`` is the event time (it never matters).

    ``step`` > 1 leaves room between offsets, so a check can insert records
    without renumbering the others.
    """
    return [LogRecord(first + i * step, event.timestamp, event) for i, event in enumerate(events)]


class _Device(msgspec.Struct):
    tenant: str
    entity: str
    name: str
    kind: str
    mean_gap: float


def _devices(rng: random.Random, tenants: int, entities: int) -> list[_Device]:
    devices = []
    for t in range(tenants):
        tenant = f"tenant-{t}"
        for e in range(entities):
            entity = f"entity-{t}-{e}"
            kinds = ["env", "motion", "status-only"]
            if e == 0:
                kinds.append("stuck")
            if e % 2 == 1:
                kinds.append("machine")
            if e == entities - 1:
                kinds.append("pendant")
            for d, kind in enumerate(kinds):
                gap = rng.choice([600.0, 900.0, 1500.0])
                if kind == "stuck":
                    gap = 300.0
                devices.append(_Device(tenant, entity, f"dev-{t}-{e}-{d}", kind, gap))
    return devices


def _reading(device: _Device, time: float, metric: str, value: float | str | bool) -> Reading:
    unit = {"temperature": "C", "power": "W"}.get(metric)
    return Reading(
        tenant=device.tenant,
        device=device.name,
        entity=device.entity,
        seq=0,
        time=time,
        metric=metric,
        value=value,
        unit=unit,
    )


def _events_of(device: _Device, rng: random.Random, start: float, end: float) -> list[Event]:
    """One device's events in event-time order (``seq`` is assigned later)."""
    events: list[Event] = []
    time = start + rng.uniform(0, device.mean_gap)
    battery = rng.uniform(20.0, 100.0)
    temperature = rng.uniform(17.0, 23.0)
    stuck_until = start + rng.uniform(7.0, 9.0) * 3600.0
    common = {"tenant": device.tenant, "device": device.name, "entity": device.entity, "seq": 0}
    while time < end:
        roll = rng.random()
        if device.kind == "env":
            temperature += rng.gauss(0.0, 0.3)
            events.append(_reading(device, time, "temperature", round(temperature, 2)))
        elif device.kind == "stuck":
            value = 21.5 if time < stuck_until else round(rng.uniform(18.0, 24.0), 1)
            events.append(_reading(device, time, "temperature", value))
        elif device.kind == "motion":
            if roll < 0.5:
                events.append(_reading(device, time, "motion", float(rng.random() < 0.4)))
            else:
                events.append(_reading(device, time, "door_open", rng.random() < 0.3))
        elif device.kind == "machine":
            if roll < 0.6:
                state = rng.choice(["running", "running", "idle", "fault", ""])
                events.append(_reading(device, time, "state", state))
            else:
                events.append(_reading(device, time, "power", round(rng.uniform(-5.0, 4e3), 1)))
        elif device.kind == "pendant" and roll < 0.3:
            severity = rng.choice(["info", "warning", "critical"])
            detail = rng.choice([None, "", "pressed twice"])
            events.append(
                Alarm(**common, time=time, alarm="pendant", severity=severity, detail=detail)
            )
        # Device status now and then: a draining battery, a weak radio, a goodbye.
        if device.kind == "status-only" or rng.random() < 0.15:
            battery = max(0.0, battery - rng.uniform(0.0, 6.0))
            if rng.random() < 0.05:
                battery = 100.0  # someone changed the batteries
            signal = round(rng.uniform(-120.0, -40.0), 1)
            online = rng.choice([None, None, True])
            events.append(
                DeviceStatus(
                    **common,
                    time=time + 1.0,
                    battery=round(battery, 1),
                    signal_dbm=signal,
                    online=online,
                )
            )
        gap = rng.expovariate(1.0 / device.mean_gap)
        if rng.random() < 0.04:  # an outage: silent for hours, sometimes announced
            if rng.random() < 0.5:
                events.append(DeviceStatus(**common, time=time + 2.0, online=False))
            gap += rng.uniform(1.5, 4.0) * 3600.0
        time += max(gap, 1.0)
    return events


def sample_events(
    seed: int = 0,
    *,
    tenants: int = 3,
    entities: int = 3,
    hours: float = 14.0,
    start: float = START,
) -> list[Event]:
    """A seeded, mixed stream of events in log order, as operators receive them.

    Each of ``tenants`` has ``entities`` entities with a few devices each. Some
    devices only start reporting halfway through (keys first seen after a
    checkpoint). Most events are delivered within seconds; a few are delayed by
    minutes or an hour, so they reach the log late and out of event-time order.
    """
    rng = random.Random(seed)
    end = start + hours * 3600.0
    delivered: list[tuple[float, int, Event]] = []
    for device in _devices(rng, tenants, entities):
        first = start if rng.random() < 0.85 else start + hours * 3600.0 * rng.uniform(0.4, 0.7)
        for event in _events_of(device, rng, first, end):
            roll = rng.random()
            if roll < 0.03:
                delay = rng.uniform(600.0, 3600.0)  # buffered through an outage
            elif roll < 0.08:
                delay = rng.uniform(30.0, 300.0)  # a slow network hop
            else:
                delay = rng.uniform(0.0, 3.0)
            delivered.append((event.timestamp + delay, len(delivered), event))
    devices = _devices(random.Random(seed), tenants, entities)
    for event in _platform_events(rng, devices, start, end):
        delivered.append((event.timestamp, len(delivered), event))
    delivered.sort(key=lambda item: (item[0], item[1]))
    seqs: dict[tuple[str, str], int] = {}
    out: list[LogEvent] = []
    for _, _, event in delivered:
        if isinstance(event, Reading | DeviceStatus | Alarm):
            slot = (event.tenant, event.device)
            seq = seqs[slot] = seqs.get(slot, rng.randrange(0, 1000)) + 1
            event = msgspec.structs.replace(event, seq=seq)
        out.append(canonical(event))
    return out  # type: ignore[return-value]


def _platform_events(
    rng: random.Random, devices: Sequence[_Device], start: float, end: float
) -> list[LogEvent]:
    """Configuration, ticks, and conditions with people's actions on them."""
    events: list[LogEvent] = []
    for device in devices:
        heartbeat = rng.choice([None, 1800.0, 3600.0, 7200.0])
        events.append(
            DeviceConfigured(
                tenant=device.tenant,
                time=start - 60.0,
                device=device.name,
                entity=device.entity,
                kind=device.kind,
                heartbeat=heartbeat,
            )
        )
        if rng.random() < 0.2:  # re-configured (or taken out of service) midway
            events.append(
                DeviceConfigured(
                    tenant=device.tenant,
                    time=rng.uniform(start, end),
                    device=device.name,
                    entity=device.entity,
                    kind=device.kind,
                    heartbeat=rng.choice([None, 900.0]),
                    removed=rng.random() < 0.3,
                )
            )
    entities = sorted({(d.tenant, d.entity) for d in devices})
    for tenant, entity in entities:
        events.append(
            EntityConfigured(
                tenant=tenant, time=start - 60.0, entity=entity, kind="home", name=entity
            )
        )
    tenant, entity = entities[len(entities) // 2]
    events.append(
        EntityConfigured(
            tenant=tenant,
            time=rng.uniform(start, end),
            entity=entity,
            kind="home",
            name=entity,
            attributes={"away_until": end},
        )
    )
    for tenant in sorted({t for t, _ in entities}):
        time = start
        while time < end + 3 * 3600.0:  # ticks go on after the devices stop
            events.append(Tick(tenant=tenant, time=time))
            time += 600.0
    for n, (tenant, entity) in enumerate(entities):
        key = f"sample:{entity}"
        time = rng.uniform(start, start + 3600.0)
        instance = 0
        while time < end:
            instance += 1
            severity = rng.choice(["info", "warning", "critical"])
            common = {"tenant": tenant, "entity": entity, "key": key, "kind": "sample"}
            events.append(
                ConditionSignal(
                    **common,
                    time=time,
                    change="open",
                    severity=severity,
                    message=f"sample condition {instance} opened",
                    evidence={"n": n, "level": rng.uniform(0, 1)},
                    route=rng.choice(["coordinator", "installer"]),
                )
            )
            time += rng.uniform(60.0, 1200.0)
            if rng.random() < 0.5:
                events.append(
                    ConditionSignal(
                        **common,
                        time=time,
                        change="update",
                        severity="critical",
                        message=f"sample condition {instance} worse",
                    )
                )
            for action in rng.sample(["acknowledge", "assign", "comment", "escalate"], 2):
                time += rng.uniform(10.0, 900.0)
                events.append(
                    ConditionAction(
                        tenant=tenant,
                        time=time,
                        condition=f"{key}~{instance}",
                        action=action,  # type: ignore[arg-type]
                        actor="sample-person",
                        assignee="carer-1" if action == "assign" else None,
                        note="looked at it",
                    )
                )
            time += rng.uniform(60.0, 3600.0)
            if rng.random() < 0.5:
                events.append(
                    ConditionAction(
                        tenant=tenant,
                        time=time,
                        condition=f"{key}~{instance}",
                        action="resolve",
                        actor="sample-person",
                        outcome="false_alarm",
                    )
                )
            else:
                events.append(ConditionSignal(**common, time=time, change="close"))
            time += rng.uniform(600.0, 7200.0)
    return events


def odd_events(like: Sequence[Event]) -> list[Event]:
    """Boundary values an operator must survive, in the tenant and time range of ``like``.

    Zero, negative zero, negative, tiny and huge numbers, booleans, empty and long
    strings, every alarm severity, status fields at their limits or all missing,
    the largest ``seq``, and several events with exactly one timestamp.
    """
    base = like[len(like) // 2] if like else None
    tenant = base.tenant if base else "tenant-0"
    time = base.timestamp if base else START
    common = {"tenant": tenant, "entity": "odd-entity", "device": "odd-device", "seq": 0}
    values: list[float | str | bool] = [
        0.0, -0.0, -1.0, 1e-308, -1e308, 1e308, 2.0**53, True, False, "", " ", "é" * 300, "0",
    ]  # fmt: skip
    made: list[Event] = []
    for i, value in enumerate(values):
        unit = "" if i % 3 == 0 else None
        made.append(Reading(**common, time=time, metric="m", value=value, unit=unit))
        made.append(Reading(**common, time=time + i, metric="x" * 64, value=value))
    made.append(DeviceStatus(**common, time=time + 20.0))
    made.append(DeviceStatus(**common, time=time + 21.0, battery=0.0, signal_dbm=-200.0))
    made.append(
        DeviceStatus(**common, time=time + 22.0, battery=100.0, signal_dbm=50.0, online=True)
    )
    for severity in ("info", "warning", "critical"):
        made.append(
            Alarm(**common, time=time + 23.0, alarm="a", severity=severity, detail="d" * 500)
        )
    made.append(DeviceStatus(**common, time=time + 24.0, online=False))
    made.append(Alarm(**common, time=time + 25.0, alarm="a", detail=""))
    last = len(made) - 1
    events = [
        msgspec.structs.replace(event, seq=2**63 - 1 if i == last else i)
        for i, event in enumerate(made)
    ]
    return [canonical(event) for event in events]
