"""Charging stations: charge points, their connectors' status, what they say when they boot,
and who is speaking on a connection."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from csms.domain.tenancy import TenantScope

#: What we accept as a charge point identity: it travels in a URL path segment, so no '/',
#: and OCPP 2.0.1 caps it at 48 characters (1.6 chargers in the field stay well within).
#: Test with ``fullmatch``: with ``re.match`` the ``$`` also matches before a trailing "\n".
#: (The API hands the pattern to pydantic, whose regex engine anchors ``$`` at the very end.)
CHARGE_POINT_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:*+@=|-]{0,47}$")


class RegistrationStatus(StrEnum):
    """Whether the CSMS accepts a charge point (BootNotification.conf status)."""

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


@dataclass(frozen=True, slots=True)
class ChargingStation:
    """A provisioned charging station (OCPP 1.6 calls it a charge point). Its id is the last
    segment of the URL it connects to, in either protocol."""

    id: str
    tenant_id: str
    registration_status: RegistrationStatus
    password_hash: str | None = None
    vendor: str | None = None
    model: str | None = None
    serial_number: str | None = None
    charge_box_serial_number: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None
    last_boot_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    location_id: str | None = None
    decommissioned_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BootInfo:
    """What a charge point tells about itself when it boots."""

    vendor: str
    model: str
    serial_number: str | None = None
    charge_box_serial_number: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectorStatus:
    """A StatusNotification: the state of one connector (0 = the charge point itself)."""

    connector_id: int
    status: str
    error_code: str
    timestamp: datetime
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None


@dataclass(frozen=True, slots=True)
class StatusRecorded:
    """A status report that became the connector's latest, and what it replaced."""

    #: False for a report stored before (a retried frame).
    new_report: bool = True
    #: The stored status when this report was processed. Two different reports for one
    #: connector processed at the same instant can both name the same previous status.
    previous_status: str | None = None
    previous_error_code: str | None = None


@dataclass(frozen=True, slots=True)
class ChargerContext:
    """Who is speaking: the charger behind the frame being handled."""

    charge_point_id: str
    tenant_id: str
    connection_id: str
    registration_status: RegistrationStatus = RegistrationStatus.ACCEPTED
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def scope(self) -> TenantScope:
        """What the charger's frames may reach: its own tenant."""
        return TenantScope(self.tenant_id)


class ChargePointRepository(Protocol):
    def get(self, charge_point_id: str) -> ChargingStation | None: ...

    def add(self, charge_point: ChargingStation, at: datetime) -> None:
        """Insert; raises AlreadyExists if the id is taken (in any tenant)."""
        ...

    def list(self, tenant_id: str | None = None) -> list[ChargingStation]: ...

    def remove(self, charge_point_id: str, tenant_id: str | None = None) -> bool: ...

    def record_boot(self, charge_point_id: str, info: BootInfo, at: datetime) -> None: ...

    def register_pending(self, charge_point_id: str, tenant_id: str, at: datetime) -> ChargingStation:
        """Insert an unknown charger as Pending, or return the existing row."""
        ...


class ConnectorRepository(Protocol):
    def record_status(
        self, tenant_id: str, charge_point_id: str, status: ConnectorStatus, received_at: datetime
    ) -> StatusRecorded | None:
        """Store a status report. Returns what it replaced if it is now the connector's latest
        status (None when a newer one was already stored: frames arrive out of order)."""
        ...


# --- the operators' view (csms.services.fleet) -----------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnectorState:
    connector_id: int
    status: str
    error_code: str
    since: datetime
    updated_at: datetime
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None


@dataclass(frozen=True, slots=True)
class StatusEntry:
    connector_id: int
    status: str
    error_code: str
    timestamp: datetime
    received_at: datetime
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None


@dataclass(frozen=True, slots=True)
class ChargePointQuery:
    registration_status: RegistrationStatus | None = None
    location_id: str | None = None
    id_prefix: str | None = None
    include_decommissioned: bool = False
    sort: str = "id"  # id | createdAt | lastBootAt
    descending: bool = False
    limit: int = 50
    offset: int = 0
    only_ids: Collection[str] | None = None
    exclude_ids: Collection[str] = ()


class StationLookup(Protocol):
    def get(self, tenant_id: str, charge_point_id: str) -> ChargingStation | None:
        """The tenant's charge point (decommissioned ones too); None for another tenant's."""
        ...


class FleetQueries(StationLookup, Protocol):
    def search(self, tenant_id: str, query: ChargePointQuery) -> tuple[list[ChargingStation], int]: ...

    def connectors(self, tenant_id: str, charge_point_id: str) -> list[ConnectorState]: ...

    def status_history(
        self,
        tenant_id: str,
        charge_point_id: str,
        connector_id: int,
        start: datetime | None,
        end: datetime | None,
        limit: int,
        offset: int,
    ) -> tuple[list[StatusEntry], int]: ...

    def update(
        self, tenant_id: str, charge_point_id: str, changes: dict[str, Any], now: datetime
    ) -> bool: ...

    def location_exists(self, tenant_id: str, location_id: str) -> bool: ...
