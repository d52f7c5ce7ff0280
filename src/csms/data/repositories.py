"""PostgreSQL repositories (SQLAlchemy Core). Each method is one round trip where it can be."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, exists, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from csms.data.tables import (
    charge_points,
    connector_status_history,
    connectors,
    id_tags,
    meter_samples,
    tenants,
    transactions,
    unknown_transaction_stops,
)
from csms.domain import (
    AuthorizationStatus,
    BootInfo,
    ChargePoint,
    ConnectorStatus,
    IdTag,
    MeterSample,
    RegistrationStatus,
    StoppedTransaction,
    Transaction,
    TransactionStart,
    TransactionStop,
)
from csms.errors import AlreadyExists, InvalidInput


def _is_unique_violation(exc: IntegrityError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == "23505"


class PgTenants:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def ensure(self, tenant_id: str, at: datetime) -> None:
        self._conn.execute(
            pg_insert(tenants).values(id=tenant_id, name=tenant_id, created_at=at).on_conflict_do_nothing()
        )


def _charge_point(row: Row[Any]) -> ChargePoint:
    m = row._mapping
    return ChargePoint(
        id=m["id"],
        tenant_id=m["tenant_id"],
        registration_status=RegistrationStatus(m["registration_status"]),
        password_hash=m["password_hash"],
        vendor=m["vendor"],
        model=m["model"],
        serial_number=m["serial_number"],
        charge_box_serial_number=m["charge_box_serial_number"],
        firmware_version=m["firmware_version"],
        iccid=m["iccid"],
        imsi=m["imsi"],
        meter_type=m["meter_type"],
        meter_serial_number=m["meter_serial_number"],
        last_boot_at=m["last_boot_at"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        location_id=m["location_id"],
        decommissioned_at=m["decommissioned_at"],
    )


class PgChargePoints:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, charge_point_id: str) -> ChargePoint | None:
        row = self._conn.execute(select(charge_points).where(charge_points.c.id == charge_point_id)).first()
        return _charge_point(row) if row else None

    def add(self, charge_point: ChargePoint, at: datetime) -> None:
        try:
            with self._conn.begin_nested():
                self._conn.execute(
                    insert(charge_points).values(
                        id=charge_point.id,
                        tenant_id=charge_point.tenant_id,
                        password_hash=charge_point.password_hash,
                        registration_status=charge_point.registration_status.value,
                        created_at=at,
                        updated_at=at,
                    )
                )
        except IntegrityError as exc:
            if _is_unique_violation(exc):
                raise AlreadyExists(f"charge point {charge_point.id!r} exists already") from exc
            raise

    def list(self, tenant_id: str | None = None) -> list[ChargePoint]:
        query = select(charge_points).order_by(charge_points.c.tenant_id, charge_points.c.id)
        if tenant_id is not None:
            query = query.where(charge_points.c.tenant_id == tenant_id)
        return [_charge_point(r) for r in self._conn.execute(query)]

    def remove(self, charge_point_id: str, tenant_id: str | None = None) -> bool:
        condition = charge_points.c.id == charge_point_id
        if tenant_id is not None:
            condition = and_(condition, charge_points.c.tenant_id == tenant_id)
        has_history = self._conn.execute(
            select(exists().where(transactions.c.charge_point_id == charge_point_id))
        ).scalar()
        if has_history:
            raise InvalidInput(
                f"charge point {charge_point_id!r} has transaction history and cannot be deleted; "
                "its transactions are billing records"
            )
        return bool(self._conn.execute(delete(charge_points).where(condition)).rowcount)

    def record_boot(self, charge_point_id: str, info: BootInfo, at: datetime) -> None:
        self._conn.execute(
            update(charge_points)
            .where(charge_points.c.id == charge_point_id)
            .values(
                vendor=info.vendor,
                model=info.model,
                serial_number=info.serial_number,
                charge_box_serial_number=info.charge_box_serial_number,
                firmware_version=info.firmware_version,
                iccid=info.iccid,
                imsi=info.imsi,
                meter_type=info.meter_type,
                meter_serial_number=info.meter_serial_number,
                last_boot_at=at,
                updated_at=at,
            )
        )

    def register_pending(self, charge_point_id: str, tenant_id: str, at: datetime) -> ChargePoint:
        PgTenants(self._conn).ensure(tenant_id, at)
        self._conn.execute(
            pg_insert(charge_points)
            .values(
                id=charge_point_id,
                tenant_id=tenant_id,
                registration_status=RegistrationStatus.PENDING.value,
                created_at=at,
                updated_at=at,
            )
            .on_conflict_do_nothing()
        )
        found = self.get(charge_point_id)
        assert found is not None
        return found


class PgConnectors:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def record_status(
        self, tenant_id: str, charge_point_id: str, status: ConnectorStatus, received_at: datetime
    ) -> bool:
        values = {
            "tenant_id": tenant_id,
            "charge_point_id": charge_point_id,
            "connector_id": status.connector_id,
            "status": status.status,
            "error_code": status.error_code,
            "info": status.info,
            "vendor_id": status.vendor_id,
            "vendor_error_code": status.vendor_error_code,
            "status_timestamp": status.timestamp,
        }
        history = (
            pg_insert(connector_status_history)
            .values(**values, received_at=received_at)
            .on_conflict_do_nothing()
            .cte("history")
        )
        insert_latest = pg_insert(connectors).values(**values, updated_at=received_at)
        # Frames are processed out of order: an older report never replaces a newer one.
        latest = insert_latest.on_conflict_do_update(
            index_elements=[connectors.c.charge_point_id, connectors.c.connector_id],
            set_={
                k: insert_latest.excluded[k]
                for k in (*values, "updated_at")
                if k not in ("charge_point_id", "connector_id")
            },
            where=connectors.c.status_timestamp <= insert_latest.excluded.status_timestamp,
        ).returning(literal(1))
        return self._conn.execute(latest.add_cte(history)).first() is not None


def _id_tag(row: Row[Any]) -> IdTag:
    m = row._mapping
    return IdTag(
        tenant_id=m["tenant_id"],
        id_tag=m["id_tag"],
        status=AuthorizationStatus(m["status"]),
        expiry_date=m["expiry_date"],
        parent_id_tag=m["parent_id_tag"],
        created_at=m["created_at"],
    )


class PgIdTags:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, tenant_id: str, id_tag: str) -> IdTag | None:
        row = self._conn.execute(
            select(id_tags).where(id_tags.c.tenant_id == tenant_id, id_tags.c.id_tag == id_tag)
        ).first()
        return _id_tag(row) if row else None

    def add(self, tag: IdTag, at: datetime) -> None:
        try:
            with self._conn.begin_nested():
                self._conn.execute(
                    insert(id_tags).values(
                        tenant_id=tag.tenant_id,
                        id_tag=tag.id_tag,
                        status=tag.status.value,
                        expiry_date=tag.expiry_date,
                        parent_id_tag=tag.parent_id_tag,
                        created_at=at,
                        updated_at=at,
                    )
                )
        except IntegrityError as exc:
            if _is_unique_violation(exc):
                raise AlreadyExists(
                    f"id tag {tag.id_tag!r} exists already in tenant {tag.tenant_id!r}"
                ) from exc
            raise

    def list(self, tenant_id: str | None = None) -> list[IdTag]:
        query = select(id_tags).order_by(id_tags.c.tenant_id, id_tags.c.id_tag)
        if tenant_id is not None:
            query = query.where(id_tags.c.tenant_id == tenant_id)
        return [_id_tag(r) for r in self._conn.execute(query)]


def _transaction(row: Row[Any]) -> Transaction:
    m = row._mapping
    return Transaction(
        id=m["id"],
        tenant_id=m["tenant_id"],
        charge_point_id=m["charge_point_id"],
        connector_id=m["connector_id"],
        id_tag=m["id_tag"],
        meter_start=m["meter_start"],
        start_timestamp=m["start_timestamp"],
        reservation_id=m["reservation_id"],
        meter_stop=m["meter_stop"],
        stop_timestamp=m["stop_timestamp"],
        stop_reason=m["stop_reason"],
        stop_id_tag=m["stop_id_tag"],
    )


_TX_COLUMNS = [c for c in transactions.c if c.name != "transaction_data"]


class PgTransactions:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def start(
        self,
        tenant_id: str,
        charge_point_id: str,
        start: TransactionStart,
        auth_status: AuthorizationStatus,
        received_at: datetime,
    ) -> Transaction:
        insert_start = pg_insert(transactions).values(
            tenant_id=tenant_id,
            charge_point_id=charge_point_id,
            connector_id=start.connector_id,
            id_tag=start.id_tag,
            start_auth_status=auth_status.value,
            meter_start=start.meter_start,
            start_timestamp=start.timestamp,
            reservation_id=start.reservation_id,
            started_received_at=received_at,
        )
        # A retried start hits the unique start identity; the no-op update makes RETURNING
        # hand back the existing row, so the charger gets the same transactionId again.
        statement = insert_start.on_conflict_do_update(
            index_elements=["charge_point_id", "connector_id", "id_tag", "meter_start", "start_timestamp"],
            set_={"charge_point_id": insert_start.excluded.charge_point_id},
        ).returning(*_TX_COLUMNS)
        return _transaction(self._conn.execute(statement).one())

    def has_open_transaction(self, tenant_id: str, id_tag: str, excluding_id: int | None = None) -> bool:
        condition = and_(
            transactions.c.tenant_id == tenant_id,
            transactions.c.id_tag == id_tag,
            transactions.c.stop_timestamp.is_(None),
        )
        if excluding_id is not None:
            condition = and_(condition, transactions.c.id != excluding_id)
        return bool(self._conn.execute(select(exists().where(condition))).scalar())

    def stop(
        self, tenant_id: str, charge_point_id: str, stop: TransactionStop, received_at: datetime
    ) -> StoppedTransaction:
        mine = and_(
            transactions.c.id == stop.transaction_id, transactions.c.charge_point_id == charge_point_id
        )
        row = self._conn.execute(
            update(transactions)
            .where(mine, transactions.c.stop_timestamp.is_(None))
            .values(
                meter_stop=stop.meter_stop,
                stop_timestamp=stop.timestamp,
                stop_reason=stop.reason,
                stop_id_tag=stop.id_tag,
                transaction_data=stop.raw_transaction_data,
                stopped_received_at=received_at,
            )
            .returning(*_TX_COLUMNS)
        ).first()
        if row is None:
            # Either a retry of a stop we already stored (first stop wins) or an unknown id.
            row = self._conn.execute(select(*_TX_COLUMNS).where(mine)).first()
        if row is not None:
            return StoppedTransaction(transaction=_transaction(row))
        self._conn.execute(
            pg_insert(unknown_transaction_stops)
            .values(
                tenant_id=tenant_id,
                charge_point_id=charge_point_id,
                transaction_id=stop.transaction_id,
                id_tag=stop.id_tag,
                meter_stop=stop.meter_stop,
                stop_timestamp=stop.timestamp,
                reason=stop.reason,
                transaction_data=stop.raw_transaction_data,
                received_at=received_at,
            )
            .on_conflict_do_nothing()
        )
        return StoppedTransaction(transaction=None, unknown=True)


def _numeric(sample: MeterSample) -> float | None:
    if sample.format != "Raw":
        return None
    try:
        value = float(sample.value)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class PgMeterValues:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add_samples(
        self,
        tenant_id: str,
        charge_point_id: str,
        connector_id: int,
        transaction_id: int | None,
        samples: Sequence[MeterSample],
        received_at: datetime,
    ) -> int:
        if not samples:
            return 0
        rows = [
            {
                "tenant_id": tenant_id,
                "charge_point_id": charge_point_id,
                "connector_id": connector_id,
                "transaction_id": transaction_id,
                "timestamp": s.timestamp,
                "measurand": s.measurand,
                "phase": s.phase or "",
                "unit": s.unit,
                "context": s.context,
                "location": s.location,
                "format": s.format,
                "value": s.value,
                "numeric_value": _numeric(s),
                "received_at": received_at,
            }
            for s in samples
        ]
        # One multi-row statement (one round trip); the natural key drops retried samples.
        result = self._conn.execute(pg_insert(meter_samples).values(rows).on_conflict_do_nothing())
        return int(result.rowcount)


class PgUnitOfWork:
    """Repositories bound to one connection (and so to one transaction)."""

    def __init__(self, conn: Connection) -> None:
        self.connection = conn
        self.tenants = PgTenants(conn)
        self.charge_points = PgChargePoints(conn)
        self.connectors = PgConnectors(conn)
        self.id_tags = PgIdTags(conn)
        self.transactions = PgTransactions(conn)
        self.meter_values = PgMeterValues(conn)


__all__ = ["PgUnitOfWork"]
