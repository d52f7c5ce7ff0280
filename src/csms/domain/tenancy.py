"""Tenancy: who owns what, and who acts. Every charge point, id tag, location and transaction
belongs to one tenant; an operator acts within one, with a role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from csms.errors import Forbidden


@dataclass(frozen=True, slots=True)
class TenantScope:
    """What an operation may reach: one tenant's resources, on behalf of a subject.

    Every service operation the operator API reaches takes one, and the service checks that
    what it is asked about belongs to it (another tenant's charge point looks like no charge
    point at all). A route therefore cannot reach another tenant's data by forgetting a check.
    """

    tenant_id: str
    #: Who acts: an operator's token subject, or a job's name; None when nobody in particular.
    subject: str | None = None


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

    @property
    def scope(self) -> TenantScope:
        """What the operator's requests may reach: their tenant, on their behalf."""
        return TenantScope(self.tenant_id, self.subject or None)

    def require(self, role: Role) -> None:
        """Raise Forbidden unless the caller has at least ``role``."""
        if self.role.rank < role.rank:
            raise Forbidden(f"this needs the {role.value} role; the token has {self.role.value}")


@dataclass(frozen=True, slots=True)
class User:
    """An operator account (Cognito on AWS)."""

    id: str
    email: str
    tenant_id: str
    role: str
    status: str
    enabled: bool
    created_at: datetime | None
    #: The ``sub`` of the user's tokens (Cognito's ``sub`` attribute): what a revocation names.
    subject: str = ""


class UserDirectory(Protocol):
    """Where operator accounts live; every operation is confined to one tenant (a user of
    another tenant does not exist for it)."""

    def create(self, tenant_id: str, email: str, role: str) -> User:
        """Invite a user; AlreadyExists if the e-mail is taken."""
        ...

    def list(self, tenant_id: str) -> list[User]:
        """The tenant's users, by e-mail."""
        ...

    def get(self, tenant_id: str, user_id: str) -> User | None: ...

    def set_role(self, tenant_id: str, user_id: str, role: str) -> User | None: ...

    def delete(self, tenant_id: str, user_id: str) -> bool: ...


class TenantRepository(Protocol):
    def ensure(self, tenant_id: str, at: datetime) -> None:
        """Create the tenant if it does not exist yet."""
        ...

    def default_security_profile(self, tenant_id: str) -> int:
        """The security profile the tenant's stations get when provisioned without one."""
        ...


@dataclass(frozen=True, slots=True)
class TenantSettings:
    """What a tenant's admin sets for the whole tenant (migrations 0017 and 0020)."""

    #: The security profile a station gets when it is provisioned without one (2: a password
    #: over TLS; 0: no password, which then needs no securityProfile 0 per station).
    default_security_profile: int = 2
    #: URL schemes firmware and diagnostics/log URLs may use (None: the deployment's default).
    file_url_schemes: tuple[str, ...] | None = None
    #: Host names they may use (``host`` or ``*.domain``; None: any host).
    file_url_hosts: tuple[str, ...] | None = None


class TenantSettingsStore(Protocol):
    def get(self, tenant_id: str) -> TenantSettings:
        """The tenant's settings (the defaults for a tenant with no row yet)."""
        ...

    def update(self, tenant_id: str, changes: dict[str, Any], at: datetime) -> TenantSettings:
        """Change the named fields of :class:`TenantSettings` (creating the tenant's row)."""
        ...
