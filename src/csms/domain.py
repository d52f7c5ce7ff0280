"""The domain: what a charging network is made of, independent of OCPP versions.

Only the protocol adapters (``csms.ocpp16``) know OCPP 1.6 field names; services and
repositories speak in these types, so OCPP 2.0.1 can arrive as a second adapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class RegistrationStatus(StrEnum):
    """Whether the CSMS accepts a charge point (BootNotification.conf status)."""

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


class AuthorizationStatus(StrEnum):
    """Outcome of authorising an id token (OCPP 1.6 AuthorizationStatus)."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    CONCURRENT_TX = "ConcurrentTx"


#: Statuses an operator may give an id tag (ConcurrentTx is derived, never stored).
STORABLE_ID_TAG_STATUSES = (
    AuthorizationStatus.ACCEPTED,
    AuthorizationStatus.BLOCKED,
    AuthorizationStatus.EXPIRED,
    AuthorizationStatus.INVALID,
)


@dataclass(frozen=True, slots=True)
class ChargePoint:
    """A provisioned charge point (charging station)."""

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
class IdTag:
    """An authorisation token (RFID card, app token...) known to a tenant."""

    tenant_id: str
    id_tag: str
    status: AuthorizationStatus
    expiry_date: datetime | None = None
    parent_id_tag: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class IdTagInfo:
    """The answer to "may this token charge?" (OCPP IdTagInfo)."""

    status: AuthorizationStatus
    expiry_date: datetime | None = None
    parent_id_tag: str | None = None


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
class MeterSample:
    """One sampled value, with every OCPP qualifier resolved to its default."""

    timestamp: datetime
    value: str
    measurand: str = "Energy.Active.Import.Register"
    phase: str | None = None
    unit: str = "Wh"
    context: str = "Sample.Periodic"
    location: str = "Outlet"
    format: str = "Raw"


@dataclass(frozen=True, slots=True)
class TransactionStart:
    """A StartTransaction as reported by a charge point."""

    connector_id: int
    id_tag: str
    meter_start: int
    timestamp: datetime
    reservation_id: int | None = None


@dataclass(frozen=True, slots=True)
class TransactionStop:
    """A StopTransaction as reported by a charge point."""

    transaction_id: int
    meter_stop: int
    timestamp: datetime
    reason: str | None = None
    id_tag: str | None = None
    transaction_data: tuple[MeterSample, ...] = ()
    raw_transaction_data: list[Any] | None = None


@dataclass(frozen=True, slots=True)
class Transaction:
    """A charging session."""

    id: int
    tenant_id: str
    charge_point_id: str
    connector_id: int
    id_tag: str
    meter_start: int
    start_timestamp: datetime
    reservation_id: int | None = None
    meter_stop: int | None = None
    stop_timestamp: datetime | None = None
    stop_reason: str | None = None
    stop_id_tag: str | None = None


@dataclass(frozen=True, slots=True)
class StoppedTransaction:
    """Outcome of recording a StopTransaction."""

    transaction: Transaction | None
    #: True when no transaction with that id exists for the charger; the stop was recorded
    #: for an operator instead.
    unknown: bool = False
    #: True when this call recorded the stop (False for a retried frame).
    stopped_now: bool = False
    #: The CSMS's own close this stop replaced (stuck-transactions closed it first).
    corrected: Transaction | None = None


@dataclass(frozen=True, slots=True)
class AddedSamples:
    """Outcome of storing meter samples."""

    #: How many were new (a retried frame adds none).
    new: int
    #: The transaction they were stored with: the one the charger named if it is one of its
    #: own, else None (another charger's or an unknown id is not followed).
    transaction_id: int | None


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
class UsedReservation:
    """The reservation a StartTransaction used."""

    reservation_id: int
    connector_id: int
    id_tag: str
    expiry_date: datetime


@dataclass(frozen=True, slots=True)
class ChargerContext:
    """Who is speaking: the charger behind the frame being handled."""

    charge_point_id: str
    tenant_id: str
    connection_id: str
    registration_status: RegistrationStatus = RegistrationStatus.ACCEPTED
    extra: dict[str, Any] = field(default_factory=dict)
