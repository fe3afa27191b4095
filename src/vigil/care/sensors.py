"""What a home's devices tell the care operators: which room or appliance is in use.

Simulated homes, Kasteren house A and Ordóñez A name their sensors differently
(``motion`` in the ``bathroom``; a ``contact`` on the ``toilet`` door; a ``pressure``
pad on the ``Bed``). One mapping turns each device's kind, location, id and metric
into a ``Channel``, so the same operators run on all of them with no special cases.

>>> channel_for("motion", "Bathroom", "h.motion-bathroom", "motion")
Channel(name='bathroom', room='bathroom', sort='motion')
>>> channel_for("contact", "entrance", "h.frontdoor", "open")
Channel(name='front_door', room='hall', sort='door')
>>> channel_for("smart_plug", "kitchen", "h.plug-kettle", "power")
Channel(name='kettle', room='kitchen', sort='appliance')
>>> channel_for("temperature", "lounge", "h.temperature-lounge", "temperature").sort
'temperature'
>>> channel_for("pir", "hall", "north.h1.motion", "x").room
'hall'
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

import msgspec

ROOMS: Final[dict[str, str]] = {
    "bathroom": "bathroom",
    "toilet": "bathroom",
    "wc": "bathroom",
    "kitchen": "kitchen",
    "lounge": "lounge",
    "living": "lounge",
    "living room": "lounge",
    "livingroom": "lounge",
    "sitting room": "lounge",
    "bedroom": "bedroom",
    "hall": "hall",
    "hallway": "hall",
    "entrance": "hall",
}
"""A location as devices name it -> the room the care operators reason about."""

LIVING_ROOMS: Final = frozenset({"kitchen", "lounge"})
"""Rooms whose use means the resident is up and about (not a night-time trip)."""

KIND_ALIASES: Final[dict[str, str]] = {
    "pir": "motion",
    "presence": "motion",
    "thermometer": "temperature",
    "magnetic": "contact",
    "reed": "contact",
    "door_contact": "contact",
    "plug": "smart_plug",
}
"""Other names installers and data sets give the same kinds of device."""

IGNORED_METRICS: Final = frozenset({"heart_rate", "steps", "battery", "rssi", "signal"})

_WORD = re.compile(r"[a-z]+")


class Channel(msgspec.Struct, frozen=True, array_like=True):
    """One thing a routine can learn: a room's motion, an appliance, the front door, the bed.

    ``sort`` is ``motion`` (a presence sensor: silence there means no movement),
    ``appliance`` (a plug or switch), ``cupboard`` (a kitchen door, fridge or
    cupboard), ``door`` (the front door), ``bed``, ``contact`` (an inner door or a
    seat), ``flush`` or ``temperature``.
    """

    name: str
    room: str
    sort: str


@lru_cache(maxsize=4096)
def room_of(location: str | None, device: str = "") -> str:
    """The room a location (or failing that, the device id) names; ``other`` if none."""
    if location:
        text = location.strip().lower()
        if text in ROOMS:
            return ROOMS[text]
        for word in _WORD.findall(text):
            if word in ROOMS:
                return ROOMS[word]
    for word in _WORD.findall(device.rpartition(".")[2].lower()):
        if word in ROOMS:
            return ROOMS[word]
    return "other"


def _appliance(device: str) -> str:
    """``'h.plug-kettle'`` -> ``'kettle'``; ``'h.cups-cupboard'`` -> ``'cups_cupboard'``."""
    words = [w for w in _WORD.findall(device.rpartition(".")[2].lower()) if w not in _NOISE]
    return "_".join(words) or "appliance"


_NOISE = frozenset({"plug", "smart", "door", "sensor", "contact", "power"})


@lru_cache(maxsize=65536)
def channel_for(kind: str, location: str | None, device: str, metric: str) -> Channel | None:
    """The channel a device's readings of ``metric`` feed, or None if care ignores them."""
    kind = KIND_ALIASES.get((kind or "").lower(), (kind or "").lower())
    metric = metric.lower()
    if metric in IGNORED_METRICS or kind in ("wearable", "gateway"):
        return None
    room = room_of(location, device)
    name = device.rpartition(".")[2].lower()
    if kind == "temperature" or metric == "temperature":
        return Channel(f"temperature_{room}", room, "temperature")
    if kind == "motion" or metric == "motion":
        return Channel(room, room, "motion")
    if kind in ("bed_pressure",) or (metric == "occupied" and "bed" in name):
        return Channel("bed", "bedroom", "bed")
    if metric == "occupied" or kind == "pressure":
        return Channel(f"{room}_seat", room, "contact")
    if kind == "flush" or metric == "flush":
        return Channel("flush", "bathroom", "flush")
    if kind in ("contact", "door") or metric in ("contact", "open"):
        if room == "hall":  # a contact in the hall or entrance is the front door
            return Channel("front_door", "hall", "door")
        if room == "kitchen" or "fridge" in name or "freezer" in name:
            return Channel(_appliance(device), room, "cupboard")
        return Channel(f"{room}_door", room, "contact")
    if kind in ("smart_plug", "power") or metric in ("power", "power_on"):
        return Channel(_appliance(device), room, "appliance")
    return None


def is_activity(channel: Channel, metric: str, value: float | str | bool) -> bool:
    """Whether a reading shows a person doing something.

    Motion detections, doors and cupboards opened or closed and the bed filled or
    left are all a person; an appliance switching off by itself (a kettle boiling)
    is not, so only power above a few watts counts.
    """
    if channel.sort == "temperature":
        return False
    if channel.sort == "motion":
        return _number(value) > 0
    if channel.sort == "appliance":
        return _number(value) > (5.0 if metric == "power" else 0.0)
    return True


def _number(value: float | str | bool) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    return 1.0 if value.strip().lower() in ("on", "open", "true", "1", "active") else 0.0
