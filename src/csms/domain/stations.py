"""Charging stations: the stations, their EVSEs and connectors and the state each is in, what a
station says when it boots, and who is speaking on a connection.

Addressing is OCPP 2.0.1's: an EVSE (``evse_id`` > 0; EVSE 0 is the station itself) holds
connectors (``connector_id`` >= 1 within it; 0 with EVSE 0). An OCPP 1.6 connector N is EVSE N
with connector 1, its connector 0 is EVSE 0 connector 0 (the 1.6 adapter maps them).

A connector's state is kept in both vocabularies: ``status`` as the station reported it (a 1.6
ChargePointStatus or a 2.0.1 ConnectorStatus), and the normalized :class:`AvailabilityState`
and :class:`ChargingState` that everything else reads.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, Protocol

from csms.constants import OCPP16, OCPP201
from csms.domain.credentials import PasswordUsed
from csms.domain.tenancy import TenantScope

#: What we accept as a charge point identity: it travels in a URL path segment, so no '/',
#: and OCPP 2.0.1 caps it at 48 characters (1.6 chargers in the field stay well within).
#: Test with ``fullmatch``: with ``re.match`` the ``$`` also matches before a trailing "\n".
#: (The API hands the pattern to pydantic, whose regex engine anchors ``$`` at the very end.)
CHARGE_POINT_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:*+@=|-]{0,47}$")


#: The OCPP versions a station may speak, as their WebSocket subprotocol names.
OCPP_VERSIONS: Final = (OCPP16, OCPP201)


class AvailabilityState(StrEnum):
    """What a connector is doing, normalized (2.0.1 ConnectorStatusEnumType)."""

    AVAILABLE = "Available"
    #: A vehicle is plugged in or the connector is in use (1.6 Preparing ... Finishing).
    OCCUPIED = "Occupied"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


class ChargingState(StrEnum):
    """Whether energy flows (2.0.1 ChargingStateEnumType; 1.6 spells it in its statuses)."""

    CHARGING = "Charging"
    EV_CONNECTED = "EVConnected"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    IDLE = "Idle"


@dataclass(frozen=True, slots=True, order=True)
class ConnectorRef:
    """One connector of a station: its EVSE and its number within the EVSE."""

    evse_id: int
    connector_id: int


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
    #: The protocol the station must speak (``ocpp1.6`` / ``ocpp2.0.1``); None: it may use any.
    ocpp_version: str | None = None
    #: The protocol of its latest connection.
    last_protocol: str | None = None
    #: Why it last booted (2.0.1 BootReasonEnumType; None for 1.6, which gives no reason).
    boot_reason: str | None = None
    #: How it authenticates (:data:`SECURITY_PROFILES`): 0 without a password (an explicit
    #: choice), 1 and 2 with HTTP Basic auth (2: over TLS).
    security_profile: int = 2
    #: Where the profile came from: ``station`` (asked for, or implied by a password given) or
    #: ``tenant`` (the tenant's default when it was provisioned; migration 0020).
    security_profile_source: str = "station"
    #: A password rotation (csms.domain.credentials): the new password's hash while in flight
    #: or unconfirmed, the old one's after the station accepted (until it connects with the new).
    pending_password_hash: str | None = None
    previous_password_hash: str | None = None

    @property
    def needs_password(self) -> bool:
        """Whether its connections must present HTTP Basic auth (profiles 1 and 2)."""
        return self.security_profile != NO_PASSWORD_PROFILE


#: OCPP security profiles a station may have here: 0 (no authentication: OCPP 1.6 without the
#: security whitepaper), 1 (Basic auth, plain WebSocket), 2 (Basic auth over TLS). Profile 3
#: (TLS client certificates) cannot terminate on API Gateway.
SECURITY_PROFILES: Final = (0, 1, 2)
NO_PASSWORD_PROFILE: Final = 0
#: A station given a password and no profile: every URL the deployment gives is wss:// on AWS.
DEFAULT_SECURITY_PROFILE: Final = 2


@dataclass(frozen=True, slots=True)
class BootInfo:
    """What a station tells about itself when it boots (1.6: BootNotification's fields;
    2.0.1: chargingStation, its modem, and the reason)."""

    vendor: str
    model: str
    serial_number: str | None = None
    #: 1.6 only (chargeBoxSerialNumber, deprecated there).
    charge_box_serial_number: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    #: 1.6 only (meterType, meterSerialNumber).
    meter_type: str | None = None
    meter_serial_number: str | None = None
    #: 2.0.1 only: BootReasonEnumType (PowerUp, RemoteReset, FirmwareUpdate, ...).
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectorStatus:
    """A status report for one connector (EVSE 0 connector 0: the station itself).

    ``charging_state`` None keeps the stored one while the connector stays Occupied (a 2.0.1
    report says nothing about charging; its TransactionEvents do) and clears it otherwise.
    """

    evse_id: int
    connector_id: int
    #: As reported: a 1.6 ChargePointStatus or a 2.0.1 ConnectorStatusEnumType value.
    status: str
    state: AvailabilityState
    timestamp: datetime
    charging_state: ChargingState | None = None
    #: 1.6 ChargePointErrorCode; 2.0.1 reports have none.
    error_code: str | None = None
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None

    @property
    def ref(self) -> ConnectorRef:
        return ConnectorRef(self.evse_id, self.connector_id)


@dataclass(frozen=True, slots=True)
class StatusRecorded:
    """A status report that became the connector's latest, and what it replaced."""

    #: False for a report stored before (a retried frame).
    new_report: bool = True
    #: The stored status when this report was processed. Two different reports for one
    #: connector processed at the same instant can both name the same previous status.
    previous_status: str | None = None
    previous_error_code: str | None = None
    previous_state: AvailabilityState | None = None
    previous_charging_state: ChargingState | None = None
    #: The charging state stored with this report (the report's, or the one it kept).
    charging_state: ChargingState | None = None


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

    def record_protocol(self, charge_point_id: str, protocol: str, at: datetime) -> None:
        """The protocol of the station's latest connection (written only when it changes)."""
        ...

    def register_pending(self, charge_point_id: str, tenant_id: str, at: datetime) -> ChargingStation:
        """Insert an unknown charger as Pending, or return the existing row."""
        ...

    def password_used(self, charge_point_id: str, used: PasswordUsed, at: datetime) -> None:
        """A connection presented this password of a station with a rotation on record: the new
        one of an unconfirmed rotation becomes its only password; the current one while a
        rotation is unconfirmed means the station kept it (the new one is forgotten); the
        current one after an accepted rotation ends the old one's grace. In flight, nothing
        changes (the answer decides)."""
        ...


