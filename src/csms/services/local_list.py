"""Local authorization list functional block (1.6 LocalAuthListManagement, 2.0.1 D): which of
the tenant's id tokens a station should know when it is offline, and which list version it holds.

The list is derived from the tenant's id tokens, never edited by hand:

- **Full**: every id token of the tenant with its current verdict (status, expiry, group).
- **Differential** with named values: each token the tenant has with a named value is added
  or updated; a named value the tenant does not have (any more) is removed from the
  station's list.
- **Differential** without names: every token changed since the snapshot of the last Full
  list the station accepted (cumulative, so a lost differential is repaired by the next one).
  Deleted tokens leave no trace to diff against: name them, or send a Full list.

The plan holds typed tokens; a protocol adapter says them in its own words (1.6 lists carry
one entry per value: :mod:`csms.ocpp16.local_list`).

Versions are per charger and only grow: a new list gets one more than any version sent,
accepted, reported or waiting for this charger. ``sent_version`` is the last version the
charger accepted from us, ``reported_version`` what it said in GetLocalListVersion.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from csms.domain.local_list import LocalListEntry, LocalListPlan, LocalListState, LocalListStore, UpdateType
from csms.domain.tenancy import TenantScope
from csms.domain.tokens import IdToken, IdTokenInfo, StoredIdToken
from csms.errors import Conflict, InvalidInput
from csms.services.stations import Stations


def entry(stored: StoredIdToken, now: datetime) -> LocalListEntry:
    """The token's verdict as the station should apply it offline (an Accepted token past its
    expiry goes out as Expired)."""
    return LocalListEntry(
        stored.token, IdTokenInfo(stored.effective_status(now), stored.expiry_date, stored.group)
    )


class LocalListService:
    def __init__(self, store: LocalListStore, stations: Stations) -> None:
        self._store = store
        self._stations = stations

    def plan(
        self,
        tenant_id: str,
        charge_point_id: str,
        update_type: UpdateType,
        named: Sequence[IdToken] | None,
        now: datetime,
    ) -> LocalListPlan:
        """The entries of a new list for the station and its (first) version; ``named`` are
        the tokens of a Differential update (a token without a type names its value in any
        type, as a 1.6 idTag does)."""
        if update_type is UpdateType.FULL:
            if named is not None:
                raise InvalidInput("idTokens: only for a Differential update (a Full list holds every token)")
            entries = [entry(t, now) for t in self._store.tokens(tenant_id)]
        elif named is not None:
            # Values match case-insensitively: a named token is sent as provisioned, and names
            # differing only in case are one.
            stored_tokens = self._store.tokens_named(tenant_id, [t.value for t in named])
            names: dict[tuple[str, object], IdToken] = {}
            for token in named:
                names.setdefault((token.value.lower(), token.type), token)
            entries = []
            for token in names.values():
                known = [t for t in stored_tokens if token.same(t.token)]
                entries += [entry(t, now) for t in known] if known else [LocalListEntry(token, None)]
        else:
            since = self._store.last_full_list_at(charge_point_id)
            if since is None:
                raise Conflict(
                    f"station {charge_point_id!r} has accepted no Full list yet: "
                    "send a Full list first (or name the idTags of a Differential update)"
                )
            entries = [entry(t, now) for t in self._store.tokens(tenant_id, changed_since=since)]
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
