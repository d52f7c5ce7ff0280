"""Security: what stations report about their own security (2.0.1 SecurityEventNotification:
a firmware update, a failed login on the station, a reset, an invalid certificate...)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from csms.domain.events import DomainEvent


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    """One security event as the station reported it."""

    #: The event's type: one of OCPP's security events (e.g. ``FirmwareUpdated``,
    #: ``InvalidCsmsCertificate``) or the vendor's own.
    type: str
    #: When it happened, by the station's clock.
    timestamp: datetime
    tech_info: str | None = None


@dataclass(frozen=True, slots=True)
class StoredSecurityEvent:
    id: int
    event: SecurityEvent
    received_at: datetime


class SecurityEventStore(Protocol):
    def add(
        self,
        tenant_id: str,
        charge_point_id: str,
        event: SecurityEvent,
        received_at: datetime,
        announce: DomainEvent,
    ) -> bool:
        """Store the event and, in the same transaction, its domain event. False for an event
        stored before (a retried frame): nothing is written."""
        ...

    def search(
        self, tenant_id: str, charge_point_id: str, limit: int, offset: int
    ) -> tuple[list[StoredSecurityEvent], int]:
        """Newest first (by the station's timestamp), with the total."""
        ...
