"""DeviceHealth raises and closes each device condition at the right moment, with
the right message: offline from the clock alone, battery with hysteresis, stuck
sensors only while the device is otherwise moving."""

from __future__ import annotations

from collections.abc import Sequence

from vigil.events import ConditionSignal, DeviceConfigured, DeviceStatus, LogEvent, Reading, Tick
from vigil.monitoring import DeviceHealth
from vigil.store.event_log import LogRecord
from vigil.testing import run

T0 = 1_790_000_000.0  # 2026-09-21 14:13:20 UTC


def _log(events: Sequence[LogEvent]) -> list[LogRecord]:
    return [LogRecord(i, float(e.time), e) for i, e in enumerate(events, start=1)]  # type: ignore[arg-type]


def _signals(operator: DeviceHealth, events: Sequence[LogEvent]) -> list[tuple[object, ...]]:
    """(offset, kind, change, key, message) of every condition signal, in order."""
    return [
        (e.offset, e.output.kind, e.output.change, e.output.key, e.output.message)
        for e in run(operator, _log(events))
        if isinstance(e.output, ConditionSignal)
    ]


def _status(seq: int, time: float, **fields: object) -> DeviceStatus:
    return DeviceStatus(tenant="t", device="d1", entity="e", seq=seq, time=time, **fields)  # type: ignore[arg-type]


def _reading(seq: int, time: float, metric: str, value: float, device: str = "d1") -> Reading:
    return Reading(
        tenant="t", device=device, entity="e", seq=seq, time=time, metric=metric, value=value
    )


def _configured(time: float, heartbeat: float | None) -> DeviceConfigured:
    return DeviceConfigured(
        tenant="t", time=time, device="d1", entity="e", kind="sensor", heartbeat=heartbeat
    )


def test_offline_opens_from_a_tick_at_the_heartbeat_and_closes_on_the_next_message() -> None:
    """A device silent for its heartbeat is declared offline by the tenant's clock
    alone (a tick, no message of its own), not a second earlier; its next message
    closes the condition and says how long it was silent."""
    events = [
        _configured(T0, heartbeat=300.0),
        _reading(1, T0 + 10, "temperature", 21.0),
        Tick(tenant="t", time=T0 + 309),  # one second short of the heartbeat
        Tick(tenant="t", time=T0 + 310),  # last_seen + heartbeat
        Tick(tenant="t", time=T0 + 900),  # already open: not again
        _reading(2, T0 + 1210, "temperature", 21.5),
    ]
    assert _signals(DeviceHealth(), events) == [
        (
            4,
            "device_offline",
            "open",
            "device_offline:d1",
            "No message from d1 since 21 Sep 14:13 (5 min); it should report at least every 5 min.",
        ),
        (
            6,
            "device_offline",
            "close",
            "device_offline:d1",
            "d1 is reporting again after 20 min of silence.",
        ),
    ]


def test_offline_evidence_names_the_silence() -> None:
    """The offline condition's evidence carries when the device was last seen and for
    how long it has been silent, as numbers."""
    events = [_configured(T0, 60.0), _reading(1, T0, "m", 1.0), Tick(tenant="t", time=T0 + 90)]
    (opened,) = [e.output for e in run(DeviceHealth(), _log(events))]
    assert isinstance(opened, ConditionSignal)
    assert opened.evidence == {"device": "d1", "last_seen": T0, "silent_seconds": 90.0}
    assert (opened.route, opened.time, opened.entity) == ("installer", T0 + 90, "e")


def test_a_device_without_heartbeat_is_not_watched_for_silence() -> None:
    """With no heartbeat configured and no default, a day of silence raises nothing."""
    events = [_reading(1, T0, "m", 1.0), Tick(tenant="t", time=T0 + 86400)]
    assert _signals(DeviceHealth(), events) == []


