"""Tenants, entities and devices as the store keeps them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import msgspec
from sqlalchemy import Engine, func, select

from vigil.catalog import Catalog, Device, Entity, Tenant
from vigil.errors import NotFound
from vigil.store.schema import devices, entities, tenants
from vigil.store.upsert import upsert


class DeviceRef(msgspec.Struct, frozen=True, gc=False):
    """What ingest needs to know about a device to accept its events."""

    tenant: str
    device: str
    entity: str
    device_number: int
    entity_number: int


class RegistryRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def apply(self, catalog: Catalog) -> None:
        """Create or update everything in ``catalog``; existing numbers are kept, and
        the database numbers new entities and devices (an identity column)."""
        with self.engine.begin() as connection:
            upsert(
                connection,
                tenants,
                [msgspec.structs.asdict(t) for t in catalog.tenants],
                keys=("id",),
                update=("name", "kind"),
            )
            for table, items, fields in (
                (entities, catalog.entities, ("kind", "name", "parent", "attributes")),
                (
                    devices,
                    catalog.devices,
                    ("entity", "kind", "location", "metrics", "heartbeat", "removed"),
                ),
            ):
                rows = []
                for item in items:
                    row = msgspec.structs.asdict(item)
                    if "metrics" in row:
                        row["metrics"] = list(row["metrics"])
                    rows.append(row)
                upsert(connection, table, rows, keys=("tenant", "id"), update=fields)

    def snapshot(self, tenant_ids: Iterable[str]) -> Catalog:
        """The entities and devices of these tenants as registered now."""
        wanted = sorted(set(tenant_ids))
        with self.engine.connect() as connection:
            entity_rows = (
                connection.execute(select(entities).where(entities.c.tenant.in_(wanted)))
                .mappings()
                .all()
            )
            device_rows = (
                connection.execute(select(devices).where(devices.c.tenant.in_(wanted)))
                .mappings()
                .all()
            )
        return Catalog(
            entities=tuple(_entity(row) for row in entity_rows),
            devices=tuple(_device(row) for row in device_rows),
        )

    def tenants(self) -> list[Tenant]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(tenants).order_by(tenants.c.id)).mappings()
            return [Tenant(**row) for row in rows]

    def tenant(self, tenant: str) -> Tenant:
        with self.engine.connect() as connection:
            row = connection.execute(select(tenants).where(tenants.c.id == tenant)).mappings()
            found = row.first()
        if found is None:
            raise NotFound(f"no tenant {tenant!r}")
        return Tenant(**found)

    def entities(self, tenant: str, kind: str | None = None) -> list[Entity]:
        query = select(entities).where(entities.c.tenant == tenant).order_by(entities.c.id)
        if kind is not None:
            query = query.where(entities.c.kind == kind)
        with self.engine.connect() as connection:
            return [_entity(row) for row in connection.execute(query).mappings()]

    def entity_kinds(self, tenant: str) -> dict[str, int]:
        """How many entities of each kind the tenant has."""
        query = (
            select(entities.c.kind, func.count())
            .where(entities.c.tenant == tenant)
            .group_by(entities.c.kind)
        )
        with self.engine.connect() as connection:
            return dict(connection.execute(query).all())  # type: ignore[arg-type]

    def has_entities_of(self, tenant: str, kinds: Sequence[str]) -> bool:
        """Whether the tenant has any entity of ``kinds``: one index probe, where
        ``entity_kinds`` counts them all (every page's navigation asks this)."""
        query = (
            select(entities.c.id)
            .where(entities.c.tenant == tenant, entities.c.kind.in_(list(kinds)))
            .limit(1)
        )
        with self.engine.connect() as connection:
            return connection.execute(query).first() is not None

    def entity_page(
        self, tenant: str, kinds: Sequence[str], *, limit: int, offset: int = 0
    ) -> tuple[list[Entity], int]:
        """One page of the tenant's entities of ``kinds`` by name, and how many there are."""
        where = (entities.c.tenant == tenant) & entities.c.kind.in_(list(kinds))
        query = (
            select(entities)
            .where(where)
            .order_by(entities.c.name, entities.c.id)
            .limit(limit)
            .offset(offset)
        )
        with self.engine.connect() as connection:
            rows = [_entity(row) for row in connection.execute(query).mappings()]
            total = connection.execute(select(func.count()).select_from(entities).where(where))
            return rows, total.scalar_one()

    def entity_names(
        self, tenant: str, ids: Iterable[str], *, kinds: Sequence[str] | None = None
    ) -> dict[str, str]:
        """Names of these entities (of ``kinds``, if given)."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        query = select(entities.c.id, entities.c.name).where(
            entities.c.tenant == tenant, entities.c.id.in_(wanted)
        )
        if kinds is not None:
            query = query.where(entities.c.kind.in_(list(kinds)))
        with self.engine.connect() as connection:
            return dict(connection.execute(query).all())  # type: ignore[arg-type]

    def children(self, tenant: str, parent: str) -> list[Entity]:
        """Entities whose parent is ``parent`` (a line's machines)."""
        query = (
            select(entities)
            .where(entities.c.tenant == tenant, entities.c.parent == parent)
            .order_by(entities.c.name)
        )
        with self.engine.connect() as connection:
            return [_entity(row) for row in connection.execute(query).mappings()]

    def entity(self, tenant: str, entity_id: str) -> Entity:
        query = select(entities).where(entities.c.tenant == tenant, entities.c.id == entity_id)
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        if row is None:
            raise NotFound(f"no entity {entity_id!r}")
        return _entity(row)

    def devices(self, tenant: str, entity: str | None = None) -> list[Device]:
        """The devices in service (removed ones are kept, but not listed)."""
        query = (
            select(devices)
            .where(devices.c.tenant == tenant, devices.c.removed.is_(False))
            .order_by(devices.c.id)
        )
        if entity is not None:
            query = query.where(devices.c.entity == entity)
        with self.engine.connect() as connection:
            return [_device(row) for row in connection.execute(query).mappings()]

    def device_refs(self) -> Iterable[DeviceRef]:
        query = select(
            devices.c.tenant, devices.c.id, devices.c.entity, devices.c.number, entities.c.number
        ).join(
            entities, (entities.c.tenant == devices.c.tenant) & (entities.c.id == devices.c.entity)
        )
        query = query.where(devices.c.removed.is_(False))  # ingest knows only those in service
        with self.engine.connect() as connection:
            return [DeviceRef(*row) for row in connection.execute(query)]


def _entity(row: object) -> Entity:
    data = dict(row)  # type: ignore[call-overload]
    data.pop("number")
    return Entity(**data)


def _device(row: object) -> Device:
    data = dict(row)  # type: ignore[call-overload]
    data.pop("number")
    data["metrics"] = tuple(data["metrics"])
    return Device(**data)
