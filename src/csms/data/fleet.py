"""Read and update queries behind :class:`csms.domain.stations.FleetQueries`."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Text, and_, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY

from csms.data.database import PgDatabase
from csms.data.repositories import _charge_point
from csms.data.tables import charge_points, connector_status_history, connectors, locations
from csms.domain.stations import (
    AvailabilityState,
    ChargePointQuery,
    ChargingState,
    ChargingStation,
    ConnectorView,
    StationSummary,
    StatusEntry,
    StatusQuery,
)

_SORT = {
    "id": charge_points.c.id,
    "createdAt": charge_points.c.created_at,
    "lastBootAt": charge_points.c.last_boot_at,
}


#: Each listed station's running transactions with the latest Power.Active.Import of each
#: (W: a kW reading times 1000, a reading without a unit taken as OCPP's W; the total when
#: the station sent one, else its phases summed). Per EVSE only its newest open transaction
#: counts, so a transaction a station never stopped does not add a stale reading to the power.
#: Indexes: ix_transactions_open_station (migration 0023) finds the open transactions of the
#: page's stations, ix_meter_samples_transaction (transaction_id, "timestamp") the newest
#: sample backwards from each (one probe per partition).
_RUNNING = text(
    """
    WITH running AS (
        SELECT t.charge_point_id, t.evse_id, t.start_timestamp, p.at, p.watts
        FROM transactions t
        LEFT JOIN LATERAL (
            SELECT latest.at,
                   coalesce(
                       max(s.numeric_value * CASE WHEN s.unit = 'kW' THEN 1000 ELSE 1 END)
                           FILTER (WHERE s.phase = ''),
                       sum(s.numeric_value * CASE WHEN s.unit = 'kW' THEN 1000 ELSE 1 END)
                           FILTER (WHERE s.phase IN ('L1', 'L2', 'L3', 'L1-N', 'L2-N', 'L3-N'))
                   ) AS watts
            FROM (
                SELECT m."timestamp" AS at
                FROM meter_samples m
                WHERE m.transaction_id = t.id AND m.measurand = 'Power.Active.Import'
                  AND m.numeric_value IS NOT NULL
                ORDER BY m."timestamp" DESC
                LIMIT 1
            ) latest
            JOIN meter_samples s
              ON s.transaction_id = t.id AND s."timestamp" = latest.at
             AND s.measurand = 'Power.Active.Import' AND s.numeric_value IS NOT NULL
            GROUP BY latest.at
        ) p ON true
        WHERE t.charge_point_id = ANY(:ids) AND t.tenant_id = :tenant_id AND t.stop_timestamp IS NULL
    ), per_evse AS (
        SELECT DISTINCT ON (charge_point_id, evse_id) charge_point_id, at, watts
        FROM running
        ORDER BY charge_point_id, evse_id, start_timestamp DESC
    )
    SELECT r.charge_point_id, r.running, e.watts, e.at
    FROM (SELECT charge_point_id, count(*) AS running FROM running GROUP BY charge_point_id) r
    JOIN (SELECT charge_point_id, sum(watts) AS watts, max(at) AS at FROM per_evse GROUP BY charge_point_id) e
      USING (charge_point_id)
    """
).bindparams(bindparam("ids", type_=ARRAY(Text)))


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
        if query.protocol is not None:
            spoken = func.coalesce(charge_points.c.last_protocol, charge_points.c.ocpp_version)
            conditions.append(spoken == query.protocol)
        if query.location_id is not None:
            conditions.append(charge_points.c.location_id == query.location_id)
        if query.id_prefix:
            conditions.append(charge_points.c.id.startswith(query.id_prefix, autoescape=True))
        # One array parameter, not one per id: the tenant's connected stations may be thousands.
        if query.only_ids is not None:
            only = bindparam("only_ids", list(query.only_ids), type_=ARRAY(Text))
            conditions.append(charge_points.c.id == only.any_())
        if query.exclude_ids:
            exclude = bindparam("exclude_ids", list(query.exclude_ids), type_=ARRAY(Text))
            conditions.append(~(charge_points.c.id == exclude.any_()))
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

    def summaries(self, tenant_id: str, charge_point_ids: Collection[str]) -> dict[str, StationSummary]:
        """Two queries for any number of stations: their connectors, and their running
        transactions with the power of each."""
        ids = list(dict.fromkeys(charge_point_ids))
        if not ids:
            return {}
        found: dict[str, list[ConnectorView]] = {station: [] for station in ids}
        with self._db.connect() as conn:
            rows = conn.execute(
                select(connectors)
                .where(
                    connectors.c.charge_point_id == bindparam("ids", ids, type_=ARRAY(Text)).any_(),
                    connectors.c.tenant_id == tenant_id,
                )
                .order_by(connectors.c.charge_point_id, connectors.c.evse_id, connectors.c.connector_id)
            )
            for r in rows:
                found[r.charge_point_id].append(_connector_view(r))
            running = {
                r.charge_point_id: r for r in conn.execute(_RUNNING, {"ids": ids, "tenant_id": tenant_id})
            }
        summaries: dict[str, StationSummary] = {}
        for station in ids:
            run = running.get(station)
            summaries[station] = StationSummary(
                connectors=tuple(found[station]),
                running_transactions=int(run.running) if run else 0,
                power_w=float(run.watts) if run is not None and run.watts is not None else None,
                power_at=run.at if run is not None and run.watts is not None else None,
            )
        return summaries

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
            return [_connector_view(r) for r in rows]

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


def _connector_view(r: Any) -> ConnectorView:
    return ConnectorView(
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
