"""Queries behind :class:`csms.domain.transactions.SessionQueries`.

The energy of a transaction is computed in SQL (so lists can sort by it); the rule is the
one in :mod:`csms.services.sessions`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Row, Select, and_, case, cast, func, or_, select, true

from csms.data.database import PgDatabase
from csms.data.tables import meter_samples, transaction_events, transactions, unknown_transaction_stops
from csms.data.transactions import TX_COLUMNS, transaction
from csms.domain.metering import ENERGY_REGISTER
from csms.domain.tokens import IdToken, IdTokenType
from csms.domain.transactions import (
    TransactionEventRecord,
    TransactionEventType,
    TransactionQuery,
    TransactionRecord,
    UnknownStop,
    UnknownStopQuery,
)


def in_wh(samples: Any) -> Any:
    """A Wh or kWh register reading of ``samples`` (meter_samples or an alias) in Wh."""
    return case((samples.c.unit == "kWh", samples.c.numeric_value * 1000), else_=samples.c.numeric_value)


_sample = meter_samples.alias("energy_sample")
_in_wh = in_wh(_sample)
#: The latest energy register reading of an open transaction (evaluated per row, gated off
#: for closed ones; ix_meter_samples_transaction finds it).
_latest = (
    select(_in_wh.label("wh"), _sample.c.timestamp.label("at"))
    .where(
        transactions.c.stop_timestamp.is_(None),
        _sample.c.transaction_id == transactions.c.id,
        _sample.c.tenant_id == transactions.c.tenant_id,
        _sample.c.timestamp >= transactions.c.start_timestamp,
        _sample.c.measurand == ENERGY_REGISTER,
        _sample.c.phase == "",
        _sample.c.unit.in_(("Wh", "kWh")),
        _sample.c.numeric_value.is_not(None),
    )
    .order_by(_sample.c.timestamp.desc(), (_sample.c.location == "Outlet").desc(), _sample.c.context)
    .limit(1)
    .lateral("latest_energy")
)
_closed = transactions.c.stop_timestamp.is_not(None)
_energy = case(
    (_closed, transactions.c.meter_stop - transactions.c.meter_start),
    else_=cast(func.round(_latest.c.wh - transactions.c.meter_start), BigInteger),
).label("energy_wh")
_energy_at = case((_closed, transactions.c.stop_timestamp), else_=_latest.c.at).label("energy_measured_at")

_SORT = {
    "startedAt": transactions.c.start_timestamp,
    "stoppedAt": transactions.c.stop_timestamp,
    "energyWh": _energy,
}


def _with_energy() -> Select[Any]:
    return select(*TX_COLUMNS, _energy, _energy_at).select_from(transactions.outerjoin(_latest, true()))


def _record(row: Row[Any]) -> TransactionRecord:
    m = row._mapping
    return TransactionRecord(
        transaction(row), energy_wh=m["energy_wh"], energy_measured_at=m["energy_measured_at"]
    )


def _event(row: Row[Any]) -> TransactionEventRecord:
    token = (
        IdToken(row.id_token, IdTokenType(row.id_token_type) if row.id_token_type else None)
        if row.id_token
        else None
    )
    return TransactionEventRecord(
        seq_no=row.seq_no,
        event_type=TransactionEventType(row.event_type),
        trigger_reason=row.trigger_reason,
        timestamp=row.timestamp,
        offline=row.offline,
        received_at=row.received_at,
        evse_id=row.evse_id,
        connector_id=row.connector_id,
        charging_state=row.charging_state,
        stopped_reason=row.stopped_reason,
        id_token=token,
        id_token_status=row.id_token_status,
        remote_start_id=row.remote_start_id,
        reservation_id=row.reservation_id,
        meter_values=row.meter_values,
        after_end=row.after_end,
    )


class PgSessionQueries:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def search(self, tenant_id: str, query: TransactionQuery) -> tuple[list[TransactionRecord], int]:
        t = transactions.c
        conditions = [t.tenant_id == tenant_id]
        if query.charge_point_id is not None:
            conditions.append(t.charge_point_id == query.charge_point_id)
        if query.evse_id is not None:
            conditions.append(t.evse_id == query.evse_id)
        if query.connector_id is not None:
            conditions.append(t.connector_id == query.connector_id)
        if query.transaction_id is not None:
            conditions.append(t.transaction_id == query.transaction_id)
        if query.id_token is not None:
            conditions.append(func.lower(t.id_token) == func.lower(query.id_token))
        if query.protocol is not None:
            conditions.append(t.protocol == query.protocol)
        if query.deauthorized is True:
            conditions.append(t.deauthorized_at.is_not(None))
        elif query.deauthorized is False:
            conditions.append(t.deauthorized_at.is_(None))
        if query.start is not None:
            conditions.append(t.start_timestamp >= query.start)
        if query.end is not None:
            conditions.append(t.start_timestamp < query.end)
        if query.open is True:
            conditions.append(t.stop_timestamp.is_(None))
        elif query.open is False:
            conditions.append(t.stop_timestamp.is_not(None))
        if query.flagged is True:
            conditions.append(t.flagged_at.is_not(None))
        elif query.flagged is False:
            conditions.append(t.flagged_at.is_(None))
        if query.closed_by == "csms":
            conditions.append(t.closed_by == "csms")
        elif query.closed_by == "charger":
            conditions.extend(
                [t.stop_timestamp.is_not(None), or_(t.closed_by.is_(None), t.closed_by != "csms")]
            )
        where = and_(*conditions)
        column = _SORT.get(query.sort, t.start_timestamp)
        if query.descending:
            order = [column.desc().nulls_last(), t.id.desc()]
        else:
            order = [column.asc().nulls_last(), t.id.asc()]
        with self._db.connect() as conn:
            total = conn.execute(select(func.count()).select_from(transactions).where(where)).scalar_one()
            rows = conn.execute(
                _with_energy().where(where).order_by(*order).limit(query.limit).offset(query.offset)
            )
            return [_record(r) for r in rows], int(total)

    def get(self, tenant_id: str, transaction_pk: int) -> TransactionRecord | None:
        with self._db.connect() as conn:
            row = conn.execute(
                _with_energy().where(
                    transactions.c.id == transaction_pk, transactions.c.tenant_id == tenant_id
                )
            ).first()
        return _record(row) if row else None

    def events(self, tenant_id: str, transaction_pk: int) -> list[TransactionEventRecord]:
        e = transaction_events
        with self._db.connect() as conn:
            rows = conn.execute(
                select(e)
                .where(e.c.transaction_pk == transaction_pk, e.c.tenant_id == tenant_id)
                .order_by(e.c.seq_no.asc().nulls_last(), e.c.timestamp, e.c.id)
            )
            return [_event(r) for r in rows]

    def unknown_stops(self, tenant_id: str, query: UnknownStopQuery) -> tuple[list[UnknownStop], int]:
        u = unknown_transaction_stops.c
        conditions = [u.tenant_id == tenant_id]
        if query.charge_point_id is not None:
            conditions.append(u.charge_point_id == query.charge_point_id)
        if query.start is not None:
            conditions.append(u.received_at >= query.start)
        if query.end is not None:
            conditions.append(u.received_at < query.end)
        where = and_(*conditions)
        order = [u.received_at.desc(), u.id.desc()] if query.descending else [u.received_at.asc(), u.id.asc()]
        with self._db.connect() as conn:
            total = conn.execute(
                select(func.count()).select_from(unknown_transaction_stops).where(where)
            ).scalar_one()
            rows = conn.execute(
                select(unknown_transaction_stops)
                .where(where)
                .order_by(*order)
                .limit(query.limit)
                .offset(query.offset)
            )
            stops = [
                UnknownStop(
                    id=r.id,
                    charge_point_id=r.charge_point_id,
                    transaction_id=r.transaction_id,
                    meter_stop=r.meter_stop,
                    stopped_at=r.stop_timestamp,
                    received_at=r.received_at,
                    id_tag=r.id_tag,
                    reason=r.reason,
                    transaction_data=r.transaction_data,
                )
                for r in rows
            ]
        return stops, int(total)
