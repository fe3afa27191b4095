"""Domain-agnostic operators every deployment runs: latest values, history, device health."""

from vigil.monitoring.device_health import DeviceHealth, DeviceHealthState
from vigil.monitoring.domain import domain
from vigil.monitoring.history import Downsampler, HistoryState
from vigil.monitoring.last_value import LastValueState, LastValueTracker, SensorValue

__all__ = [
    "DeviceHealth",
    "DeviceHealthState",
    "Downsampler",
    "HistoryState",
    "LastValueState",
    "LastValueTracker",
    "SensorValue",
    "domain",
]
