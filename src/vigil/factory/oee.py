"""OEE arithmetic per ISO 22400-2, shared by the machine and the line operators.

- planned busy time (PBT): shift time less planned stops (breaks, planned maintenance);
- actual production time (APT): PBT less unplanned downtime (stops, setups, idling).
  Microstops, stops shorter than a threshold, stay in APT: they are a loss of speed
  (performance), not of availability, as the six big losses count them;
- availability = APT / PBT; performance = ideal cycle time x produced / APT;
  quality = good / produced; OEE = availability x performance x quality.

>>> figures = oee_figures(planned_busy=27000.0, production=24300.0, ideal=22800.0,
...                       produced=380, good=370)
>>> {k: round(v, 4) for k, v in figures.items()}
{'availability': 0.9, 'performance': 0.9383, 'quality': 0.9737, 'oee': 0.8222}
"""

from __future__ import annotations

import math


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or None when it is undefined or not finite."""
    if denominator <= 0 or not math.isfinite(denominator) or not math.isfinite(numerator):
        return None
    value = numerator / denominator
    return value if math.isfinite(value) else None


def oee_figures(
    *, planned_busy: float, production: float, ideal: float | None, produced: float, good: float
) -> dict[str, float | None]:
    """Availability, performance, quality and OEE (fractions; None where undefined)."""
    availability = ratio(production, planned_busy)
    performance = ratio(ideal, production) if ideal is not None else None
    quality = ratio(min(good, produced), produced)
    oee = None
    if availability is not None and performance is not None and quality is not None:
        oee = availability * performance * quality
    elif availability is not None and produced == 0 and ideal is not None:
        oee = 0.0  # planned to run and made nothing
    return {
        "availability": availability,
        "performance": performance,
        "quality": quality,
        "oee": oee,
    }


def percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def minutes(seconds: float) -> str:
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
