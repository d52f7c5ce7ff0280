"""Smart charging functional block, what stations report: limits set on them from outside the
CSMS (an energy manager, the grid operator) and what ISO 15118 vehicles need. Load management
reads both."""

from __future__ import annotations

from datetime import datetime

from csms.domain.charging_limits import ChargingLimit, ChargingLimitStore, ChargingNeeds, StoredChargingLimit
from csms.domain.events import DomainEvent, new_event
from csms.domain.stations import ChargerContext
from csms.domain.tenancy import TenantScope
from csms.services.stations import Stations


class ChargingLimitService:
    def __init__(self, store: ChargingLimitStore, stations: Stations) -> None:
        self._store = store
        self._stations = stations

    def limit_set(self, ctx: ChargerContext, limit: ChargingLimit, now: datetime) -> None:
        """NotifyChargingLimit: the source's limit now in force (ChargingLimitChanged)."""
        self._store.set_limit(
            ctx.tenant_id,
            ctx.charge_point_id,
            limit,
            now,
            _changed(ctx, limit.source, limit.evse_id, now, limit, cleared=False),
        )

    def limit_cleared(self, ctx: ChargerContext, source: str, evse_id: int | None, now: datetime) -> bool:
        """ClearedChargingLimit: the source no longer limits (announced only if it did)."""
        return self._store.clear_limit(
            ctx.tenant_id,
            ctx.charge_point_id,
            source,
            evse_id,
            now,
            _changed(ctx, source, evse_id, now, None, cleared=True),
        )

    def needs(self, ctx: ChargerContext, needs: ChargingNeeds, now: datetime) -> None:
        """NotifyEVChargingNeeds: what the vehicle on that EVSE asks for."""
        self._store.set_needs(ctx.tenant_id, ctx.charge_point_id, needs, now)

    def limits(self, scope: TenantScope, charge_point_id: str) -> list[StoredChargingLimit]:
        """The limits in force on a station, from sources outside the CSMS."""
        self._stations.require(scope, charge_point_id)
        return self._store.limits(scope.tenant_id, charge_point_id)


def _changed(
    ctx: ChargerContext,
    source: str,
    evse_id: int | None,
    now: datetime,
    limit: ChargingLimit | None,
    *,
    cleared: bool,
) -> DomainEvent:
    return new_event(
        "ChargingLimitChanged",
        ctx.tenant_id,
        ctx.charge_point_id,
        now,
        {
            "source": source,
            "evseId": evse_id,
            "isGridCritical": limit.is_grid_critical if limit else None,
            "cleared": cleared,
            "schedules": list(limit.schedules) if limit else [],
        },
    )
