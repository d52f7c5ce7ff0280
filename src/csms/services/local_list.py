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
from datetime import datetime

from csms.domain.local_list import LocalListEntry, LocalListPlan, LocalListState, LocalListStore, UpdateType
from csms.domain.tenancy import TenantScope
from csms.domain.tokens import AuthorizationStatus, IdTag, IdTagInfo
from csms.errors import Conflict, InvalidInput
from csms.services.stations import Stations


def entry(tag: IdTag, now: datetime) -> LocalListEntry:
    """The tag's verdict as the charger should apply it offline (an Accepted tag past its
    expiry goes out as Expired)."""
    status = tag.status
    if status is AuthorizationStatus.ACCEPTED and tag.expiry_date is not None and tag.expiry_date <= now:
        status = AuthorizationStatus.EXPIRED
    return LocalListEntry(tag.id_tag, IdTagInfo(status, tag.expiry_date, tag.parent_id_tag))


class LocalListService:
    def __init__(self, store: LocalListStore, stations: Stations) -> None:
        self._store = store
        self._stations = stations

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
                    f"station {charge_point_id!r} has accepted no Full list yet: "
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

    def state(self, scope: TenantScope, charge_point_id: str) -> LocalListState:
        """The list versions the charger holds, as far as the CSMS knows."""
        self._stations.require(scope, charge_point_id)
        return self._store.state(scope.tenant_id, charge_point_id) or LocalListState(charge_point_id)
