"""Security functional block, station side: what stations report about their own security,
kept per station and announced to integrators (alerting on an invalid certificate or a tamper
switch belongs there)."""

from __future__ import annotations

from datetime import datetime

from csms.domain.events import iso, new_event
from csms.domain.security import SecurityEvent, SecurityEventStore, StoredSecurityEvent
from csms.domain.stations import ChargerContext
from csms.domain.tenancy import TenantScope
from csms.services.stations import Stations


class SecurityEventService:
    def __init__(self, store: SecurityEventStore, stations: Stations) -> None:
        self._store = store
        self._stations = stations

    def record(self, ctx: ChargerContext, event: SecurityEvent, now: datetime) -> bool:
        """Store a reported security event and announce it (SecurityEventReceived). False for a
        retried report: nothing is stored or announced twice."""
        announce = new_event(
            "SecurityEventReceived",
            ctx.tenant_id,
            ctx.charge_point_id,
            now,
            {"type": event.type, "timestamp": iso(event.timestamp), "techInfo": event.tech_info},
        )
        return self._store.add(ctx.tenant_id, ctx.charge_point_id, event, now, announce)

    def events(
        self, scope: TenantScope, charge_point_id: str, limit: int, offset: int
    ) -> tuple[list[StoredSecurityEvent], int]:
        """A station's security events, newest first."""
        self._stations.require(scope, charge_point_id)
        return self._store.search(scope.tenant_id, charge_point_id, limit, offset)
