"""Read and update queries behind :class:`csms.domain.stations.FleetQueries`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update

from csms.data.database import PgDatabase
from csms.data.repositories import _charge_point
from csms.data.tables import charge_points, connector_status_history, connectors, locations
from csms.domain.stations import (
    AvailabilityState,
    ChargePointQuery,
    ChargingState,
    ChargingStation,
    ConnectorView,
    StatusEntry,
    StatusQuery,
)

_SORT = {
    "id": charge_points.c.id,
    "createdAt": charge_points.c.created_at,
    "lastBootAt": charge_points.c.last_boot_at,
}


class PgFleetQueries:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def search(self, tenant_id: str, query: ChargePointQuery) -> tuple[list[ChargingStation], int]:
        conditions = [charge_points.c.tenant_id == tenant_id]
        if not query.include_decommissioned:
            conditions.append(charge_points.c.decommissioned_at.is_(None))
        if query.registration_status is not None:
            conditions.append(charge_points.c.registration_status == query.registration_status.value)
        if query.ocpp_version is not None:
            conditions.append(charge_points.c.ocpp_version == query.ocpp_version)
        if query.location_id is not None:
            conditions.append(charge_points.c.location_id == query.location_id)
        if query.id_prefix:
            conditions.append(charge_points.c.id.startswith(query.id_prefix, autoescape=True))
        if query.only_ids is not None:
            conditions.append(charge_points.c.id.in_(list(query.only_ids)))
        if query.exclude_ids:
            conditions.append(charge_points.c.id.not_in(list(query.exclude_ids)))
        column = _SORT.get(query.sort, charge_points.c.id)
        order = column.desc().nulls_last() if query.descending else column.asc().nulls_last()
        where = and_(*conditions)
        with self._db.connect() as conn:
            total = conn.execute(select(func.count()).select_from(charge_points).where(where)).scalar_one()
            rows = conn.execute(
                select(charge_points)
                .where(where)
                .order_by(order, charge_points.c.id)
                .limit(query.limit)
                .offset(query.offset)
            )
            return [_charge_point(r) for r in rows], int(total)

    def get(self, tenant_id: str, charge_point_id: str) -> ChargingStation | None:
        with self._db.connect() as conn:
            row = conn.execute(
                select(charge_points).where(
                    charge_points.c.id == charge_point_id, charge_points.c.tenant_id == tenant_id
                )
            ).first()
        return _charge_point(row) if row else None

    def connectors(self, tenant_id: str, charge_point_id: str) -> list[ConnectorView]:
        with self._db.connect() as conn:
            rows = conn.execute(
                select(connectors)
                .where(connectors.c.tenant_id == tenant_id, connectors.c.charge_point_id == charge_point_id)
                .order_by(connectors.c.evse_id, connectors.c.connector_id)
            )
            return [
                ConnectorView(
                    evse_id=r.evse_id,
                    connector_id=r.connector_id,
                    status=r.status,
                    state=AvailabilityState(r.state),
                    charging_state=ChargingState(r.charging_state) if r.charging_state else None,
                    error_code=r.error_code,
                    since=r.status_timestamp,
                    updated_at=r.updated_at,
                    info=r.info,
                    vendor_id=r.vendor_id,
                    vendor_error_code=r.vendor_error_code,
                )
                for r in rows
            ]

    def status_history(
        self, tenant_id: str, charge_point_id: str, query: StatusQuery
    ) -> tuple[list[StatusEntry], int]:
        h = connector_status_history
        conditions = [h.c.tenant_id == tenant_id, h.c.charge_point_id == charge_point_id]
        if query.evse_id is not None:
            conditions.append(h.c.evse_id == query.evse_id)
        if query.connector_id is not None:
            conditions.append(h.c.connector_id == query.connector_id)
        if query.start is not None:
            conditions.append(h.c.status_timestamp >= query.start)
        if query.end is not None:
            conditions.append(h.c.status_timestamp < query.end)
        where = and_(*conditions)
        with self._db.connect() as conn:
            total = conn.execute(select(func.count()).select_from(h).where(where)).scalar_one()
            rows = conn.execute(
                select(h)
                .where(where)
                .order_by(h.c.status_timestamp.desc(), h.c.id.desc())
                .limit(query.limit)
                .offset(query.offset)
            )
            entries = [
                StatusEntry(
                    evse_id=r.evse_id,
                    connector_id=r.connector_id,
                    status=r.status,
                    state=AvailabilityState(r.state),
                    charging_state=ChargingState(r.charging_state) if r.charging_state else None,
                    error_code=r.error_code,
                    timestamp=r.status_timestamp,
                    received_at=r.received_at,
                    info=r.info,
                    vendor_id=r.vendor_id,
                    vendor_error_code=r.vendor_error_code,
                )
                for r in rows
            ]
        return entries, int(total)

    def update(self, tenant_id: str, charge_point_id: str, changes: dict[str, Any], now: datetime) -> bool:
        with self._db.begin() as conn:
            result = conn.execute(
                update(charge_points)
                .where(charge_points.c.id == charge_point_id, charge_points.c.tenant_id == tenant_id)
                .values(**changes, updated_at=now)
            )
            return bool(result.rowcount)

    def location_exists(self, tenant_id: str, location_id: str) -> bool:
        return self._db.exists(locations, location_id, tenant_id)
