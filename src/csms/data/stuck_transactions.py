"""The stuck-transactions job's queries (the rules are in :mod:`csms.services.stuck_transactions`).

Every change is a conditional update made in the same database transaction as its domain
event: a transaction is closed only while it is still open, flagged only while it is open and
not flagged yet, so concurrent or repeated runs change (and announce) each transaction once.
Nothing is ever deleted.

Only open transactions are read (the partial index ``ix_transactions_open_started``); per
candidate, meter samples are reached through ``ix_meter_samples_transaction_received``
(latest received sample of a transaction) and the connector's latest status through the
``connectors`` primary key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, exists, func, select, true, update

from csms.constants import OCPP16
from csms.data.database import PgDatabase
from csms.data.outbox import append
from csms.data.sessions import in_wh
from csms.data.tables import charge_points, connectors, meter_samples, transactions
from csms.data.transactions import TX_COLUMNS, transaction
from csms.domain.events import DomainEvent, new_event
from csms.domain.metering import ENERGY_REGISTER
from csms.domain.transactions import Superseded, flagged_event, stopped_data

#: What the CSMS writes as the stop reason of a transaction it closed (an OCPP 1.6 Reason).
CLOSED_REASON = "Other"
CLOSED_BY_CSMS = "csms"

_t = transactions
_successor_row = transactions.alias("successor")

#: The transaction the same charger started next on the same connector: a higher id (the
#: CSMS allocated it later) that did not start before this one. ix_transactions_charger_
#: connector_time reads only the connector's transactions started since.
_successor = (
    select(_successor_row.c.id, _successor_row.c.start_timestamp)
    .where(
        _successor_row.c.tenant_id == _t.c.tenant_id,
        _successor_row.c.charge_point_id == _t.c.charge_point_id,
        _successor_row.c.evse_id == _t.c.evse_id,
        _successor_row.c.start_timestamp >= _t.c.start_timestamp,
        _successor_row.c.id > _t.c.id,
    )
    .order_by(_successor_row.c.start_timestamp, _successor_row.c.id)
    .limit(1)
    .lateral("next_transaction")
)

#: When the charger last sent a meter value for the transaction (received time).
_last_sample = (
    select(func.max(meter_samples.c.received_at))
    .where(
        meter_samples.c.transaction_id == _t.c.id,
        meter_samples.c.charge_point_id == _t.c.charge_point_id,
    )
    .scalar_subquery()
)
#: When the transaction's connector (any of its EVSE's while the connector is not known)
#: last reported a (newer) status (received time).
_last_status = (
    select(func.max(connectors.c.updated_at))
    .where(
        connectors.c.charge_point_id == _t.c.charge_point_id,
        connectors.c.evse_id == _t.c.evse_id,
        connectors.c.connector_id == func.coalesce(_t.c.connector_id, connectors.c.connector_id),
    )
    .scalar_subquery()
)
#: GREATEST ignores NULLs: a transaction without samples or status reports has its start.
_last_activity = func.greatest(_t.c.start_timestamp, _t.c.started_received_at, _last_sample, _last_status)

_OPEN_UNFLAGGED = (_t.c.stop_timestamp.is_(None), _t.c.flagged_at.is_(None))


class PgStuckTransactions:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    # --- closing superseded transactions ------------------------------------------------------

    def superseded(self, limit: int) -> list[Superseded]:
        """Open 1.6 transactions whose charger has since started a newer one on the same
        connector (1.6 delivers a charger's transaction messages in order; 2.0.1 events may
        arrive out of order, so a newer 2.0.1 transaction proves nothing)."""
        query = (
            select(_t.c.id, _successor.c.id.label("successor_id"), _successor.c.start_timestamp)
            .select_from(_t.join(_successor, true()))
            .where(_t.c.stop_timestamp.is_(None), _t.c.protocol == OCPP16)
            .order_by(_t.c.id)
            .limit(limit)
        )
        with self._db.connect() as conn:
            return [Superseded(row[0], row[1], row[2]) for row in conn.execute(query)]

    def close(self, candidate: Superseded, now: datetime) -> DomainEvent | None:
        """Close the transaction where its successor started (stop reason ``Other``, closed by
        the CSMS), with its highest energy register reading as ``meterStop``; the
        TransactionStopped event in the same database transaction. None if it was closed
        meanwhile (by the charger, or by another run)."""
        with self._db.begin() as conn:
            row = conn.execute(
                select(_t.c.meter_start, _t.c.charge_point_id)
                .where(_t.c.id == candidate.transaction_id, _t.c.stop_timestamp.is_(None))
                .with_for_update()
            ).first()
            if row is None:
                return None
            meter_stop = _meter_stop(conn, candidate.transaction_id, row.charge_point_id, row.meter_start)
            closed = conn.execute(
                update(_t)
                .where(_t.c.id == candidate.transaction_id, _t.c.stop_timestamp.is_(None))
                .values(
                    meter_stop=meter_stop,
                    stop_timestamp=candidate.successor_start,
                    stop_reason=CLOSED_REASON,
                    stop_id_token=None,
                    stopped_received_at=now,
                    closed_by=CLOSED_BY_CSMS,
                )
                .returning(*TX_COLUMNS)
            ).first()
            if closed is None:
                return None
            event = _stopped_event(closed, now)
            append(conn, [event])
        return event

    # --- flagging ----------------------------------------------------------------------------

    def flag_idle(self, cutoff: datetime, now: datetime, reason: str, limit: int) -> list[DomainEvent]:
        """Flag open transactions with no activity since ``cutoff`` (start, meter values and
        the connector's status reports all before it)."""
        candidates = (
            select(_t.c.id, _last_activity.label("last_activity"))
            .where(
                *_OPEN_UNFLAGGED,
                _t.c.start_timestamp < cutoff,
                _t.c.started_received_at < cutoff,
                _last_activity < cutoff,
            )
            .order_by(_t.c.id)
            .limit(limit)
        )
        return self._flag(candidates, now, reason)

    def flag_rebooted(
        self, booted_before: datetime, now: datetime, reason: str, limit: int
    ) -> list[DomainEvent]:
        """Flag open transactions recorded before their charger's last boot, if that boot was
        before ``booted_before`` and no meter value of the transaction arrived since it."""
        resumed = exists().where(
            meter_samples.c.transaction_id == _t.c.id,
            meter_samples.c.charge_point_id == _t.c.charge_point_id,
            meter_samples.c.received_at > charge_points.c.last_boot_at,
        )
        candidates = (
            select(_t.c.id, _last_activity.label("last_activity"))
            .select_from(_t.join(charge_points, charge_points.c.id == _t.c.charge_point_id))
            .where(
                *_OPEN_UNFLAGGED,
                charge_points.c.last_boot_at > _t.c.started_received_at,
                charge_points.c.last_boot_at <= booted_before,
                ~resumed,
            )
            .order_by(_t.c.id)
            .limit(limit)
        )
        return self._flag(candidates, now, reason)

    def _flag(self, candidates: Any, now: datetime, reason: str) -> list[DomainEvent]:
        chosen = candidates.subquery("candidate")
        statement = (
            update(_t)
            .where(_t.c.id == chosen.c.id, *_OPEN_UNFLAGGED)
            .values(flagged_at=now, flag_reason=reason)
            .returning(*TX_COLUMNS, chosen.c.last_activity)
        )
        with self._db.begin() as conn:
            events = [
                flagged_event(transaction(row), reason, row.last_activity, now)
                for row in conn.execute(statement)
            ]
            append(conn, events)
        return events

    def flag_deauthorized(
        self, deauthorized_before: datetime, now: datetime, reason: str, limit: int
    ) -> list[DomainEvent]:
        """Flag open transactions the CSMS deauthorized before ``deauthorized_before`` (their
        station should have stopped them by now: ix_transactions_deauthorized_open)."""
        candidates = (
            select(_t.c.id, _last_activity.label("last_activity"))
            .where(
                *_OPEN_UNFLAGGED,
                _t.c.deauthorized_at.is_not(None),
                _t.c.deauthorized_at < deauthorized_before,
            )
            .order_by(_t.c.id)
            .limit(limit)
        )
        return self._flag(candidates, now, reason)


def _meter_stop(conn: Connection, transaction_id: int, charge_point_id: str, meter_start: int) -> int:
    """The highest energy register reading of the transaction in Wh (the total, not a phase;
    the outlet's when the charger reports several locations), never below ``meter_start``
    (a 1.6 transaction, the only kind closed this way, has one)."""
    wh = in_wh(meter_samples)
    highest = conn.execute(
        select(wh)
        .where(
            meter_samples.c.transaction_id == transaction_id,
            meter_samples.c.charge_point_id == charge_point_id,
            meter_samples.c.measurand == ENERGY_REGISTER,
            meter_samples.c.phase == "",
            meter_samples.c.unit.in_(("Wh", "kWh")),
            meter_samples.c.numeric_value.is_not(None),
        )
        .order_by((meter_samples.c.location == "Outlet").desc(), wh.desc())
        .limit(1)
    ).scalar()
    if highest is None:
        return int(meter_start)
    return max(int(meter_start), round(float(highest)))


def _stopped_event(row: Row[Any], now: datetime) -> DomainEvent:
    closed = transaction(row)
    return new_event(
        "TransactionStopped",
        closed.tenant_id,
        closed.charge_point_id,
        now,
        stopped_data(closed, CLOSED_BY_CSMS),
    )
