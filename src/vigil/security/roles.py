"""Roles and what each may do. Every route names the permission it needs."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    COORDINATOR = "coordinator"
    CARER = "carer"
    ENGINEER = "engineer"
    ANALYST = "analyst"
    GATEWAY = "gateway"
    """A device or gateway credential: may send events, may read nothing."""


class Permission(StrEnum):
    INGEST = "ingest"
    READ_TELEMETRY = "read_telemetry"
    READ_DEAD_LETTERS = "read_dead_letters"
    READ_AUDIT = "read_audit"
    MANAGE = "manage"


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMINISTRATOR: frozenset(Permission),
    Role.COORDINATOR: frozenset({Permission.READ_TELEMETRY, Permission.READ_DEAD_LETTERS}),
    Role.CARER: frozenset({Permission.READ_TELEMETRY}),
    Role.ENGINEER: frozenset({Permission.READ_TELEMETRY, Permission.READ_DEAD_LETTERS}),
    Role.ANALYST: frozenset({Permission.READ_TELEMETRY}),
    Role.GATEWAY: frozenset({Permission.INGEST}),
}


def allows(role: str, permission: Permission) -> bool:
    try:
        return permission in GRANTS[Role(role)]
    except ValueError:
        return False
