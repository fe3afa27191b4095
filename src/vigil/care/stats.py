"""Order statistics shared by the care rules and the resident page."""

from __future__ import annotations

from collections.abc import Sequence


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0 to 1) by linear interpolation between order statistics.

    >>> quantile([1.0, 2.0, 3.0, 4.0, 5.0], 0.2)
    1.8
    >>> quantile([3.0, 1.0], 0.5)
    2.0
    """
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
