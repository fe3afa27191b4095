"""How a domain plugs into the platform: one ``Domain`` object, found by entry point.

A domain package (care, factory, ...) declares in one place what it adds: its
operators, the kinds of tenant and entity it knows, its list pages and navigation,
its routers, the condition kinds it raises and the demo's sign-in roles. It
registers the object under the ``vigil.domains`` entry point::

    [project.entry-points."vigil.domains"]
    care = "vigil.care:domain"

Core code (engine, store, transports, web) names no domain: it asks the
registered ones. A domain depends on the narrow things it uses -- the engine's
operator model, the events, and for its routes ``vigil.web.api`` -- never on SQL,
the store or the web's internals (import-linter contracts in ``pyproject.toml``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from vigil.config import Settings
from vigil.engine.operator import KeyedOperator

ENTRY_POINT_GROUP = "vigil.domains"

OperatorsFactory = Callable[[Settings], Sequence[KeyedOperator[Any]]]


@dataclass(frozen=True, kw_only=True)
class Column:
    """A column of a list page: each entity's latest value of ``metric`` from ``device``
    (a sensor, or the name operators write their derived values under)."""

    title: str
    device: str
    metric: str


@dataclass(frozen=True, kw_only=True)
class EntityList:
    """A list page: ``/slug`` shows entities of ``kinds``, for tenants of ``tenant_kinds``."""

    slug: str
    title: str
    kinds: tuple[str, ...]
    tenant_kinds: tuple[str, ...]
    columns: tuple[Column, ...] = ()
    """Latest values shown beside each entity (all columns read one device)."""


@dataclass(frozen=True, kw_only=True)
class NavLink:
    """A page of the domain in the navigation, for tenants of ``tenant_kinds``."""

    href: str
    title: str
    tenant_kinds: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Domain:
    name: str
    description: str = ""
    tenant_kinds: tuple[str, ...] = ()
    """Kinds of tenant this domain serves (a council, a plant)."""
    entity_kinds: dict[str, str] = field(default_factory=dict)
    """Entity kind -> what it is, in words."""
    operators: OperatorsFactory | None = None
    lists: tuple[EntityList, ...] = ()
    navigation: tuple[NavLink, ...] = ()
    """Pages of the domain's own routers that the navigation links to."""
    routers: tuple[Any, ...] = ()
    """FastAPI routers the web app includes (pages and API of the domain)."""
    condition_kinds: dict[str, str] = field(default_factory=dict)
    demo_roles: dict[str, str] = field(default_factory=dict)
    """Tenant kind -> the role a demo sign-in gets for it."""
    simulator: Callable[..., Any] | None = None
    """Builds the domain's part of the simulated region (optional)."""


class DomainRegistry:
    """The registered domains, in name order."""

    def __init__(self, domains: Iterable[Domain]) -> None:
        ordered = sorted(domains, key=lambda domain: domain.name)
        names = [domain.name for domain in ordered]
        if len(set(names)) != len(names):
            raise ValueError(f"two domains share a name: {names}")
        self.domains: tuple[Domain, ...] = tuple(ordered)

    @classmethod
    def discover(cls) -> DomainRegistry:
        """Every domain installed under the ``vigil.domains`` entry point."""
        found = []
        for point in entry_points(group=ENTRY_POINT_GROUP):
            domain = point.load()
            if not isinstance(domain, Domain):
                raise TypeError(f"entry point {point.name!r} is not a vigil Domain: {domain!r}")
            found.append(domain)
        return cls(found)

    def operators(self, settings: Settings) -> list[KeyedOperator[Any]]:
        return [
            operator
            for domain in self.domains
            if domain.operators is not None
            for operator in domain.operators(settings)
        ]

    @property
    def tenant_kinds(self) -> tuple[str, ...]:
        return tuple(sorted({kind for d in self.domains for kind in d.tenant_kinds}))

    @property
    def lists(self) -> tuple[EntityList, ...]:
        return tuple(item for domain in self.domains for item in domain.lists)

    @property
    def navigation(self) -> tuple[NavLink, ...]:
        return tuple(link for domain in self.domains for link in domain.navigation)

    @property
    def routers(self) -> tuple[Any, ...]:
        return tuple(router for domain in self.domains for router in domain.routers)

    @property
    def condition_kinds(self) -> dict[str, str]:
        return {k: v for domain in self.domains for k, v in domain.condition_kinds.items()}

    def demo_role(self, tenant_kind: str) -> str | None:
        for domain in self.domains:
            if tenant_kind in domain.demo_roles:
                return domain.demo_roles[tenant_kind]
        return None
