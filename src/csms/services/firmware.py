"""Firmware management functional block: what chargers report about firmware updates and
diagnostics uploads, kept as a timeline per charger.

The commands themselves (UpdateFirmware, GetDiagnostics) need nothing stored beyond the
command's audit trail; the charger's progress arrives later in its own notifications.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from csms.domain.stations import ChargerContext


class EventKind(StrEnum):
    FIRMWARE = "firmware"
    DIAGNOSTICS = "diagnostics"


@dataclass(frozen=True, slots=True)
class ChargePointEvent:
    """One status a charger reported (e.g. firmware ``Downloading``, diagnostics ``Uploaded``)."""

    id: int
    kind: EventKind
    status: str
    received_at: datetime


class ChargePointEventStore(Protocol):
    def add(
        self, tenant_id: str, charge_point_id: str, kind: EventKind, status: str, at: datetime
    ) -> None: ...

    def timeline(
        self, tenant_id: str, charge_point_id: str, kind: EventKind, limit: int, offset: int
    ) -> tuple[list[ChargePointEvent], int]:
        """Newest first, with the total number of events of that kind."""
        ...


class FirmwareService:
    """FirmwareStatusNotification / DiagnosticsStatusNotification and their timelines."""

    def __init__(self, events: ChargePointEventStore) -> None:
        self._events = events

    def firmware_status(self, ctx: ChargerContext, status: str, now: datetime) -> None:
        """Record a firmware update step reported by the charger."""
        self._events.add(ctx.tenant_id, ctx.charge_point_id, EventKind.FIRMWARE, status, now)

    def diagnostics_status(self, ctx: ChargerContext, status: str, now: datetime) -> None:
        """Record a diagnostics upload step reported by the charger."""
        self._events.add(ctx.tenant_id, ctx.charge_point_id, EventKind.DIAGNOSTICS, status, now)

    def timeline(
        self, tenant_id: str, charge_point_id: str, kind: EventKind, limit: int, offset: int
    ) -> tuple[list[ChargePointEvent], int]:
        """A charger's reported statuses of one kind, newest first."""
        return self._events.timeline(tenant_id, charge_point_id, kind, limit, offset)
