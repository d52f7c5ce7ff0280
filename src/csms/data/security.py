"""PostgreSQL implementation of :class:`csms.domain.security.SecurityEventStore`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from csms.data.database import PgDatabase
from csms.data.outbox import append
from csms.data.tables import security_events
from csms.domain.events import DomainEvent
from csms.domain.security import SecurityEvent, StoredSecurityEvent


def _stored(row: Row[Any]) -> StoredSecurityEvent:
    return StoredSecurityEvent(
        id=row.id,
        event=SecurityEvent(type=row.type, timestamp=row.timestamp, tech_info=row.tech_info),
        received_at=row.received_at,
    )


class PgSecurityEvents:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def add(
        self,
        tenant_id: str,
        charge_point_id: str,
        event: SecurityEvent,
        received_at: datetime,
        announce: DomainEvent,
    ) -> bool:
        with self._db.begin() as conn:
            inserted = conn.execute(
                pg_insert(security_events)
                .values(
                    tenant_id=tenant_id,
                    charge_point_id=charge_point_id,
                    type=event.type,
                    timestamp=event.timestamp,
                    tech_info=event.tech_info,
                    received_at=received_at,
                )
                # ux_security_events_natural: a retried notification stores nothing
                .on_conflict_do_nothing()
                .returning(security_events.c.id)
            ).first()
            if inserted is None:
                return False
            append(conn, [announce])
            return True

    def search(
        self, tenant_id: str, charge_point_id: str, limit: int, offset: int
    ) -> tuple[list[StoredSecurityEvent], int]:
        where = (
            security_events.c.tenant_id == tenant_id,
            security_events.c.charge_point_id == charge_point_id,
        )
        with self._db.connect() as conn:
            total = conn.execute(select(func.count()).select_from(security_events).where(*where)).scalar_one()
            rows = conn.execute(
                select(security_events)
                .where(*where)
                .order_by(security_events.c.timestamp.desc(), security_events.c.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return [_stored(row) for row in rows], int(total)
