"""Authorization: id tokens a tenant knows, and the verdict a charger is given for one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


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
