"""A synthetic region for Vigil: councils' homes with TEC sensors, and a plant on private 5G.

Deterministic (everything comes from ``RegionConfig.seed``), faster than real
time, and free of I/O and wall-clock reads, so demos, tests and benchmarks can
all replay exactly the same week.

>>> from vigil.sim import Region, RegionConfig
>>> region = Region(RegionConfig(seed=1, homes_per_council=1, plant=False))
>>> [e.id for e in region.catalog().entities]
['north-council.home-01', 'south-council.home-01']
"""

from vigil.sim.anomalies import Anomaly, demo_anomalies
from vigil.sim.config import RegionConfig
from vigil.sim.faults import FaultConfig
from vigil.sim.region import Region
from vigil.sim.routine import Resident

__all__ = ["Anomaly", "FaultConfig", "Region", "RegionConfig", "Resident", "demo_anomalies"]
