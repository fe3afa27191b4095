"""Tenants, roles, principals: who may read and write what."""

from vigil.security.principal import Principal
from vigil.security.roles import GRANTS, Permission, Role, allows

__all__ = ["GRANTS", "Permission", "Principal", "Role", "allows"]
