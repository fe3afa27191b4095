"""Domain-agnostic operators every deployment runs: latest values and device health."""

from vigil.signals.device_health import RECOVERY_OF, DeviceHealth, DeviceHealthState
from vigil.signals.last_value import LastValueState, LastValueTracker, SensorValue, TrendBucket

__all__ = [
    "RECOVERY_OF",
    "DeviceHealth",
    "DeviceHealthState",
    "LastValueState",
    "LastValueTracker",
    "SensorValue",
    "TrendBucket",
]
