"""The synthetic region: councils' homes and a plant, merged into one time-ordered stream."""

from __future__ import annotations

import heapq
from collections.abc import Iterator

from vigil.catalog import Catalog, Device, Entity, Tenant
from vigil.events import Alarm, DeviceStatus, Event, Reading
from vigil.sim.config import RegionConfig
from vigil.sim.devices import ALARM, READING, Batch, Sensor, Source
from vigil.sim.faults import returns
from vigil.sim.homes import Home, build_home
from vigil.sim.plant import Machine, build_plant
from vigil.sim.weather import Weather

PLANT_TENANT = "plant"

_Entry = tuple[float, int, list, Source]


class Region:
    """A deterministic region of homes and a plant that runs faster than real time.

    Every home, machine and cell is its own seeded source; ``events`` merges them
    by event time. The region keeps its place, so successive calls continue the
    same stream: ``events(t1)`` then ``events(t2)`` gives what ``events(t2)`` alone
    would have.

    >>> config = RegionConfig(seed=7, homes_per_council=2, lines=1, machines_per_line=2, cells=1)
    >>> region = Region(config)
    >>> sorted(tenant.id for tenant in region.catalog().tenants)
    ['north-council', 'plant', 'south-council']
    >>> first_hour = list(region.events(until=region.config.start + 3600))
    >>> all(a.timestamp <= b.timestamp for a, b in zip(first_hour, first_hour[1:]))
    True
    >>> next_hour = next(region.events(until=region.config.start + 7200))
    >>> next_hour.timestamp >= region.config.start + 3600
    True
    """

    def __init__(self, config: RegionConfig | None = None) -> None:
        self.config = config = config if config is not None else RegionConfig()
        self.weather = Weather(config.seed)
        self.homes: list[Home] = []
        self.machines: list[Machine] = []
        tenants: list[Tenant] = []
        entities: list[Entity] = []
        devices: list[Device] = []
        sensors: list[Sensor] = []
        sources: list[Source] = []

        for council, (tenant_id, name) in enumerate(config.council_ids()):
            tenants.append(Tenant(id=tenant_id, name=name, kind="council"))
            for index in range(config.homes_per_council):
                home, routine = build_home(config, self.weather, tenant_id, council, index)
                self.homes.append(home)
                entities.append(home.entity)
                devices.extend(home.devices)
                sensors.extend(home.sensors)
                sources.append(home.source(routine))
        if config.plant:
            tenants.append(Tenant(id=PLANT_TENANT, name="Plant", kind="plant"))
            lines, cells, machines = build_plant(config, PLANT_TENANT)
            self.machines = machines
            entities.extend(lines)
            for cell in cells:
                entities.append(cell.entity)
                devices.append(cell.device)
                sensors.append(cell.sensor)
                sources.append(cell.source())
            for machine in machines:
                entities.append(machine.entity)
                devices.extend(machine.devices)
                sensors.extend(machine.sensors)
                sources.append(machine.source())
        sources.append(returns(sensors, config.start))

        self._catalog = Catalog(
            tenants=tuple(tenants), entities=tuple(entities), devices=tuple(devices)
        )
        self._sensors = sensors
        for sensor in sensors:
            sensor.seq = config.first_seq - 1
        self._heap: list[_Entry] = []
        for order, source in enumerate(sources):
            self._push(order, source)
        self._pending: Batch | None = None
        self._until = config.start

    def catalog(self) -> Catalog:
        """Every tenant, entity and device that can appear in ``events``."""
        return self._catalog

    @property
    def until(self) -> float:
        """Event time the stream has reached: everything before it has been produced."""
        return self._until

    def events(self, until: float) -> Iterator[Event]:
        """Events with ``time < until``, in non-decreasing time, continuing from the last call.

        Ties are broken by a fixed source order, so the stream is fully deterministic.
        Stop iterating early (closing or dropping the iterator) and the next call resumes
        with the first event not yet yielded. One iterator at a time per region.
        """
        heap = self._heap
        while True:
            if self._pending is not None:
                if self._pending[0] >= until:
                    break
                time, items = self._pending
                self._pending = None
            elif heap and heap[0][0] < until:
                time, order, items, source = heap[0]
                following = next(source, None)
                if following is None:
                    heapq.heappop(heap)
                else:
                    heapq.heapreplace(heap, (following[0], order, following[1], source))
            else:
                break
            done = 0
            try:
                for item in items:
                    done += 1
                    event = _build(time, item)
                    if event is not None:
                        yield event
            finally:
                if done < len(items):
                    self._pending = (time, items[done:])
            self._until = max(self._until, time)
        self._until = max(self._until, until)

    def _push(self, order: int, source: Source) -> None:
        first = next(source, None)
        if first is not None:
            heapq.heappush(self._heap, (first[0], order, first[1], source))


def _build(time: float, item: tuple) -> Event | None:
    """Turn a source's item into an event: silence offline devices, then number it."""
    sensor, kind, a, b, c = item
    if time >= sensor.off_from:
        if time >= sensor.off_to:
            sensor.advance_offline(time)
        if sensor.off_from <= time < sensor.off_to:
            return None
    sensor.seq += 1
    if kind == READING:
        return Reading(
            tenant=sensor.tenant,
            device=sensor.id,
            entity=sensor.entity,
            seq=sensor.seq,
            time=time,
            metric=a,
            value=b,
            unit=c,
        )
    if kind == ALARM:
        return Alarm(
            tenant=sensor.tenant,
            device=sensor.id,
            entity=sensor.entity,
            seq=sensor.seq,
            time=time,
            alarm=a,
            severity=b,
            detail=c,
        )
    return DeviceStatus(
        tenant=sensor.tenant,
        device=sensor.id,
        entity=sensor.entity,
        seq=sensor.seq,
        time=time,
        battery=a,
        signal_dbm=b,
        online=c,
    )
