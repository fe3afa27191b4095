"""The domain every deployment runs: latest values, history, device health."""

from __future__ import annotations

from typing import Any

from vigil.config import Settings
from vigil.domains import Domain
from vigil.engine.operator import KeyedOperator
from vigil.monitoring.device_health import CONDITION_KINDS, DeviceHealth
from vigil.monitoring.history import Downsampler
from vigil.monitoring.last_value import LastValueTracker


def operators(settings: Settings) -> list[KeyedOperator[Any]]:
    return [LastValueTracker(), Downsampler(), DeviceHealth()]


domain = Domain(
    name="monitoring",
    description="Latest values, downsampled history and device health, for any tenant.",
    operators=operators,
    condition_kinds=CONDITION_KINDS,
)
