"""Live outputs for whoever is watching: pages over server-sent events, tests, probes.

The runtime thread publishes; subscribers are asyncio queues on the web loop.
A slow subscriber loses updates (counted), never slows the runtime: live views
are conveniences, and what matters is durable in the store.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence

from vigil.engine.keyed import Emitted
from vigil.engine.operator import Output
from vigil.engine.projection_rows import LatestValue

LiveOutput = Output | LatestValue
"""What subscribers receive: an operator's live output, or a latest-value row (a
reading, as the projection now holds it)."""


class Subscription:
    def __init__(
        self, bus: LiveBus, id: int, tenant: str, entity: str | None, maxsize: int
    ) -> None:
        self.bus = bus
        self.id = id
        self.tenant = tenant
        self.entity = entity
        self.queue: asyncio.Queue[tuple[str, LiveOutput]] = asyncio.Queue(maxsize)
        self.dropped = 0

    def offer(self, operator: str, output: LiveOutput) -> None:
        if output.tenant != self.tenant:
            return
        if self.entity is not None and output.entity != self.entity:
            return
        try:
            self.queue.put_nowait((operator, output))
        except asyncio.QueueFull:
            self.dropped += 1
            self.bus.dropped += 1

    async def get(self) -> tuple[str, LiveOutput]:
        return await self.queue.get()

    def close(self) -> None:
        self.bus.unsubscribe(self)


class LiveBus:
    def __init__(self) -> None:
        self._subscriptions: dict[int, Subscription] = {}
        self._ids = itertools.count()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.dropped = 0
        """Updates not delivered, since start, because a subscriber was too slow."""

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def subscribe(
        self, tenant: str, entity: str | None = None, maxsize: int = 1000
    ) -> Subscription:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        subscription = Subscription(self, next(self._ids), tenant, entity, maxsize)
        self._subscriptions[subscription.id] = subscription
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.pop(subscription.id, None)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    def publish(self, operator: str, emitted: Sequence[Emitted]) -> None:
        """Thread-safe; a no-op when nobody is watching."""
        if not self._subscriptions or self._loop is None or self._loop.is_closed():
            return
        outputs = [item.output for item in emitted]
        self._loop.call_soon_threadsafe(self._fan_out, operator, outputs)

    def _fan_out(self, operator: str, outputs: list[LiveOutput]) -> None:
        for subscription in list(self._subscriptions.values()):
            for output in outputs:
                subscription.offer(operator, output)
