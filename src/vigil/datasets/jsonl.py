"""Recorded streams in Vigil's own wire schema: one event JSON object per line.

For data sets recorded from live devices (or exported from the event log): no
conversion needed, so reading is decoding, and writing is what ``read_jsonl``
reads back unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import msgspec

from vigil.datasets.home import time_shift
from vigil.errors import MalformedPayload
from vigil.events import Event, decode_event_json, encode_json


def read_jsonl(
    path: Path,
    *,
    shift_to: float | None = None,
    keep_time_of_day: bool = False,
) -> list[Event]:
    """Decode every non-blank line to an ``Event``, sorted by time (file order on ties).

    Events are kept as recorded (``seq`` included); ``shift_to`` moves them like
    the ADL readers do, and then gives every time as epoch seconds.
    """
    events: list[Event] = []
    with Path(path).open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                events.append(decode_event_json(line))
            except msgspec.DecodeError as err:
                raise MalformedPayload(f"{path}:{number}: {err}") from err
    events.sort(key=lambda e: e.timestamp)
    if shift_to is not None and events:
        move = time_shift(events[-1].timestamp, shift_to, keep_time_of_day=keep_time_of_day)
        events = [msgspec.structs.replace(e, time=move(e.timestamp)) for e in events]
    return events


def write_jsonl(events: Iterable[Event], path: Path) -> int:
    """Write one event per line; returns how many were written."""
    count = 0
    with Path(path).open("wb") as out:
        for event in events:
            out.write(encode_json(event) + b"\n")
            count += 1
    return count
