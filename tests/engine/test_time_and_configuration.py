"""Issue 6, items 2 and 3: time and configuration are in the log.

A tenant whose every device falls silent (a gateway, a broker bridge or a 5G cell
down) still gets its "no data" alerts on time -- live from wall-clock ticks, and in
a replay of the log, where the ticks are event time. A device registered,
re-configured or removed while the server runs is watched accordingly from then on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

import msgspec

from tests.conftest import batch_json, reading, small_catalog
from tests.engine.scenario import STEP, day_start, send, steps
from vigil.catalog import Catalog, Device
from vigil.config import Settings
from vigil.events import DERIVED_TYPES, ConditionSignal, DeviceConfigured, EntityConfigured
from vigil.platform import Platform, default_operators
from vigil.store.event_log import LogRecord
from vigil.store.projection_rows import ConditionRow
from vigil.testing import run_chain

SettingsFactory = Callable[..., Settings]
HEARTBEAT = 2.0
"""Seconds a device may be silent in the live tests before it counts as offline."""


def _with_heartbeat(catalog: Catalog, heartbeat: float, tenant: str) -> Catalog:
    devices = tuple(
        msgspec.structs.replace(d, heartbeat=heartbeat) if d.tenant == tenant else d
        for d in catalog.devices
    )
    return msgspec.structs.replace(catalog, devices=devices)


def _offline(platform: Platform, tenant: str) -> dict[str, ConditionRow]:
    return {
        row.evidence["device"]: row
        for row in platform.conditions.open(tenant)
        if row.kind == "device_offline"
    }


def _until(check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _log(platform: Platform) -> list[LogRecord]:
    records: list[LogRecord] = []
    while more := platform.log.read(records[-1].offset if records else 0, 10_000):
        records += more
    return records


def _signals(events: Sequence[object]) -> list[ConditionSignal]:
    return [msgspec.structs.replace(e, origin="") for e in events if isinstance(e, ConditionSignal)]


def test_a_silent_tenant_gets_offline_alerts_live_and_the_same_in_replay(
    new_settings: SettingsFactory,
) -> None:
    settings = new_settings(tick_seconds=0.1)
    catalog = _with_heartbeat(small_catalog(), HEARTBEAT, "north")
    north = [d.id for d in catalog.devices if d.tenant == "north"]
    platform = Platform(settings)
    platform.apply_catalog(catalog)
    platform.start()
    try:
        sent = time.time()
        events = [reading(device, 1, time_=sent, metric="m") for device in north]
        body = batch_json(*events)
        result = asyncio.run(platform.ingestor.ingest(body, tenant="north", transport="http"))
        assert result.accepted == len(north)
        # Nothing more from north, ever: only the platform's clock ticks reach it.
        _until(lambda: set(_offline(platform, "north")) == set(north), "north's offline alerts")
        for device, row in _offline(platform, "north").items():
            assert sent + HEARTBEAT <= row.opened <= sent + HEARTBEAT + 1.5, device
            assert row.route == "installer"
        assert _offline(platform, "south") == {}  # south's devices have an hour
        assert platform.wait_until_processed()
        log = _log(platform)
    finally:
        platform.stop()

    # Replay: the same operators over the same log, one record at a time.
    replay = run_chain(default_operators(settings, platform.domains), log)
    in_log = _signals([r.event for r in log if isinstance(r.event, DERIVED_TYPES)])
    assert _signals(replay.derived) == in_log
    assert {s.evidence["device"] for s in in_log if s.change == "open"} == set(north)


def test_a_silent_tenant_gets_offline_alerts_on_time_in_event_time(
    new_settings: SettingsFactory,
) -> None:
    """The simulator's way: ticks in event time, hours of history in seconds."""
    start = day_start()
    platform = Platform(new_settings())
    platform.apply_catalog(small_catalog(), time=start)
    platform.start()
    try:
        # Silence is counted from registration for a device never heard from.
        last_heard = {d.id: start for d in small_catalog().devices if d.tenant == "north"}
        for step in steps(start, hours=4.0):
            if step.time >= start + 3600:
                step.events["north"] = []  # the whole council's gateway goes down at 1 h
            for event in step.events["north"]:
                last_heard[event.device] = event.time
            south_talking = {event.device for event in step.events["south"]}
            send(platform, step)
        assert platform.wait_until_processed()
        offline = _offline(platform, "north")
        assert set(offline) == set(last_heard)
        heartbeat = 3600.0  # small_catalog's
        for device, row in offline.items():
            due = last_heard[device] + heartbeat
            assert due <= row.opened <= due + STEP, device  # at the first tick past due
        assert south_talking and not south_talking & set(_offline(platform, "south"))
    finally:
        platform.stop()


def test_configuration_changed_while_running_is_watched_from_then_on(
    new_settings: SettingsFactory,
) -> None:
    settings = new_settings(tick_seconds=0.1)
    catalog = small_catalog()
    platform = Platform(settings)
    platform.apply_catalog(catalog)
    platform.start()
    try:
        # Added while running, never heard from: offline a heartbeat after registration.
        added = Device(
            tenant="north",
            id="north.home-1.door",
            entity="north.home-1",
            kind="door",
            metrics=("contact",),
            heartbeat=HEARTBEAT,
        )
        registered = time.time()
        catalog = msgspec.structs.replace(catalog, devices=(*catalog.devices, added))
        platform.apply_catalog(catalog)
        _until(lambda: added.id in _offline(platform, "north"), "the new device's alert")
        assert _offline(platform, "north")[added.id].opened >= registered + HEARTBEAT

        # Re-configured: a device with an hour's heartbeat is told to report every 2 s.
        quick = "north.home-2.temperature"
        assert quick not in _offline(platform, "north")
        devices = tuple(
            msgspec.structs.replace(d, heartbeat=HEARTBEAT) if d.id == quick else d
            for d in catalog.devices
        )
        catalog = msgspec.structs.replace(catalog, devices=devices)
        platform.apply_catalog(catalog)
        _until(lambda: quick in _offline(platform, "north"), "the re-configured device's alert")

        # Removed: its open alert closes, its events are refused; an entity's attributes
        # reach the log in order.
        catalog = msgspec.structs.replace(
            catalog,
            devices=tuple(
                msgspec.structs.replace(d, removed=True) if d.id == added.id else d
                for d in catalog.devices
            ),
            entities=tuple(
                msgspec.structs.replace(e, attributes={"away_until": "2026-12-24"})
                if e.id == "north.home-1"
                else e
                for e in catalog.entities
            ),
        )
        platform.apply_catalog(catalog)
        _until(lambda: added.id not in _offline(platform, "north"), "the removed device's close")
        late = batch_json(reading(added.id, 1, metric="contact", value=1.0))
        refused = asyncio.run(platform.ingestor.ingest(late, tenant="north", transport="http"))
        assert [r.reason for r in refused.rejected] == ["unknown_device"]
        assert platform.wait_until_processed()
        changes = [
            r.event
            for r in _log(platform)
            if isinstance(r.event, EntityConfigured | DeviceConfigured)
        ]
        assert any(
            isinstance(e, DeviceConfigured) and e.device == added.id and e.removed for e in changes
        )
        assert any(
            isinstance(e, EntityConfigured) and e.attributes.get("away_until") == "2026-12-24"
            for e in changes
        )
    finally:
        platform.stop()

    # Recovery replays configuration: a restart keeps watching the re-configured device.
    again = Platform(settings)
    again.start()
    try:
        assert quick in _offline(again, "north")
        assert added.id not in _offline(again, "north")
    finally:
        again.stop()
