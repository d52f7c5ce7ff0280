"""Local authorization list functional block (OCPP 1.6 LocalAuthListManagement): which of the
tenant's id tags a charger should know when it is offline, and which list version it holds.

The list is derived from the tenant's id tags, never edited by hand:

- **Full**: every id tag of the tenant with its current verdict (status, expiry, parent).
- **Differential** with named tags: each named tag the tenant has is added or updated; a
  named tag the tenant does not have (any more) is removed from the charger's list.
- **Differential** without names: every tag changed since the snapshot of the last Full list
  the charger accepted (cumulative, so a lost differential is repaired by the next one).
  Deleted tags leave no trace to diff against: name them, or send a Full list.

Versions are per charger and only grow: a new list gets one more than any version sent,
accepted, reported or waiting for this charger. ``sent_version`` is the last version the
charger accepted from us, ``reported_version`` what it said in GetLocalListVersion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from csms.domain.tokens import AuthorizationStatus, IdTag, IdTagInfo
from csms.errors import Conflict, InvalidInput


class UpdateType(StrEnum):
    FULL = "Full"
    DIFFERENTIAL = "Differential"


@dataclass(frozen=True, slots=True)
class LocalListEntry:
    id_tag: str
    #: None removes the tag from the charger's list (differential updates only).
    info: IdTagInfo | None


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

    def tags(self, tenant_id: str, changed_since: datetime | None = None) -> list[IdTag]:
        """The tenant's id tags (only those updated at or after ``changed_since``), by id."""
        ...

    def tags_named(self, tenant_id: str, names: Sequence[str]) -> list[IdTag]: ...

    def record_sent(self, tenant_id: str, charge_point_id: str, version: int, at: datetime) -> None: ...

    def record_reported(self, tenant_id: str, charge_point_id: str, version: int, at: datetime) -> None: ...

    def abandon_following(self, charge_point_id: str, version: int, at: datetime, reason: str) -> int:
        """Fail the charger's queued differential lists with a higher version, up to the next
        queued Full list; returns how many."""
        ...


def entry(tag: IdTag, now: datetime) -> LocalListEntry:
    """The tag's verdict as the charger should apply it offline (an Accepted tag past its
    expiry goes out as Expired)."""
    status = tag.status
    if status is AuthorizationStatus.ACCEPTED and tag.expiry_date is not None and tag.expiry_date <= now:
        status = AuthorizationStatus.EXPIRED
    return LocalListEntry(tag.id_tag, IdTagInfo(status, tag.expiry_date, tag.parent_id_tag))


class LocalListService:
    def __init__(self, store: LocalListStore) -> None:
        self._store = store

    def plan(
        self,
        tenant_id: str,
        charge_point_id: str,
        update_type: UpdateType,
        id_tags: Sequence[str] | None,
        now: datetime,
    ) -> LocalListPlan:
        """The entries of a new list for the charger and its (first) version."""
        if update_type is UpdateType.FULL:
            if id_tags is not None:
                raise InvalidInput("idTags: only for a Differential update (a Full list holds every tag)")
            entries = [entry(t, now) for t in self._store.tags(tenant_id)]
        elif id_tags is not None:
            # Tags match case-insensitively (OCPP CiString): a named tag is sent as provisioned,
            # and names differing only in case are one entry.
            known = {t.id_tag.lower(): t for t in self._store.tags_named(tenant_id, id_tags)}
            names: dict[str, str] = {}
            for name in id_tags:
                names.setdefault(name.lower(), name)
            entries = [
                entry(known[key], now) if key in known else LocalListEntry(name, None)
                for key, name in names.items()
            ]
        else:
            since = self._store.last_full_list_at(charge_point_id)
            if since is None:
                raise Conflict(
                    f"charge point {charge_point_id!r} has accepted no Full list yet: "
                    "send a Full list first (or name the idTags of a Differential update)"
                )
            entries = [entry(t, now) for t in self._store.tags(tenant_id, changed_since=since)]
        return LocalListPlan(update_type, self._store.next_version(charge_point_id), entries)

    def accepted(self, tenant_id: str, charge_point_id: str, version: int, at: datetime) -> None:
        """The charger accepted the list (frame) with this version."""
        self._store.record_sent(tenant_id, charge_point_id, version, at)

    def not_accepted(self, charge_point_id: str, version: int, at: datetime) -> int:
        """The list (frame) with this version was refused, failed or got no answer: the
        differential frames queued after it would apply to the wrong list, so they are not
        sent. Returns how many were dropped."""
        return self._store.abandon_following(
            charge_point_id,
            version,
            at,
            f"not sent: the list version {version} before it was not accepted; send a Full list",
        )

    def reported(self, tenant_id: str, charge_point_id: str, version: int, at: datetime) -> None:
        """The charger reported its list version (GetLocalListVersion)."""
        self._store.record_reported(tenant_id, charge_point_id, version, at)

    def state(self, tenant_id: str, charge_point_id: str) -> LocalListState:
        return self._store.state(tenant_id, charge_point_id) or LocalListState(charge_point_id)
