"""What pages show of an entity's readings: latest value and recent trend per sensor.

Both come from the ``last_value`` operator's state rather than from an index on
the log (see ``vigil.signals.last_value``); these are their shapes.
"""

from __future__ import annotations

import msgspec


class LatestValue(msgspec.Struct, frozen=True):
    device: str
    metric: str
    value: float | None
    text: str | None
    time: float
    unit: str | None = None


class HistoryPoint(msgspec.Struct, frozen=True):
    """One trend bucket: the mean of a sensor's readings around ``time``."""

    time: float
    device: str
    metric: str
    value: float
