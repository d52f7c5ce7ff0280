"""Reservations: an EVSE held for an id token until an expiry date (the lifecycle and its
transitions are :mod:`csms.services.reservations`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from csms.domain.events import DomainEvent, iso, new_event, token_data
from csms.domain.tokens import IdToken


class ReservationStatus(StrEnum):
    REQUESTED = "requested"
    ACTIVE = "active"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    USED = "used"
    EXPIRED = "expired"
    FAILED = "failed"


#: States in which the charger holds (or may be about to hold) the reservation.
OPEN = (ReservationStatus.REQUESTED, ReservationStatus.ACTIVE)


@dataclass(frozen=True, slots=True)
class Reservation:
    id: int
    tenant_id: str
    charge_point_id: str
    #: None: no particular EVSE (2.0.1); 0 is a 1.6 reservation of connector 0.
    evse_id: int | None
    #: Its type is None when a 1.6 ReserveNow made it (1.6 id tags have none).
    id_token: IdToken
    group_id_token: str | None
    expiry_date: datetime
    status: ReservationStatus
    transaction_id: int | None
    command_id: str | None
    created_at: datetime
    updated_at: datetime
    connector_type: str | None = None


@dataclass(frozen=True, slots=True)
class NewReservation:
    tenant_id: str
    charge_point_id: str
    evse_id: int | None
    id_token: IdToken
    group_id_token: IdToken | None
    expiry_date: datetime
    command_id: str
    connector_type: str | None = None


@dataclass(frozen=True, slots=True)
class UsedReservation:
    """The reservation a StartTransaction used."""

    reservation_id: int
    evse_id: int
    id_token: IdToken
    expiry_date: datetime


@dataclass(frozen=True, slots=True)
class Expiry:
    expired: int
    #: (tenant, charger, EVSE) still reported ``Reserved`` by its charger.
    still_reserved: list[tuple[str, str, int | None]]


class ReservationStore(Protocol):
    def add(self, reservation: NewReservation, at: datetime) -> int:
        """Insert as ``requested``; returns the allocated reservation id."""
        ...

    def get(self, tenant_id: str, reservation_id: int) -> Reservation | None: ...

    def search(
        self,
        tenant_id: str,
        charge_point_id: str,
        status: ReservationStatus | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Reservation], int]: ...

    def transition(
        self,
        reservation_id: int,
        from_: tuple[ReservationStatus, ...],
        to: ReservationStatus,
        at: datetime,
    ) -> bool:
        """Move the reservation to ``to`` if it is in one of ``from_``."""
        ...

    def expire(self, now: datetime) -> list[int]:
        """Open reservations whose expiry date has passed become ``expired``; their ids."""
        ...

    def still_reserved(self, reservation_ids: list[int]) -> list[tuple[str, str, int | None]]:
        """(tenant, charger, EVSE) of these reservations whose EVSE the charger
        last reported ``Reserved`` and that no other open reservation holds."""
        ...


def reservation_event(
    tenant_id: str,
    charge_point_id: str,
    reservation_id: int,
    evse_id: int | None,
    id_token: IdToken,
    expiry_date: datetime,
    status: ReservationStatus,
    transaction_pk: int | None,
    at: datetime,
    correlation_id: str | None = None,
) -> DomainEvent:
    """ReservationStateChanged: the reservation as it is now."""
    return new_event(
        "ReservationStateChanged",
        tenant_id,
        charge_point_id,
        at,
        {
            "reservationId": reservation_id,
            "evseId": evse_id,
            "idToken": token_data(id_token),
            "expiryDate": iso(expiry_date),
            "status": status.value,
            "transactionRef": transaction_pk,
        },
        correlation_id=correlation_id,
    )
