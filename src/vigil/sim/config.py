"""What the synthetic region looks like: how many homes, machines and cells, and when it starts."""

from __future__ import annotations

import msgspec

from vigil.sim.anomalies import Anomaly
from vigil.sim.faults import FaultConfig

MONDAY_2026_11_02 = 1793577600.0
"""2026-11-02T00:00:00Z, a Monday: the default start, so weekdays line up with shifts."""

COMPASS = ("north", "south", "east", "west", "central")


class RegionConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The shape of the region. The same config and seed always give the same events.

    ``pendant_per_day`` and ``fall_per_day`` are chances per home per day of a help-button
    press (homes with a pendant or fall detector) and of a detected fall (homes with a
    fall detector).
    """

    seed: int = 0
    councils: int = 2
    homes_per_council: int = 16
    plant: bool = True
    lines: int = 2
    machines_per_line: int = 6
    cells: int = 3
    cell_episodes_per_day: float | None = None
    """Spells of bad radio per cell per day; None: each cell its own, 0.4 to 1.2."""
    start: float = MONDAY_2026_11_02
    faults: FaultConfig = msgspec.field(default_factory=FaultConfig)
    pendant_per_day: float = 0.02
    fall_per_day: float = 0.005
    anomalies: tuple[Anomaly, ...] = ()
    """Labelled anomalies injected into named homes (``vigil.sim.anomalies``)."""
    first_seq: int = 1
    """Every device's first sequence number. A later run against the same store starts
    above an earlier one's (``vigil simulate`` uses the start time in milliseconds), as
    a device with a persistent counter would."""

    def __post_init__(self) -> None:
        for name in ("councils", "homes_per_council", "lines", "machines_per_line"):
            if getattr(self, name) < 0:
                raise ValueError(f"RegionConfig.{name} must not be negative")
        if self.plant and self.cells < 1:
            raise ValueError("RegionConfig.cells must be at least 1 when there is a plant")
        for name in ("pendant_per_day", "fall_per_day"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"RegionConfig.{name} must be a probability in [0, 1]")

    def council_ids(self) -> list[tuple[str, str]]:
        """(id, name) per council: north, south, east, west, central, then numbered."""
        names = [*COMPASS, *(f"district-{n}" for n in range(len(COMPASS) + 1, self.councils + 1))]
        return [(f"{name}-council", f"{name.title()} Council") for name in names[: self.councils]]
