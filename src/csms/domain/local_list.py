"""Local authorization lists: which of the tenant's id tokens a station knows when it is offline,
and which list version it holds (the rules are :mod:`csms.services.local_list`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from csms.domain.tokens import IdToken, IdTokenInfo, StoredIdToken


class UpdateType(StrEnum):
    FULL = "Full"
    DIFFERENTIAL = "Differential"


@dataclass(frozen=True, slots=True)
class LocalListEntry:
    token: IdToken
    #: None removes the token from the station's list (differential updates only).
    info: IdTokenInfo | None


@dataclass(frozen=True, slots=True)
class LocalListPlan:
    """What to send: the entries, and the version of the first frame carrying them."""

    update_type: UpdateType
    first_version: int
    entries: list[LocalListEntry]


@dataclass(frozen=True, slots=True)
class LocalListState:
    charge_point_id: str
    sent_version: int | None = None
    sent_at: datetime | None = None
    reported_version: int | None = None
    reported_at: datetime | None = None


class LocalListStore(Protocol):
    def state(self, tenant_id: str, charge_point_id: str) -> LocalListState | None: ...

    def next_version(self, charge_point_id: str) -> int:
        """One more than any version sent, accepted, reported or queued for the charger."""
        ...

    def last_full_list_at(self, charge_point_id: str) -> datetime | None:
        """When the content of the newest Full list the charger accepted was taken."""
        ...

    def tokens(self, tenant_id: str, changed_since: datetime | None = None) -> list[StoredIdToken]:
        """The tenant's id tokens (only those updated at or after ``changed_since``), by value."""
        ...

    def tokens_named(self, tenant_id: str, values: Sequence[str]) -> list[StoredIdToken]:
        """The tenant's tokens with these values (case-insensitively, of any type)."""
        ...

    def record_sent(self, tenant_id: str, charge_point_id: str, version: int, at: datetime) -> None: ...

    def record_reported(self, tenant_id: str, charge_point_id: str, version: int, at: datetime) -> None: ...

    def abandon_following(self, charge_point_id: str, version: int, at: datetime, reason: str) -> int:
        """Fail the charger's queued differential lists with a higher version, up to the next
        queued Full list; returns how many."""
        ...
