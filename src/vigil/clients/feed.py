"""One pacing loop for the simulator and for replays, whatever the transport."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Iterable
from typing import Protocol, TextIO

from vigil.events import Event


class EventSink(Protocol):
    """Where a feed sends its events. ``send`` returns once they are acknowledged."""

    async def send(self, events: list[Event]) -> None: ...

    async def close(self) -> None: ...


class FeedProgress:
    """A one-line progress report on a terminal, at most a few times a second."""

    def __init__(self, label: str, *, total_seconds: float, stream: TextIO = sys.stderr) -> None:
        self.label = label
        self.total = max(total_seconds, 1e-9)
        self.stream = stream
        self.events = 0
        self._shown = 0.0
        self._started = time.monotonic()

    def update(self, events: int, done_seconds: float) -> None:
        self.events += events
        now = time.monotonic()
        if now - self._shown < 0.25:
            return
        self._shown = now
        fraction = min(max(done_seconds / self.total, 0.0), 1.0)
        bar = "#" * int(fraction * 30)
        rate = self.events / max(now - self._started, 1e-9)
        self.stream.write(
            f"\r{self.label} [{bar:<30}] {fraction:6.1%}  {self.events:,} events  {rate:,.0f}/s"
        )
        self.stream.flush()

    def finish(self) -> None:
        elapsed = time.monotonic() - self._started
        self.stream.write(
            f"\r{self.label} [{'#' * 30}] 100.0%  {self.events:,} events in {elapsed:.1f} s\n"
        )
        self.stream.flush()


async def feed(
    events: Iterable[Event],
    sink: EventSink,
    *,
    batch_size: int = 1000,
    speed: float = 0.0,
    start: float | None = None,
    clock: Callable[[], float] = time.time,
    progress: FeedProgress | None = None,
    concurrency: int = 1,
) -> int:
    """Send ``events`` (in time order) through ``sink``; returns how many were sent.

    ``speed`` 0 sends as fast as the sink acknowledges; otherwise event time
    advances ``speed`` seconds per wall-clock second from the first event, and
    nothing is sent before its time has come. ``concurrency`` above 1 lets batches
    overtake each other, so use it only when batches share no device: a device's
    events must arrive in sequence order.
    """
    sent = 0
    first_time: float | None = None
    wall_start = clock()
    pending: set[asyncio.Task[None]] = set()
    batch: list[Event] = []

    async def flush() -> None:
        nonlocal batch
        if not batch:
            return
        while len(pending) >= concurrency:
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        task = asyncio.create_task(sink.send(batch))
        pending.add(task)
        task.add_done_callback(pending.discard)
        batch = []

    for event in events:
        timestamp = event.timestamp
        if first_time is None:
            first_time = timestamp if start is None else start
        if speed > 0:
            due = wall_start + (timestamp - first_time) / speed
            delay = due - clock()
            if delay > 0:
                await flush()
                await asyncio.sleep(delay)
        batch.append(event)
        sent += 1
        if progress is not None:
            progress.update(1, timestamp - first_time)
        if len(batch) >= batch_size:
            await flush()
    await flush()
    if pending:
        for result in await asyncio.gather(*pending, return_exceptions=True):
            if isinstance(result, BaseException):
                raise result
    return sent
