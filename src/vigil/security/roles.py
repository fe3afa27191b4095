"""Roles and what each may do. Every route names the permission it needs."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    COORDINATOR = "coordinator"
    CARER = "carer"
    ENGINEER = "engineer"
    ANALYST = "analyst"
    INSTALLER = "installer"
    """Installs and mends devices: gets the device alerts, not the care alerts."""
    GATEWAY = "gateway"
    """A device or gateway credential: may send events, may read nothing."""


class Permission(StrEnum):
    INGEST = "ingest"
    READ_TELEMETRY = "read_telemetry"
    READ_DEAD_LETTERS = "read_dead_letters"
    READ_AUDIT = "read_audit"
    HANDLE_ALERTS = "handle_alerts"
    """Acknowledge, assign, escalate and resolve alerts."""
    PLAN = "plan"
    """Change a day's carer plan: lock or move a visit, re-optimise, add an urgent visit."""
    MANAGE = "manage"


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMINISTRATOR: frozenset(Permission),
    Role.COORDINATOR: frozenset(
        {
            Permission.READ_TELEMETRY,
            Permission.READ_DEAD_LETTERS,
            Permission.HANDLE_ALERTS,
            Permission.PLAN,
        }
    ),
    Role.CARER: frozenset({Permission.READ_TELEMETRY}),
    Role.ENGINEER: frozenset(
        {Permission.READ_TELEMETRY, Permission.READ_DEAD_LETTERS, Permission.HANDLE_ALERTS}
    ),
    Role.ANALYST: frozenset({Permission.READ_TELEMETRY}),
    Role.INSTALLER: frozenset(
        {Permission.READ_TELEMETRY, Permission.READ_DEAD_LETTERS, Permission.HANDLE_ALERTS}
    ),
    Role.GATEWAY: frozenset({Permission.INGEST}),
}


def allows(role: str, permission: Permission) -> bool:
    try:
        return permission in GRANTS[Role(role)]
    except ValueError:
        return False


QUEUES: dict[Role, tuple[str, ...] | None] = {
    Role.ADMINISTRATOR: None,
    Role.COORDINATOR: ("coordinator", "carer", "responder"),
    Role.CARER: ("carer",),
    Role.ENGINEER: ("engineer", "installer"),
    Role.ANALYST: None,
    Role.INSTALLER: ("installer",),
    Role.GATEWAY: (),
}
"""Which alert routes each role's queue shows (None: all of them). A condition is
routed to a role by the operator that raised it: device problems to installers,
wellbeing alerts to the care team."""


def queue_routes(role: str) -> tuple[str, ...] | None:
    """
    >>> queue_routes("installer"), queue_routes("administrator")
    (('installer',), None)
    """
    try:
        return QUEUES[Role(role)]
    except ValueError:
        return ()
