"""Labelled anomalies injected into simulated homes: ground truth with a known start.

Each anomaly unfolds as it would in a real home: a resident who does not get up
stays in bed (the bed stays occupied, nothing moves); a fall in the bathroom
leaves one bathroom detection and then silence; a urinary infection adds
bathroom trips to several nights; a failed boiler lets the rooms cool. The
region's ``anomalies`` are the labels a detector is scored against.

>>> from vigil.sim.config import MONDAY_2026_11_02
>>> now = MONDAY_2026_11_02 + 2 * 86400 + 15 * 3600
>>> picks = demo_anomalies("north-council", MONDAY_2026_11_02, now)
>>> sorted(set(KINDS) - {a.kind for a in picks})   # a decline takes weeks to show
['decline']
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo

import msgspec

AnomalyKind = Literal[
    "not_up",
    "bathroom_fall",
    "missed_meals",
    "night_exit",
    "night_bathroom",
    "cold_spell",
    "decline",
]
KINDS: Final[tuple[str, ...]] = (
    "not_up",
    "bathroom_fall",
    "missed_meals",
    "night_exit",
    "night_bathroom",
    "cold_spell",
    "decline",
)


class Anomaly(msgspec.Struct, frozen=True, kw_only=True):
    """``kind`` happens in home ``entity`` from ``start`` for ``hours``.

    not_up: a waking that falls in the window is put off to its end (the resident
    stays in bed); bathroom_fall: at ``start`` the resident goes to the bathroom and
    nothing moves until the end; missed_meals: no kitchen use in the window;
    night_exit: at ``start`` (at night) the resident leaves by the front door and
    is back at the end; night_bathroom: every night that begins in the window has
    ``extra`` more bathroom trips; cold_spell: the heating fails for the window;
    decline: over the window the resident slows down, to ``1 - depth`` of their usual
    vigour at its end and stays there (longer stints in the lounge, so fewer trips
    between rooms; less movement while there; fewer outings; later up, earlier to bed).
    """

    entity: str
    kind: AnomalyKind
    start: float
    hours: float
    extra: int = 5
    depth: float = 0.5

    @property
    def end(self) -> float:
        return self.start + self.hours * 3600.0

    def covers(self, time: float) -> bool:
        return self.start <= time < self.end

    def vigour(self, time: float) -> float:
        """For a decline: the share of usual activity left at ``time`` (1 before it)."""
        if time < self.start:
            return 1.0
        return 1.0 - self.depth * min(1.0, (time - self.start) / max(1.0, self.end - self.start))


LONDON = ZoneInfo("Europe/London")


def demo_anomalies(tenant: str, start: float, now: float) -> tuple[Anomaly, ...]:
    """A few homes of ``tenant`` with something a coordinator should act on by ``now``.

    Planned from ``now`` backwards so that each is under way (or just detected)
    when the demo opens; only those inside the simulated history are kept.
    """
    local_now = datetime.fromtimestamp(now, LONDON)
    morning = local_now.replace(hour=5, minute=0, second=0, microsecond=0)
    if (local_now - morning) < timedelta(hours=5):
        morning -= timedelta(days=1)
    morning_t = morning.timestamp()
    last_night = morning_t - 2.5 * 3600  # 02:30
    still = (now - morning_t) / 3600 + 12.0
    # A fall while the resident is up and about: 75 minutes ago, or at 15:00 if that
    # was in the night or the early morning.
    fall = now - 75 * 60
    if not 10 <= datetime.fromtimestamp(fall, LONDON).hour < 21:
        afternoon = local_now.replace(hour=15, minute=0, second=0, microsecond=0)
        if afternoon > local_now:
            afternoon -= timedelta(days=1)
        fall = afternoon.timestamp()

    def home(number: int) -> str:
        return f"{tenant}.home-{number:02d}"

    planned = [
        Anomaly(entity=home(3), kind="not_up", start=morning_t, hours=still),
        Anomaly(entity=home(5), kind="bathroom_fall", start=fall, hours=(now - fall) / 3600 + 6),
        Anomaly(entity=home(7), kind="missed_meals", start=morning_t, hours=30.0),
        Anomaly(
            entity=home(9),
            kind="night_exit",
            start=last_night,
            hours=(now - last_night) / 3600 + 12,
        ),
        Anomaly(
            entity=home(11),
            kind="night_bathroom",
            start=morning_t - 2 * 86400 + 10 * 3600,
            hours=72.0,
        ),
        Anomaly(entity=home(13), kind="cold_spell", start=now - 9 * 3600, hours=48.0),
    ]
    return tuple(a for a in planned if a.start >= start - 86400)
