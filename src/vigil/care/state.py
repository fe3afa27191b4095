"""A home's state as the care operator keeps it: what a checkpoint holds.

The field names and their order are the checkpoint format (``msgspec``; the array-like
structs by position): add at the end, never rename or reorder.
"""

from __future__ import annotations

from datetime import tzinfo

import msgspec

from vigil.care import routine as routines
from vigil.care.localtime import zone


class DeviceInfo(msgspec.Struct, array_like=True, gc=False):
    kind: str = ""
    location: str | None = None
    metric: str = "x"
    """The first metric the device declares (what kind of channel it is, when its kind
    alone does not say)."""
    heartbeat: float | None = None
    last_seen: float = 0.0
    offline: bool = False
    outages: list[tuple[float, float]] = []
    """Recent spans in which the device was silent or said it was offline."""


class DayRecord(msgspec.Struct, kw_only=True, gc=False):
    """One care day's indicators. Hours are local; after midnight they run on past 24."""

    day: str
    weekend: bool
    up: float | None = None
    bed: float | None = None
    night_bathroom: int | None = None
    """Bathroom visits in the night that ended this morning (None: not known)."""
    kitchen_bins: int = 0
    kitchen_by: list[int] = []
    """Kitchen quarter-hours before each of 11:00 ... 21:00."""
    home_by: list[int] = []
    """Quarter-hours about at home (``vigil.care.day.home_bins``) before each of 11:00 ...
    21:00: the time kitchen use is judged against."""
    active_bins: int = 0
    events: int = 0
    moves: int = 0
    out_minutes: float = 0.0
    min_temperature: float | None = None
    longest_bathroom_minutes: float = 0.0
    complete: bool = False
    away: bool = False


class Today(msgspec.Struct, kw_only=True, gc=False, omit_defaults=True):
    record: DayRecord
    start: float
    end: float
    observed_from: float
    active: dict[str, list[int]] = {}
    out_bins: list[int] = []
    skip: list[str] = []
    up_at: float | None = None
    about_at: float | None = None
    """The start of the first sustained activity after ``earliest_up`` (15 min or more, or
    the living rooms), the bed empty: about, even before the usual signs of getting up."""
    unseen: list[int] = []
    """Quarter-hours between the front door and the door again with nothing indoors
    between (out, in a home whose sensors cannot see it)."""
    deadline: tuple[float, float, float] | None = None
    """(usually up by, margin, deadline): depends only on earlier days, so kept."""


class Opened(msgspec.Struct, array_like=True, gc=False):
    key: str
    since: float
    message: str
    next_update: float | None = None
    severity: str = "warning"


class CareState(msgspec.Struct, gc=False, omit_defaults=True):
    tenant: str = ""
    entity: str = ""
    kind: str = ""
    """The entity's kind once configured; anything but a home is ignored."""
    time_zone: str = ""
    away_until: float | None = None
    away: bool = False
    devices: dict[str, DeviceInfo] = {}
    routine: routines.Routine = msgspec.field(default_factory=routines.Routine)
    history: list[DayRecord] = []
    today: Today | None = None
    last_activity: float = 0.0
    run_start: float = 0.0
    """When the current run of activity began (no gap of 30 min since)."""
    last_room: str = ""
    last_sort: str = ""
    in_bed: bool | None = None
    bed_doubt: float | None = None
    """First activity in the living rooms while the bed said it was occupied."""
    bathroom_start: float | None = None
    bathroom_last: float = 0.0
    night_since: float = 0.0
    """When the resident was last about in the living rooms: the night starts there."""
    night_visits: list[float] = []
    door_at: float | None = None
    exit_pending: bool = False
    last_inside: float = 0.0
    """Last activity at home other than the front door."""
    out_since: float | None = None
    temperatures: dict[str, tuple[float, float]] = {}
    """Room -> (time, °C) of its latest reading."""
    cold_since: float | None = None
    cold_last: float = 0.0
    """When a room was last below the cold threshold."""
    open: dict[str, Opened] = {}
    due: float | None = None


def home_zone(state: CareState, default: str) -> tzinfo:
    """The home's time zone: its ``time_zone`` attribute, else ``default``."""
    return zone(state.time_zone or default)
