"""PostgreSQL implementation of :class:`csms.domain.charging_limits.ChargingLimitStore`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from csms.data.database import PgDatabase
from csms.data.outbox import append
from csms.data.tables import charging_limits, ev_charging_needs
from csms.domain.charging_limits import ChargingLimit, ChargingNeeds, StoredChargingLimit
from csms.domain.events import DomainEvent

#: 2.0.1's EVSE 0: the whole station.
STATION = 0


class PgChargingLimits:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def set_limit(
        self, tenant_id: str, charge_point_id: str, limit: ChargingLimit, at: datetime, announce: DomainEvent
    ) -> None:
        values = {
            "tenant_id": tenant_id,
            "charge_point_id": charge_point_id,
            "source": limit.source,
            "evse_id": limit.evse_id if limit.evse_id is not None else STATION,
            "is_grid_critical": limit.is_grid_critical,
            "schedules": list(limit.schedules),
            "reported_at": at,
            "cleared_at": None,
        }
        statement = pg_insert(charging_limits).values(values)
        with self._db.begin() as conn:
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["charge_point_id", "source", "evse_id"],
                    set_={
                        k: statement.excluded[k]
                        for k in ("is_grid_critical", "schedules", "reported_at", "cleared_at")
                    },
                )
            )
            append(conn, [announce])

    def clear_limit(
        self,
        tenant_id: str,
        charge_point_id: str,
        source: str,
        evse_id: int | None,
        at: datetime,
        announce: DomainEvent,
    ) -> bool:
        c = charging_limits.c
        with self._db.begin() as conn:
            cleared = conn.execute(
                update(charging_limits)
                .where(
                    c.tenant_id == tenant_id,
                    c.charge_point_id == charge_point_id,
                    c.source == source,
                    c.evse_id == (evse_id if evse_id is not None else STATION),
                    c.cleared_at.is_(None),
                )
                .values(cleared_at=at)
            ).rowcount
            if cleared:
                append(conn, [announce])
            return bool(cleared)

    def limits(self, tenant_id: str, charge_point_id: str) -> list[StoredChargingLimit]:
        c = charging_limits.c
        with self._db.connect() as conn:
            rows = conn.execute(
                select(charging_limits)
                .where(c.tenant_id == tenant_id, c.charge_point_id == charge_point_id, c.cleared_at.is_(None))
                .order_by(c.evse_id, c.source)
            )
            return [
                StoredChargingLimit(
                    limit=ChargingLimit(
                        source=r.source,
                        evse_id=r.evse_id if r.evse_id != STATION else None,
                        is_grid_critical=r.is_grid_critical,
                        schedules=tuple(r.schedules),
                    ),
                    reported_at=r.reported_at,
                    cleared_at=r.cleared_at,
                )
                for r in rows
            ]

    def set_needs(self, tenant_id: str, charge_point_id: str, needs: ChargingNeeds, at: datetime) -> None:
        statement = pg_insert(ev_charging_needs).values(
            tenant_id=tenant_id,
            charge_point_id=charge_point_id,
            evse_id=needs.evse_id,
            requested_energy_transfer=needs.requested_energy_transfer,
            departure_time=needs.departure_time,
            max_schedule_tuples=needs.max_schedule_tuples,
            parameters=needs.parameters,
            reported_at=at,
        )
        with self._db.begin() as conn:
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["charge_point_id", "evse_id"],
                    set_={
                        k: statement.excluded[k]
                        for k in (
                            "requested_energy_transfer",
                            "departure_time",
                            "max_schedule_tuples",
                            "parameters",
                            "reported_at",
                        )
                    },
                )
            )
