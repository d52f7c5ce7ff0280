"""Diagnostics: what stations report about their components (2.0.1 NotifyEvent: a monitored
variable crossed a threshold, changed, or is reported periodically)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from csms.domain.events import DomainEvent


@dataclass(frozen=True, slots=True)
class ComponentVariable:
    """Where in a station's device model something is: a variable of a component."""

    component: str
    variable: str
    component_instance: str | None = None
    variable_instance: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """One NotifyEvent item."""

    event_id: int
    timestamp: datetime
    #: Alerting (a threshold was crossed), Delta (a value changed) or Periodic.
    trigger: str
    actual_value: str
    where: ComponentVariable
    #: HardWiredNotification, HardWiredMonitor, PreconfiguredMonitor or CustomMonitor.
    notification_type: str
    cause: int | None = None
    tech_code: str | None = None
    tech_info: str | None = None
    #: The problem this event reported earlier is gone.
    cleared: bool | None = None
    transaction_id: str | None = None
    variable_monitoring_id: int | None = None


@dataclass(frozen=True, slots=True)
class StoredDeviceEvent:
    id: int
    event: DeviceEvent
    received_at: datetime


class DeviceEventStore(Protocol):
    def add(
        self,
        tenant_id: str,
        charge_point_id: str,
        events: list[DeviceEvent],
        received_at: datetime,
        announce: Callable[[list[DeviceEvent]], DomainEvent],
    ) -> list[DeviceEvent]:
        """Store the events not stored before (a retried frame repeats them: the same event id
        and timestamp) and, in the same transaction, ``announce(new ones)`` if there are any;
        returns the new ones."""
        ...

    def search(
        self,
        tenant_id: str,
        charge_point_id: str,
        component: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[StoredDeviceEvent], int]:
        """Newest first (by the station's timestamp), with the total."""
        ...
