"""A home's devices: their channels, when each was last heard and when it was out.

Pure bookkeeping on ``CareState.devices``; the rules ask it what the home can see
(``has``, ``covered``) and whether a sensor was out when they judge silence.
"""

from __future__ import annotations

from vigil.care.sensors import LIVING_ROOMS, Channel, channel_for
from vigil.care.state import CareState, DeviceInfo, Today
from vigil.events import DeviceConfigured

PASSAGE = frozenset({"hall", "lounge"})
"""Rooms a person moving about at home passes through."""


def configure(state: CareState, event: DeviceConfigured) -> None:
    """Take in a device's configuration (kind, room, heartbeat), or its removal."""
    if event.removed:
        state.devices.pop(event.device, None)
        return
    info = state.devices.get(event.device) or DeviceInfo(last_seen=event.time)
    info.kind, info.location, info.heartbeat = event.kind, event.location, event.heartbeat
    info.metric = event.metrics[0] if event.metrics else "x"
    state.devices[event.device] = info


def channel_of(state: CareState, device: str, metric: str) -> Channel | None:
    """The channel a device's reading of ``metric`` is."""
    info = state.devices.get(device)
    if info is None:
        return channel_for("", None, device, metric)
    return channel_for(info.kind, info.location, device, metric)


def _channel(device: str, info: DeviceInfo) -> Channel | None:
    return channel_for(info.kind, info.location, device, info.metric)


def seen(state: CareState, device: str, time: float, online: bool | None = None) -> None:
    """The device was heard from at ``time``: a silence past its heartbeat (or an offline
    status) before it is an outage, and today teaches its channel nothing."""
    info = state.devices.get(device)
    if info is None:
        info = state.devices[device] = DeviceInfo(last_seen=time)
    silent_for = time - info.last_seen
    if info.offline or (
        info.heartbeat is not None and info.last_seen and silent_for > 1.5 * info.heartbeat
    ):
        info.outages = [*info.outages[-3:], (info.last_seen, time)]
        info.offline = False
        channel = _channel(device, info)
        today = state.today
        if channel is not None and today is not None and channel.name not in today.skip:
            today.skip = sorted({*today.skip, channel.name, f"@{channel.room}", "any"})
    if time > info.last_seen:
        info.last_seen = time
    if online is False:
        info.offline = True


def device_out(info: DeviceInfo, start: float, end: float) -> bool:
    """Whether the device was offline or silent past its heartbeat in ``[start, end]``."""
    if info.offline and info.last_seen <= end:
        return True
    late = info.heartbeat is not None and end - info.last_seen > 1.5 * info.heartbeat
    if late and info.last_seen < end:
        return True
    return any(a <= end and b >= start for a, b in info.outages)


def outage(state: CareState, room: str | None, start: float, end: float) -> bool:
    """Whether a device (of ``room``, or any if None) was out at some point in [start, end]."""
    for device, info in state.devices.items():
        if room is not None and _room_of(info, device) != room:
            continue
        if device_out(info, start, end):
            return True
    return False


def _room_of(info: DeviceInfo, device: str) -> str:
    metric = "temperature" if info.kind == "temperature" else ""
    channel = channel_for(info.kind, info.location, device, metric or "x")
    return channel.room if channel is not None else ""


def skipped(state: CareState, today: Today) -> list[str]:
    """Channels that learn nothing from this day: a device of theirs was offline or
    silent for longer than its heartbeat at some point of it."""
    names = set(today.skip)
    for device, info in state.devices.items():
        channel = _channel(device, info)
        if channel is None or channel.sort == "temperature":
            continue
        if device_out(info, today.start, today.end):
            names.update((channel.name, f"@{channel.room}", "any"))
    return sorted(names)


def channels(state: CareState) -> set[str]:
    """Every channel (and room, as ``@room``) the home's devices can show."""
    names = set()
    for device, info in state.devices.items():
        channel = _channel(device, info)
        if channel is not None and channel.sort != "temperature":
            names.update((channel.name, f"@{channel.room}"))
    return names


def has(state: CareState, *, rooms: frozenset[str] | None = None, sort: str = "") -> bool:
    """Whether the home has a device in one of ``rooms`` (of ``sort``, if given)."""
    for device, info in state.devices.items():
        channel = _channel(device, info)
        if channel is None:
            continue
        if rooms is not None and channel.room not in rooms:
            continue
        if sort and channel.sort != sort:
            continue
        return True
    return False


def covered(state: CareState) -> bool:
    """Whether a person moving about at home is seen: a motion sensor in the hall or
    lounge. Without one, a quiet home after the door (or after the bathroom) may just
    be someone sitting still, so "out", "no movement" and "possible fall" are not
    inferred from silence."""
    return has(state, rooms=PASSAGE, sort="motion")


def heard_from_living(state: CareState, now: float) -> bool:
    """Whether a living-room sensor is online and within its heartbeat at ``now``."""
    for device, info in state.devices.items():
        channel = _channel(device, info)
        living = channel is not None and channel.room in LIVING_ROOMS and not info.offline
        if living and (info.heartbeat is None or now - info.last_seen <= 1.5 * info.heartbeat):
            return True
    return False
