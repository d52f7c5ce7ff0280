"""Firmware management functional block: what chargers report about firmware updates and
diagnostics uploads, kept as a timeline per charger.

The commands themselves (UpdateFirmware, GetDiagnostics) need nothing stored beyond the
command's audit trail; the charger's progress arrives later in its own notifications.
"""

from __future__ import annotations

from datetime import datetime

from csms.domain.firmware import ChargePointEvent, ChargePointEventStore, EventKind
from csms.domain.stations import ChargerContext
from csms.domain.tenancy import TenantScope
from csms.services.stations import Stations


class FirmwareService:
    """FirmwareStatusNotification / DiagnosticsStatusNotification and their timelines."""

    def __init__(self, events: ChargePointEventStore, stations: Stations) -> None:
        self._events = events
        self._stations = stations

    def firmware_status(
        self, ctx: ChargerContext, status: str, now: datetime, request_id: int | None = None
    ) -> None:
        """Record a firmware update step reported by the charger (2.0.1: with the
        ``requestId`` of the UpdateFirmware it reports on)."""
        self._events.add(ctx.tenant_id, ctx.charge_point_id, EventKind.FIRMWARE, status, now, request_id)

    def diagnostics_status(
        self, ctx: ChargerContext, status: str, now: datetime, request_id: int | None = None
    ) -> None:
        """Record a diagnostics or log upload step reported by the charger (2.0.1: with the
        ``requestId`` of the GetLog it reports on)."""
        self._events.add(ctx.tenant_id, ctx.charge_point_id, EventKind.DIAGNOSTICS, status, now, request_id)

    def timeline(
        self, scope: TenantScope, charge_point_id: str, kind: EventKind, limit: int, offset: int
    ) -> tuple[list[ChargePointEvent], int]:
        """A charger's reported statuses of one kind, newest first."""
        self._stations.require(scope, charge_point_id)
        return self._events.timeline(scope.tenant_id, charge_point_id, kind, limit, offset)
