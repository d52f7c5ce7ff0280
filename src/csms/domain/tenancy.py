"""Tenancy: who owns what, and who acts. Every charge point, id tag, location and transaction
belongs to one tenant; an operator acts within one, with a role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from csms.errors import Forbidden


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return {"viewer": 0, "operator": 1, "admin": 2}[self.value]


@dataclass(frozen=True, slots=True)
class Principal:
    """An operator, as the verified token names them."""

    tenant_id: str
    role: Role
    subject: str

    def require(self, role: Role) -> None:
        """Raise Forbidden unless the caller has at least ``role``."""
        if self.role.rank < role.rank:
            raise Forbidden(f"this needs the {role.value} role; the token has {self.role.value}")


class TenantRepository(Protocol):
    def ensure(self, tenant_id: str, at: datetime) -> None:
        """Create the tenant if it does not exist yet."""
        ...
