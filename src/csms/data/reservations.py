"""PostgreSQL implementation of :class:`csms.domain.reservations.ReservationStore`.

Marking a reservation ``used`` belongs to the StartTransaction unit of work: see
``PgTransactions.use_reservation`` in :mod:`csms.data.repositories`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, exists, func, insert, select, update

from csms.data.database import PgDatabase
from csms.data.outbox import append
from csms.data.tables import connectors, reservations
from csms.domain.events import DomainEvent
from csms.domain.reservations import OPEN, NewReservation, Reservation, ReservationStatus, reservation_event
from csms.domain.stations import AvailabilityState
from csms.domain.tokens import IdToken, IdTokenType


def _token(value: str, kind: str | None) -> IdToken:
    return IdToken(value, IdTokenType(kind) if kind else None)


def _reservation(row: Row[Any]) -> Reservation:
    m = row._mapping
    return Reservation(
        id=m["id"],
        tenant_id=m["tenant_id"],
        charge_point_id=m["charge_point_id"],
        evse_id=m["evse_id"],
        id_token=_token(m["id_token"], m["id_token_type"]),
        group_id_token=m["group_id_token"],
        expiry_date=m["expiry_date"],
        status=ReservationStatus(m["status"]),
        transaction_id=m["transaction_id"],
        command_id=m["command_id"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        connector_type=m["connector_type"],
    )


_OPEN = [s.value for s in OPEN]
_EVENT_COLUMNS = (
    reservations.c.id,
    reservations.c.tenant_id,
    reservations.c.charge_point_id,
    reservations.c.evse_id,
    reservations.c.id_token,
    reservations.c.id_token_type,
    reservations.c.expiry_date,
    reservations.c.status,
    reservations.c.transaction_id,
    reservations.c.command_id,
)


def _row_event(row: Row[Any], at: datetime) -> DomainEvent:
    m = row._mapping
    return reservation_event(
        m["tenant_id"],
        m["charge_point_id"],
        m["id"],
        m["evse_id"],
        _token(m["id_token"], m["id_token_type"]),
        m["expiry_date"],
        ReservationStatus(m["status"]),
        m["transaction_id"],
        at,
    )


class PgReservationStore:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def add(self, reservation: NewReservation, at: datetime) -> int:
        with self._db.begin() as conn:
            allocated: int = conn.execute(
                insert(reservations)
                .values(
                    tenant_id=reservation.tenant_id,
                    charge_point_id=reservation.charge_point_id,
                    evse_id=reservation.evse_id,
                    id_token=reservation.id_token.value,
                    id_token_type=reservation.id_token.type.value if reservation.id_token.type else None,
                    group_id_token=reservation.group_id_token.value if reservation.group_id_token else None,
                    group_id_token_type=reservation.group_id_token.type.value
                    if reservation.group_id_token and reservation.group_id_token.type
                    else None,
                    connector_type=reservation.connector_type,
                    expiry_date=reservation.expiry_date,
                    status=ReservationStatus.REQUESTED.value,
                    command_id=reservation.command_id,
                    created_at=at,
                    updated_at=at,
                )
                .returning(reservations.c.id)
            ).scalar_one()
            append(
                conn,
                [
                    reservation_event(
                        reservation.tenant_id,
                        reservation.charge_point_id,
                        allocated,
                        reservation.evse_id,
                        reservation.id_token,
                        reservation.expiry_date,
                        ReservationStatus.REQUESTED,
                        None,
                        at,
                        f"command:{reservation.command_id}",
                    )
                ],
            )
        return allocated

    def get(self, tenant_id: str, reservation_id: int) -> Reservation | None:
        with self._db.connect() as conn:
            row = conn.execute(
                select(reservations).where(
                    reservations.c.id == reservation_id, reservations.c.tenant_id == tenant_id
                )
            ).first()
        return _reservation(row) if row else None

    def search(
        self,
        tenant_id: str,
        charge_point_id: str,
        status: ReservationStatus | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Reservation], int]:
        where = [reservations.c.tenant_id == tenant_id, reservations.c.charge_point_id == charge_point_id]
        if status is not None:
            where.append(reservations.c.status == status.value)
        with self._db.connect() as conn:
            total = conn.execute(select(func.count()).select_from(reservations).where(*where)).scalar_one()
            rows = conn.execute(
                select(reservations)
                .where(*where)
                .order_by(reservations.c.created_at.desc(), reservations.c.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return [_reservation(r) for r in rows], int(total)

    def transition(
        self,
        reservation_id: int,
        from_: tuple[ReservationStatus, ...],
        to: ReservationStatus,
        at: datetime,
    ) -> bool:
        with self._db.begin() as conn:
            rows = conn.execute(
                update(reservations)
                .where(
                    reservations.c.id == reservation_id, reservations.c.status.in_([s.value for s in from_])
                )
                .values(status=to.value, updated_at=at)
                .returning(*_EVENT_COLUMNS)
            ).all()
            append(conn, [_row_event(row, at) for row in rows])
            return bool(rows)

    def expire(self, now: datetime) -> list[int]:
        # ix_reservations_expiring (expiry_date, WHERE status IN open) serves this.
        with self._db.begin() as conn:
            rows = conn.execute(
                update(reservations)
                .where(reservations.c.status.in_(_OPEN), reservations.c.expiry_date <= now)
                .values(status=ReservationStatus.EXPIRED.value, updated_at=now)
                .returning(*_EVENT_COLUMNS)
            ).all()
            append(conn, [_row_event(row, now) for row in rows])
            return [r.id for r in rows]

    def still_reserved(self, reservation_ids: list[int]) -> list[tuple[str, str, int | None]]:
        held = reservations.alias("held")
        with self._db.connect() as conn:
            rows = conn.execute(
                select(reservations.c.tenant_id, reservations.c.charge_point_id, reservations.c.evse_id)
                .distinct()
                .join(
                    connectors,
                    and_(
                        connectors.c.charge_point_id == reservations.c.charge_point_id,
                        connectors.c.evse_id == reservations.c.evse_id,
                    ),
                )
                .where(
                    reservations.c.id.in_(reservation_ids),
                    connectors.c.state == AvailabilityState.RESERVED.value,
                    ~exists().where(
                        held.c.charge_point_id == reservations.c.charge_point_id,
                        held.c.evse_id == reservations.c.evse_id,
                        held.c.status.in_(_OPEN),
                    ),
                )
                .order_by(reservations.c.charge_point_id, reservations.c.evse_id)
            )
            return [(r.tenant_id, r.charge_point_id, r.evse_id) for r in rows]
