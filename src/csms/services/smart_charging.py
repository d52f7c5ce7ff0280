"""Smart charging functional block: the charging profiles installed on each charger, so an
operator can see what is in force.

A profile row is written when SetChargingProfile is submitted (``requested``) and follows the
charger's answer: ``installed`` on Accepted, ``rejected`` on Rejected/NotSupported, ``failed``
without an answer. Installing replaces, as OCPP 1.6 (§3.13.2, §5.16) has the charger do, every
installed profile of that charger with the same chargingProfileId, and every installed profile
on that connector with the same purpose and stack level: those become ``cleared``. An accepted
ClearChargingProfile clears the installed profiles matching its criteria.
"""

from __future__ import annotations

from datetime import datetime

from csms.domain.smart_charging import (
    ChargingProfile,
    ChargingProfileStore,
    ClearCriteria,
    ProfileQuery,
    ProfileSpec,
    ProfileStatus,
)
from csms.domain.tenancy import TenantScope
from csms.services.stations import Stations


class SmartChargingService:
    def __init__(self, store: ChargingProfileStore, stations: Stations) -> None:
        self._store = store
        self._stations = stations

    def requested(
        self, tenant_id: str, charge_point_id: str, spec: ProfileSpec, command_id: str, now: datetime
    ) -> int:
        """Record a profile about to be sent (SetChargingProfile)."""
        return self._store.add(tenant_id, charge_point_id, spec, command_id, now)

    def installed(self, command_id: str, now: datetime) -> int:
        """The charger accepted the profile; returns how many installed profiles it replaced."""
        return self._store.install(command_id, now)

    def rejected(self, command_id: str, now: datetime) -> None:
        self._store.finish(command_id, ProfileStatus.REJECTED, now)

    def failed(self, command_id: str, now: datetime) -> None:
        self._store.finish(command_id, ProfileStatus.FAILED, now)

    def cleared(self, tenant_id: str, charge_point_id: str, criteria: ClearCriteria, now: datetime) -> int:
        """The charger cleared the profiles matching ``criteria``; returns how many we knew."""
        return self._store.clear(tenant_id, charge_point_id, criteria, now)

    def search(
        self, scope: TenantScope, charge_point_id: str, query: ProfileQuery
    ) -> tuple[list[ChargingProfile], int]:
        """A charger's profiles by connector, purpose and stack level (highest first)."""
        self._stations.require(scope, charge_point_id)
        return self._store.search(scope.tenant_id, charge_point_id, query)