@dataclass(frozen=True, slots=True)
class ChargingStateRecorded:
    """A connector whose charging state a transaction changed: as it is now, and the one it had."""

    status: ConnectorStatus
    previous_charging_state: ChargingState | None


class ConnectorRepository(Protocol):
    def record_status(
        self, tenant_id: str, charge_point_id: str, status: ConnectorStatus, received_at: datetime
    ) -> StatusRecorded | None:
        """Store a status report. Returns what it replaced if it is now the connector's latest
        status (None when a newer one was already stored: frames arrive out of order)."""
        ...

    def record_charging_state(
        self,
        tenant_id: str,
        charge_point_id: str,
        evse_id: int,
        connector_id: int | None,
        charging_state: ChargingState,
        at: datetime,
        received_at: datetime,
    ) -> list[ChargingStateRecorded]:
        """A transaction's charging state changed at ``at`` (2.0.1): its connector (unknown:
        the EVSE's Occupied ones) takes it, each with a history row, unless a newer status is
        stored. The connectors changed."""
        ...


# --- the operators' view (csms.services.fleet) -----------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnectorView:
    """A connector's latest status, as operators see it."""

    evse_id: int
    connector_id: int
    status: str
    state: AvailabilityState
    since: datetime
    updated_at: datetime
    charging_state: ChargingState | None = None
    error_code: str | None = None
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None


@dataclass(frozen=True, slots=True)
class EvseView:
    """An EVSE and its connectors (the station's known ones, by id)."""

    evse_id: int
    connectors: tuple[ConnectorView, ...]


def evses(connectors: Collection[ConnectorView]) -> list[EvseView]:
    """The connectors grouped by EVSE, both in id order."""
    grouped: dict[int, list[ConnectorView]] = {}
    for view in sorted(connectors, key=lambda c: (c.evse_id, c.connector_id)):
        grouped.setdefault(view.evse_id, []).append(view)
    return [EvseView(evse_id, tuple(views)) for evse_id, views in grouped.items()]


@dataclass(frozen=True, slots=True)
class StatusEntry:
    evse_id: int
    connector_id: int
    status: str
    state: AvailabilityState
    timestamp: datetime
    received_at: datetime
    charging_state: ChargingState | None = None
    error_code: str | None = None
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None


@dataclass(frozen=True, slots=True)
class StatusQuery:
    """Which of a station's status reports: one EVSE's, one connector's, or all."""

    evse_id: int | None = None
    connector_id: int | None = None
    #: On the station's timestamp: ``start <= timestamp < end``.
    start: datetime | None = None
    end: datetime | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class ChargePointQuery:
    registration_status: RegistrationStatus | None = None
    #: Only stations pinned to this protocol.
    ocpp_version: str | None = None
    #: Only stations that speak this protocol: that of their latest connection, else the one they
    #: are pinned to (what a fleet listing shows as their protocol).
    protocol: str | None = None
    location_id: str | None = None
    id_prefix: str | None = None
    include_decommissioned: bool = False
    sort: str = "id"  # id | createdAt | lastBootAt
    descending: bool = False
    limit: int = 50
    offset: int = 0
    only_ids: Collection[str] | None = None
    exclude_ids: Collection[str] = ()


@dataclass(frozen=True, slots=True)
class StationSummary:
    """What a fleet listing shows of a station besides its own row: its connectors' latest
    statuses, how many transactions are running on it, and its current active import power."""

    connectors: tuple[ConnectorView, ...] = ()
    running_transactions: int = 0
    #: The latest Power.Active.Import (W) of each EVSE with a running transaction, summed;
    #: None when nothing runs or no running transaction reported power.
    power_w: float | None = None
    #: The newest of those readings' timestamps.
    power_at: datetime | None = None


class StationLookup(Protocol):
    def get(self, tenant_id: str, charge_point_id: str) -> ChargingStation | None:
        """The tenant's charge point (decommissioned ones too); None for another tenant's."""
        ...


class FleetQueries(StationLookup, Protocol):
    def search(self, tenant_id: str, query: ChargePointQuery) -> tuple[list[ChargingStation], int]: ...

    def connectors(self, tenant_id: str, charge_point_id: str) -> list[ConnectorView]: ...

    def summaries(self, tenant_id: str, charge_point_ids: Collection[str]) -> dict[str, StationSummary]:
        """The summary of each of these stations (a page of a listing), in a fixed number of
        queries whatever their number; a station with nothing to tell gets an empty one."""
        ...

    def status_history(
        self, tenant_id: str, charge_point_id: str, query: StatusQuery
    ) -> tuple[list[StatusEntry], int]: ...

    def update(
        self, tenant_id: str, charge_point_id: str, changes: dict[str, Any], now: datetime
    ) -> bool: ...

    def location_exists(self, tenant_id: str, location_id: str) -> bool: ...
