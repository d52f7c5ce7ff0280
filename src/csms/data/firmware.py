"""PostgreSQL implementation of :class:`csms.domain.firmware.ChargePointEventStore`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, select

from csms.data.database import PgDatabase
from csms.data.tables import charge_point_events as events
from csms.domain.firmware import ChargePointEvent, EventKind


class PgChargePointEvents:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def add(
        self,
        tenant_id: str,
        charge_point_id: str,
        kind: EventKind,
        status: str,
        at: datetime,
        request_id: int | None = None,
    ) -> None:
        with self._db.begin() as conn:
            conn.execute(
                insert(events).values(
                    tenant_id=tenant_id,
                    charge_point_id=charge_point_id,
                    kind=kind.value,
                    status=status,
                    received_at=at,
                    request_id=request_id,
                )
            )

    def timeline(
        self, tenant_id: str, charge_point_id: str, kind: EventKind, limit: int, offset: int
    ) -> tuple[list[ChargePointEvent], int]:
        where = (
            events.c.tenant_id == tenant_id,
            events.c.charge_point_id == charge_point_id,
            events.c.kind == kind.value,
        )
        with self._db.connect() as conn:
            total = conn.execute(select(func.count()).select_from(events).where(*where)).scalar_one()
            rows = conn.execute(
                select(events)
                .where(*where)
                # id breaks ties: two reports within the same microsecond keep their order
                .order_by(events.c.received_at.desc(), events.c.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return [
                ChargePointEvent(
                    id=r.id,
                    kind=EventKind(r.kind),
                    status=r.status,
                    received_at=r.received_at,
                    request_id=r.request_id,
                )
                for r in rows
            ], int(total)
