"""Tenancy: who owns what. Every charge point, id tag, location and transaction belongs to one
tenant, and an operator acts within one."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class TenantRepository(Protocol):
    def ensure(self, tenant_id: str, at: datetime) -> None:
        """Create the tenant if it does not exist yet."""
        ...
