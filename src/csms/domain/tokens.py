"""Authorization: id tokens a tenant knows, and the verdict a charger is given for one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class AuthorizationStatus(StrEnum):
    """Outcome of authorising an id token (OCPP 1.6 AuthorizationStatus)."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    CONCURRENT_TX = "ConcurrentTx"


#: Statuses an operator may give an id tag (ConcurrentTx is derived, never stored).
STORABLE_ID_TAG_STATUSES = (
    AuthorizationStatus.ACCEPTED,
    AuthorizationStatus.BLOCKED,
    AuthorizationStatus.EXPIRED,
    AuthorizationStatus.INVALID,
)


@dataclass(frozen=True, slots=True)
class IdTag:
    """An authorisation token (RFID card, app token...) known to a tenant."""

    tenant_id: str
    id_tag: str
    status: AuthorizationStatus
    expiry_date: datetime | None = None
    parent_id_tag: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class IdTagInfo:
    """The answer to "may this token charge?" (OCPP IdTagInfo)."""

    status: AuthorizationStatus
    expiry_date: datetime | None = None
    parent_id_tag: str | None = None


class IdTagRepository(Protocol):
    def get(self, tenant_id: str, id_tag: str) -> IdTag | None: ...

    def add(self, tag: IdTag, at: datetime) -> None:
        """Insert; raises AlreadyExists if the tenant has that tag already."""
        ...

    def list(self, tenant_id: str | None = None) -> list[IdTag]: ...


# --- the operators' view (csms.services.id_tags) --------------------------------------------


@dataclass(frozen=True, slots=True)
class IdTagRecord:
    """An id tag as stored for a tenant."""

    id_tag: str
    status: AuthorizationStatus
    created_at: datetime
    updated_at: datetime
    expiry_date: datetime | None = None
    parent_id_tag: str | None = None

    def expired(self, now: datetime) -> bool:
        """Past its expiry date (the same rule Authorize applies: expiry <= now)."""
        return self.expiry_date is not None and self.expiry_date <= now

    def effective_status(self, now: datetime) -> AuthorizationStatus:
        """What a charger is told for this tag at ``now``: an expired Accepted tag is Expired."""
        if self.status is AuthorizationStatus.ACCEPTED and self.expired(now):
            return AuthorizationStatus.EXPIRED
        return self.status


@dataclass(frozen=True, slots=True)
class IdTagQuery:
    status: AuthorizationStatus | None = None
    parent_id_tag: str | None = None
    id_prefix: str | None = None
    #: True: only tags past their expiry date; False: only tags without one or not yet past it.
    expired: bool | None = None
    sort: str = "idTag"  # idTag | createdAt | expiryDate
    descending: bool = False
    limit: int = 50
    offset: int = 0


class IdTagQueries(Protocol):
    def search(self, tenant_id: str, query: IdTagQuery, now: datetime) -> tuple[list[IdTagRecord], int]:
        """One page of the tenant's tags matching ``query`` and the number of all matches."""
        ...

    def get(self, tenant_id: str, id_tag: str) -> IdTagRecord | None: ...

    def update(self, tenant_id: str, id_tag: str, changes: dict[str, Any], now: datetime) -> bool:
        """Apply ``changes`` (column → value); False if the tenant has no such tag."""
        ...

    def delete(self, tenant_id: str, id_tag: str) -> bool:
        """Forget the tag; False if the tenant has no such tag. Transactions keep their tag text."""
        ...