def test_battery_hysteresis() -> None:
    """Battery low opens below ``low_battery`` and closes only at or above
    ``battery_recovered``; readings in between change nothing either way."""
    levels = [50, 15, 14, 20, 29, 10, 30, 20, 14.9]
    events = [_status(i, T0 + 60 * i, battery=b) for i, b in enumerate(levels, start=1)]
    health = DeviceHealth(low_battery=15, battery_recovered=30)
    assert _signals(health, events) == [
        (
            3,
            "battery_low",
            "open",
            "battery_low:d1",
            "Battery of d1 is at 14% (warning below 15%).",
        ),
        (7, "battery_low", "close", "battery_low:d1", "Battery of d1 is back to 30%."),
        (
            9,
            "battery_low",
            "open",
            "battery_low:d1",
            "Battery of d1 is at 15% (warning below 15%).",
        ),
    ]


def _stuck_run(stuck: float, moving: list[float], step: float) -> list[LogEvent]:
    """Device d1 reporting ``pressure`` fixed at ``stuck`` and ``flow`` taking the
    values in ``moving``, one pair every ``step`` seconds."""
    events: list[LogEvent] = []
    for i, flow in enumerate(moving):
        time = T0 + i * step
        events.append(_reading(2 * i + 1, time, "pressure", stuck))
        events.append(_reading(2 * i + 2, time, "flow", flow))
    return events


def test_stuck_sensor_opens_after_time_and_count_and_closes_when_it_changes() -> None:
    """A metric stuck on one value while another metric of its device moves opens
    ``sensor_stuck`` at the first reading that is both ``stuck_after_seconds`` after
    the first of the run and at least the ``stuck_min_readings``-th; a new value
    closes it."""
    health = DeviceHealth(stuck_after_seconds=3600.0, stuck_min_readings=5)
    # pressure at 0, 1200, 2400, 3600 (4 readings: time reached, count not), 4800 (5th)
    events = _stuck_run(7.0, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], step=1200.0)
    events.append(_reading(13, T0 + 7200, "pressure", 7.5))
    assert _signals(health, events) == [
        (
            9,
            "sensor_stuck",
            "open",
            "sensor_stuck:d1:pressure",
            "d1 pressure has read exactly 7 for 80 min (5 readings in a row) while its other "
            "readings changed; it may be faulty.",
        ),
        (
            13,
            "sensor_stuck",
            "close",
            "sensor_stuck:d1:pressure",
            "d1 pressure is changing again (now 7.5).",
        ),
    ]


def test_stuck_needs_the_time_as_well_as_the_count() -> None:
    """Many identical readings in less than ``stuck_after_seconds`` are not stuck."""
    health = DeviceHealth(stuck_after_seconds=3600.0, stuck_min_readings=5)
    events = _stuck_run(7.0, [float(i) for i in range(30)], step=60.0)  # 29 min
    assert _signals(health, events) == []


def _plc(cycles: list[float]) -> list[LogEvent]:
    """A PLC reporting ``cycle_count`` (the given values) and ``reject_count`` (always
    0) every 10 minutes."""
    events: list[LogEvent] = []
    for i, cycle in enumerate(cycles):
        time = T0 + 600.0 * i
        events.append(_reading(2 * i + 1, time, "cycle_count", cycle, device="plc"))
        events.append(_reading(2 * i + 2, time, "reject_count", 0.0, device="plc"))
    return events


def test_an_idle_machine_is_not_stuck() -> None:
    """Off shift, every metric of a machine is still (cycle_count and reject_count
    both constant for 7 h): an idle machine, not a faulty sensor, so no
    ``sensor_stuck`` at the default thresholds (issue 7, item 19)."""
    assert _signals(DeviceHealth(), _plc([0.0] * 43)) == []


def test_a_running_machine_with_a_still_counter_is_stuck() -> None:
    """The same machine running (cycle_count rising) with reject_count still at 0:
    ``sensor_stuck`` opens on reject_count once 6 h and 12 readings have passed."""
    signals = _signals(DeviceHealth(), _plc([float(c) for c in range(43)]))
    assert signals == [
        (
            74,
            "sensor_stuck",
            "open",
            "sensor_stuck:plc:reject_count",
            "plc reject_count has read exactly 0 for 6.0 h (37 readings in a row) while its "
            "other readings changed; it may be faulty.",
        )
    ]
