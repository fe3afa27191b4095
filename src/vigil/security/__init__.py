"""Tenants, roles, principals: who may read and write what."""

from vigil.security.principal import Principal
from vigil.security.roles import GRANTS, QUEUES, Permission, Role, allows, queue_routes

__all__ = ["GRANTS", "QUEUES", "Permission", "Principal", "Role", "allows", "queue_routes"]
