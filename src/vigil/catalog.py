"""What the platform knows exists: tenants, the entities they look after, and devices.

Domain-agnostic on purpose: a care home and a press line are both an ``Entity``
with a ``kind``; the domain packages give the kinds meaning.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from vigil.events import Identifier

TenantKind = Annotated[str, msgspec.Meta(min_length=1, max_length=16, pattern=r"^[a-z_]+$")]
"""What kind of organisation a tenant is; the installed domains say which kinds exist."""
AttributeValue = str | float | int | bool | None


class Tenant(msgspec.Struct, kw_only=True, frozen=True):
    id: Identifier
    name: str
    kind: TenantKind


class Entity(msgspec.Struct, kw_only=True, frozen=True):
    """A thing the platform watches: a home, a machine, a line, a 5G cell."""

    tenant: Identifier
    id: Identifier
    kind: str
    name: str
    parent: str | None = None
    attributes: dict[str, AttributeValue] = {}


class Device(msgspec.Struct, kw_only=True, frozen=True):
    """A sensor or gateway that sends events about one entity.

    ``heartbeat`` is the longest the device should stay silent, in seconds; the
    device-health operator calls it offline after that. A ``removed`` device is out
    of service: its events are refused as from an unknown device and its alerts
    close; its row stays, so the log's history of it still reads.
    """

    tenant: Identifier
    id: Identifier
    entity: Identifier
    kind: str
    location: str | None = None
    metrics: tuple[str, ...] = ()
    heartbeat: float | None = None
    removed: bool = False


class Catalog(msgspec.Struct, kw_only=True, frozen=True):
    tenants: tuple[Tenant, ...] = ()
    entities: tuple[Entity, ...] = ()
    devices: tuple[Device, ...] = ()
