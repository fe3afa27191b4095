"""Who is calling: always exactly one tenant and one role."""

from __future__ import annotations

import msgspec

from vigil.errors import Forbidden
from vigil.security.roles import Permission, allows


class Principal(msgspec.Struct, frozen=True):
    tenant: str
    role: str
    name: str
    token_id: str

    def require(self, permission: Permission) -> None:
        if not allows(self.role, permission):
            raise Forbidden(f"role {self.role!r} may not {permission.value.replace('_', ' ')}")
