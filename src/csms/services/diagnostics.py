"""Diagnostics functional block, station side: the events stations report about their
components (NotifyEvent)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms.domain.diagnostics import DeviceEvent, DeviceEventStore, StoredDeviceEvent
from csms.domain.events import DomainEvent, iso, new_event
from csms.domain.stations import ChargerContext
from csms.domain.tenancy import TenantScope
from csms.services.stations import Stations


def device_event_data(event: DeviceEvent) -> dict[str, Any]:
    """One NotifyEvent item in the DeviceEventsReported event."""
    where = event.where
    return {
        "eventId": event.event_id,
        "timestamp": iso(event.timestamp),
        "trigger": event.trigger,
        "actualValue": event.actual_value,
        "component": where.component,
        "componentInstance": where.component_instance,
        "evseId": where.evse_id,
        "connectorId": where.connector_id,
        "variable": where.variable,
        "variableInstance": where.variable_instance,
        "notificationType": event.notification_type,
        "cause": event.cause,
        "techCode": event.tech_code,
        "techInfo": event.tech_info,
        "cleared": event.cleared,
        "transactionId": event.transaction_id,
    }


class DiagnosticsService:
    def __init__(self, events: DeviceEventStore, stations: Stations) -> None:
        self._events = events
        self._stations = stations

    def device_events(
        self, ctx: ChargerContext, events: list[DeviceEvent], now: datetime
    ) -> list[DeviceEvent]:
        """Store a NotifyEvent's items; those not reported before are announced in one
        DeviceEventsReported. Returns them."""

        def announce(new: list[DeviceEvent]) -> DomainEvent:
            return new_event(
                "DeviceEventsReported",
                ctx.tenant_id,
                ctx.charge_point_id,
                now,
                {"events": [device_event_data(e) for e in new]},
            )

        return self._events.add(ctx.tenant_id, ctx.charge_point_id, events, now, announce)

    def events(
        self, scope: TenantScope, charge_point_id: str, component: str | None, limit: int, offset: int
    ) -> tuple[list[StoredDeviceEvent], int]:
        """A station's device events, newest first, optionally of one component."""
        self._stations.require(scope, charge_point_id)
        return self._events.search(scope.tenant_id, charge_point_id, component, limit, offset)
