"""Device classes, their service levels, and the arithmetic of 3GPP TS 22.104.

TS 22.104 judges a communication service by what the application sees:

- **survival time**: how long the application can go on without an expected
  message before it must react (a motion controller stops the axis). A gap in
  the messages longer than the survival time is a *survival-time violation*;
- **communication service availability**: the fraction of time the service
  meets its agreed QoS. The service counts as unavailable only once a gap has
  lasted longer than the survival time, so a gap of length ``g`` costs
  ``g - survival`` seconds of availability (nothing if ``g <= survival``).

Vigil sees a link through what its device reports every few seconds, so it
counts as a gap both a silence (no report, the link lost) and a report whose
latency or packet loss breaks the class's bound (messages not delivered in
time). The functions here are pure: intervals in, seconds and fractions out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

Interval = tuple[float, float]


class ServiceLevel(msgspec.Struct, frozen=True, kw_only=True):
    """What one class of device needs of its link (a row of the plant's configuration)."""

    title: str
    availability: float
    """Communication service availability to meet, as a fraction (0.9999 = 99.99 %)."""
    survival_seconds: float
    """How long the application tolerates missing messages."""
    max_latency_ms: float
    """A report with a higher latency counts as messages not delivered in time."""
    max_loss_pct: float
    """A report with more packet loss counts the same way."""


DEFAULT_SERVICE_LEVELS: dict[str, ServiceLevel] = {
    "motion": ServiceLevel(
        title="PLC and motion control",
        availability=0.999999,
        survival_seconds=0.010,
        max_latency_ms=20.0,
        max_loss_pct=0.01,
    ),
    "agv": ServiceLevel(
        title="AGVs and mobile robots",
        availability=0.99999,
        survival_seconds=0.100,
        max_latency_ms=50.0,
        max_loss_pct=0.1,
    ),
    "sensor": ServiceLevel(
        title="condition and process sensors",
        availability=0.9999,
        survival_seconds=3.0,
        max_latency_ms=100.0,
        max_loss_pct=1.0,
    ),
    "video": ServiceLevel(
        title="video and machine vision",
        availability=0.999,
        survival_seconds=0.5,
        max_latency_ms=150.0,
        max_loss_pct=2.0,
    ),
}
"""Defaults for a car plant, within the ranges of TS 22.104's tables for motion
control, mobile robots, process monitoring and video (the plant sets its own)."""

KIND_CLASSES = {"machine": "motion", "agv": "agv", "robot": "agv", "camera": "video"}
"""The class of an entity that names none (``link_class`` attribute), by its kind."""


def class_of(kind: str, attributes: Mapping[str, Any], levels: Mapping[str, ServiceLevel]) -> str:
    """The device class of an entity's link: its ``link_class`` attribute, else by kind."""
    named = attributes.get("link_class")
    if isinstance(named, str) and named in levels:
        return named
    found = KIND_CLASSES.get(kind, "sensor")
    return found if found in levels else next(iter(levels), "sensor")


def percent_text(fraction: float) -> str:
    """99.99 % as ``99.99%``, 99.9999 % as ``99.9999%``: as many digits as the nines need."""
    text = f"{100 * fraction:.6f}".rstrip("0").rstrip(".")
    return f"{text}%"


def unavailable(gaps: Iterable[Interval], survival: float) -> list[Interval]:
    """The unavailable part of each gap: what is left after the survival time."""
    return [(begin + survival, end) for begin, end in gaps if end - begin > survival]


def covered(intervals: Iterable[Interval], begin: float, end: float) -> float:
    """Seconds of ``[begin, end)`` inside the union of ``intervals``."""
    total, reach = 0.0, begin
    for start, stop in sorted(intervals):
        start, stop = max(start, reach), min(stop, end)
        if stop > start:
            total += stop - start
            reach = stop
    return total


def availability(
    gaps: Iterable[Interval], begin: float, end: float, survival: float
) -> float | None:
    """Communication service availability over ``[begin, end)``: None for no time."""
    if end <= begin:
        return None
    return 1.0 - covered(unavailable(gaps, survival), begin, end) / (end - begin)


def violations(gaps: Iterable[Interval], survival: float, since: float) -> int:
    """Survival-time violations: gaps longer than the survival time, ended after ``since``."""
    return sum(1 for begin, end in gaps if end - begin > survival and end > since)


def duration(seconds: float) -> str:
    """``4 min 12 s``, ``1 h 05 min``, ``40 s``: how long a link was down, in words."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {(whole % 3600) // 60:02d} min"
