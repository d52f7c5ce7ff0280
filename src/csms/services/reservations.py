"""Reservation functional block: a connector held for an id tag until an expiry date.

Lifecycle of a reservation (its id is the OCPP reservationId, allocated by PostgreSQL when
the ReserveNow command is submitted)::

    requested ──Accepted──▶ active ──StartTransaction(reservationId)──▶ used
        │                     ├──CancelReservation Accepted──────────▶ cancelled
        │                     └──expiry date passed (scheduled)──────▶ expired
        ├──Faulted/Occupied/Rejected/Unavailable──▶ rejected
        └──CALLERROR / invalid answer / no answer / charger offline──▶ failed

A StartTransaction also uses a ``requested`` reservation (its answer is still on the way) and
an ``expired`` one if the transaction started before the expiry date (the charger was
offline, frames arrive late). Each transition is a conditional update, so a late or repeated
event never moves a reservation backwards.
"""

from __future__ import annotations

from datetime import datetime

from csms.domain.reservations import (
    OPEN,
    Expiry,
    NewReservation,
    Reservation,
    ReservationStatus,
    ReservationStore,
)
from csms.domain.stations import ChargerContext
from csms.domain.tenancy import TenantScope
from csms.errors import Conflict, InvalidInput, NotFound
from csms.services.stations import Stations


class ReservationService:
    def __init__(self, store: ReservationStore, stations: Stations) -> None:
        self._store = store
        self._stations = stations

    def request(self, reservation: NewReservation, now: datetime) -> int:
        """Record a reservation about to be sent (ReserveNow); returns its id."""
        if reservation.expiry_date <= now:
            raise InvalidInput("expiryDate: must be in the future")
        return self._store.add(reservation, now)

    def accepted(self, reservation_id: int, now: datetime) -> None:
        self._store.transition(reservation_id, (ReservationStatus.REQUESTED,), ReservationStatus.ACTIVE, now)

    def rejected(self, reservation_id: int, now: datetime) -> None:
        self._store.transition(
            reservation_id, (ReservationStatus.REQUESTED,), ReservationStatus.REJECTED, now
        )

    def failed(self, reservation_id: int, now: datetime) -> None:
        self._store.transition(reservation_id, (ReservationStatus.REQUESTED,), ReservationStatus.FAILED, now)

    def cancellable(self, tenant_id: str, charge_point_id: str, reservation_id: int) -> Reservation:
        """The reservation a CancelReservation is about to cancel (404 unless it is the
        charger's; 409 unless it is still open)."""
        found = self._store.get(tenant_id, reservation_id)
        if found is None or found.charge_point_id != charge_point_id:
            raise NotFound(f"no reservation {reservation_id} on station {charge_point_id!r}")
        if found.status not in OPEN:
            raise Conflict(f"reservation {reservation_id} is {found.status.value}: nothing to cancel")
        return found

    def cancelled(self, reservation_id: int, now: datetime) -> None:
        self._store.transition(reservation_id, OPEN, ReservationStatus.CANCELLED, now)

    def station_update(self, ctx: ChargerContext, reservation_id: int, expired: bool, now: datetime) -> bool:
        """The station ended one of its reservations on its own (2.0.1 ReservationStatusUpdate):
        it expired, or the station removed it (an EVSE went out of order). False if it is not an
        open reservation of this station (unknown, another station's, ended already)."""
        found = self._store.get(ctx.tenant_id, reservation_id)
        if found is None or found.charge_point_id != ctx.charge_point_id:
            return False
        to = ReservationStatus.EXPIRED if expired else ReservationStatus.CANCELLED
        return self._store.transition(reservation_id, OPEN, to, now)

    def expire_reservations(self, now: datetime) -> int:
        """Mark open reservations past their expiry date ``expired`` (the scheduled job; the
        charger drops them by itself). Returns how many expired."""
        return self.expire(now).expired

    def expire(self, now: datetime) -> Expiry:
        """As :meth:`expire_reservations`, also naming the connectors the charger still last
        reported ``Reserved`` (the job asks those chargers for their status)."""
        ids = self._store.expire(now)
        return Expiry(len(ids), self._store.still_reserved(ids) if ids else [])

    def get(self, scope: TenantScope, reservation_id: int) -> Reservation:
        found = self._store.get(scope.tenant_id, reservation_id)
        if found is None:
            raise NotFound(f"no reservation {reservation_id}")
        return found

    def search(
        self,
        scope: TenantScope,
        charge_point_id: str,
        status: ReservationStatus | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Reservation], int]:
        """A charger's reservations, newest first."""
        self._stations.require(scope, charge_point_id)
        return self._store.search(scope.tenant_id, charge_point_id, status, limit, offset)
