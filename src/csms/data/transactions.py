"""PostgreSQL implementation of :class:`csms.domain.transactions.TransactionRepository`.

Every statement a frame runs is built once, at import, with bind parameters (see
:mod:`csms.data.repositories`), and each method is one round trip: a 1.6 start allocates the
id, inserts the transaction and logs its Started event in one statement; a 2.0.1 event finds
or creates its transaction and logs the event in one, and its effects are written in another
(:mod:`csms.services.transactions` computes them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import (
    Connection,
    Row,
    and_,
    bindparam,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from csms.constants import OCPP16, OCPP201
from csms.data.tables import reservations, transaction_events, transactions, unknown_transaction_stops
from csms.domain.reservations import OPEN, ReservationStatus, UsedReservation
from csms.domain.stations import ChargingState
from csms.domain.tokens import AuthorizationStatus, IdToken, IdTokenType
from csms.domain.transactions import (
    EventReceived,
    FlagReason,
    StoppedTransaction,
    Transaction,
    TransactionChanges,
    TransactionEventIn,
    TransactionEventType,
    TransactionStart,
    TransactionStop,
)

_t = transactions
_e = transaction_events
#: Never a station's id, an EVSE or a start: the "no such start" of token_in_use.
_NO_STATION, _NO_EVSE, _NO_TIME = "", -2, datetime(1, 1, 1, tzinfo=UTC)


def _bind(column: Any, name: str | None = None) -> Any:
    return bindparam(name or column.name, type_=column.type)


def _token(value: str | None, kind: str | None) -> IdToken | None:
    if value is None:
        return None
    return IdToken(value, IdTokenType(kind) if kind else None)


def transaction(row: Row[Any]) -> Transaction:
    """A row of ``transactions`` (or a RETURNING of its columns) as the domain's transaction."""
    m = row._mapping
    status, charging = m["start_auth_status"], m["charging_state"]
    return Transaction(
        id=m["id"],
        transaction_id=m["transaction_id"],
        tenant_id=m["tenant_id"],
        charge_point_id=m["charge_point_id"],
        start_timestamp=m["start_timestamp"],
        protocol=m["protocol"],
        evse_id=m["evse_id"],
        connector_id=m["connector_id"],
        id_token=_token(m["id_token"], m["id_token_type"]),
        start_auth_status=AuthorizationStatus(status) if status else None,
        meter_start=m["meter_start"],
        reservation_id=m["reservation_id"],
        meter_stop=m["meter_stop"],
        stop_timestamp=m["stop_timestamp"],
        stop_reason=m["stop_reason"],
        stop_id_token=_token(m["stop_id_token"], m["stop_id_token_type"]),
        charging_state=ChargingState(charging) if charging else None,
        seq_no=m["seq_no"],
        remote_start_id=m["remote_start_id"],
        deauthorized_at=m["deauthorized_at"],
        offline=m["offline"],
        meter_start_at=m["meter_start_at"],
        meter_start_context=m["meter_start_context"],
        meter_stop_at=m["meter_stop_at"],
        meter_stop_context=m["meter_stop_context"],
        flagged_at=m["flagged_at"],
        flag_reason=m["flag_reason"],
        closed_by=m["closed_by"],
    )


#: Every column but the 1.6 transactionData (a JSON copy of a StopTransaction's samples).
TX_COLUMNS: Final = [c for c in _t.c if c.name != "transaction_data"]


# --- 1.6: StartTransaction --------------------------------------------------------------------


def _start_statement() -> Any:
    """Allocate the id (the 1.6 transactionId, also the protocol id as text), insert the
    transaction and log its Started event, in one statement. A retried start hits the start
    identity (ux_transactions_start): the no-op update makes RETURNING hand back the existing
    row, so the charger gets the same transactionId again, and no second event is logged."""
    allocated = select(func.nextval(func.pg_get_serial_sequence("transactions", "id")).label("id")).cte(
        "allocated"
    )
    names = (
        "tenant_id",
        "charge_point_id",
        "evse_id",
        "connector_id",
        "id_token",
        "start_auth_status",
        "meter_start",
        "start_timestamp",
        "reservation_id",
        "started_received_at",
        "deauthorized_at",
    )
    source = select(
        allocated.c.id,
        func.cast(allocated.c.id, _t.c.transaction_id.type),
        literal(OCPP16, _t.c.protocol.type),
        *(_bind(_t.c[name]) for name in names),
    )
    insert_start = pg_insert(_t).from_select(["id", "transaction_id", "protocol", *names], source)
    started = (
        insert_start.on_conflict_do_update(
            index_elements=["charge_point_id", "evse_id", "id_token", "meter_start", "start_timestamp"],
            # A constant, not a bind parameter: a prepared (generic) plan could not match a
            # parameter to the partial index's predicate.
            index_where=text(f"protocol = '{OCPP16}'"),
            set_={"charge_point_id": insert_start.excluded.charge_point_id},
        )
        .returning(*TX_COLUMNS, literal_column("(xmax = 0)").label("created"))
        .cte("started")
    )
    logged = (
        pg_insert(_e)
        .from_select(
            [
                "tenant_id",
                "charge_point_id",
                "transaction_pk",
                "seq_no",
                "event_type",
                "timestamp",
                "evse_id",
                "connector_id",
                "id_token",
                "id_token_status",
                "reservation_id",
                "received_at",
            ],
            select(
                started.c.tenant_id,
                started.c.charge_point_id,
                started.c.id,
                literal(0),
                literal(TransactionEventType.STARTED.value),
                started.c.start_timestamp,
                started.c.evse_id,
                started.c.connector_id,
                started.c.id_token,
                started.c.start_auth_status,
                started.c.reservation_id,
                started.c.started_received_at,
            ).where(started.c.created),
        )
        .cte("logged")
    )
    return select(started).add_cte(allocated, started, logged)


_START = _start_statement()


def _in_use_statement() -> Any:
    """Is the token in another open transaction of the tenant that is still going on?

    Only a start the CSMS accepted counts, and only while not deauthorized since: a refused
    start is not the token's transaction. Still going on: not superseded, i.e. no newer
    transaction (a higher id, started no earlier) on its station's EVSE, the stuck-transactions
    rule (OCPP delivers a station's transaction messages in order, so such a transaction has
    ended although its stop never came). A start about to be recorded supersedes the open
    transactions of its own EVSE begun at or before it. The token matches by value,
    case-insensitively (a 1.6 transaction's has no type). ix_transactions_open_by_tag (on
    lower(id_token)) finds the candidates, ix_transactions_charger_connector_time their
    successors."""
    other, newer = _t.alias("other"), _t.alias("newer")
    superseded = exists().where(
        newer.c.tenant_id == other.c.tenant_id,
        newer.c.charge_point_id == other.c.charge_point_id,
        newer.c.evse_id == other.c.evse_id,
        newer.c.start_timestamp >= other.c.start_timestamp,
        newer.c.id > other.c.id,
    )
    starting_here = and_(
        other.c.charge_point_id == bindparam("station", type_=other.c.charge_point_id.type),
        func.coalesce(other.c.evse_id, _NO_EVSE) == bindparam("evse", type_=other.c.evse_id.type),
        other.c.start_timestamp <= bindparam("at", type_=other.c.start_timestamp.type),
    )
    return select(
        exists().where(
            other.c.tenant_id == bindparam("tenant_id"),
            func.lower(other.c.id_token) == func.lower(bindparam("value", type_=other.c.id_token.type)),
            other.c.stop_timestamp.is_(None),
            other.c.start_auth_status == AuthorizationStatus.ACCEPTED.value,
            other.c.deauthorized_at.is_(None),
            other.c.id != bindparam("exclude", type_=other.c.id.type),
            ~starting_here,
            ~superseded,
        )
    )


_IN_USE = _in_use_statement()


# --- 1.6: StopTransaction ---------------------------------------------------------------------

# In UPDATE statements a bind parameter may not be named after a column (SQLAlchemy would
# read it as a SET value): hence the b_ (where) and v_ (set) prefixes.
_MINE = and_(
    _t.c.transaction_id == bindparam("b_transaction_id", type_=_t.c.transaction_id.type),
    _t.c.charge_point_id == bindparam("b_charge_point_id"),
)


def _stop_statement(*condition: Any) -> Any:
    """Record the stop and log the Ended event (1.6 has no seqNo) in one statement."""
    stopped = (
        update(_t)
        .where(_MINE, *condition)
        .values(
            {
                **{
                    name: _bind(_t.c[name], f"v_{name}")
                    for name in (
                        "meter_stop",
                        "stop_timestamp",
                        "stop_reason",
                        "stop_id_token",
                        "transaction_data",
                        "stopped_received_at",
                    )
                },
                "closed_by": None,  # NULL: the station closed it
            }
        )
        .returning(*TX_COLUMNS)
        .cte("stopped")
    )
    logged = (
        pg_insert(_e)
        .from_select(
            [
                "tenant_id",
                "charge_point_id",
                "transaction_pk",
                "event_type",
                "timestamp",
                "evse_id",
                "connector_id",
                "stopped_reason",
                "id_token",
                "received_at",
            ],
            select(
                stopped.c.tenant_id,
                stopped.c.charge_point_id,
                stopped.c.id,
                literal(TransactionEventType.ENDED.value),
                stopped.c.stop_timestamp,
                stopped.c.evse_id,
                stopped.c.connector_id,
                stopped.c.stop_reason,
                stopped.c.stop_id_token,
                stopped.c.stopped_received_at,
            ),
        )
        .cte("logged")
    )
    return select(stopped).add_cte(stopped, logged)


_STOP = _stop_statement(_t.c.stop_timestamp.is_(None))
#: A charger's late StopTransaction for a transaction the CSMS closed (stuck-transactions):
#: the charger's values replace the CSMS's.
_CORRECT = _stop_statement(_t.c.closed_by == "csms")
_GET_MINE = select(*TX_COLUMNS).where(_MINE)
_OPEN_OF_CHARGER = (
    select(_t.c.id)
    .where(_t.c.charge_point_id == bindparam("charge_point_id"), _t.c.stop_timestamp.is_(None))
    .order_by(_t.c.id)
)
_UNKNOWN_STOP = (
    pg_insert(unknown_transaction_stops)
    .values({c.name: _bind(c) for c in unknown_transaction_stops.c if c.name != "id"})
    .on_conflict_do_nothing()
    .returning(unknown_transaction_stops.c.id)
)


#: A start with a reservationId: the reservation is used by the transaction. Open
#: reservations qualify, and an expired one if the transaction started before its expiry
#: (the station was offline; frames arrive late). A retried start matches nothing (the
#: reservation is used already).
_USE_RESERVATION = (
    update(reservations)
    .where(
        reservations.c.id == bindparam("b_reservation_id"),
        reservations.c.tenant_id == bindparam("b_tenant_id"),
        reservations.c.charge_point_id == bindparam("b_charge_point_id"),
        or_(
            reservations.c.status.in_([s.value for s in OPEN]),
            and_(
                reservations.c.status == ReservationStatus.EXPIRED.value,
                reservations.c.expiry_date >= bindparam("b_started_at"),
            ),
        ),
    )
    .values(
        status=ReservationStatus.USED.value,
        transaction_id=bindparam("b_transaction_id"),
        updated_at=bindparam("b_at"),
    )
    .returning(
        reservations.c.id,
        reservations.c.evse_id,
        reservations.c.id_token,
        reservations.c.id_token_type,
        reservations.c.expiry_date,
    )
)


# --- 2.0.1: TransactionEvent ------------------------------------------------------------------

_EVENT_FIELDS = (
    "seq_no",
    "event_type",
    "trigger_reason",
    "timestamp",
    "offline",
    "evse_id",
    "connector_id",
    "charging_state",
    "stopped_reason",
    "id_token",
    "id_token_type",
    "remote_start_id",
    "reservation_id",
    "meter_values",
)


def _event_key(events: Any) -> Any:
    """The identity of a received event: a retry has the same (the dedupe index's columns)."""
    return and_(
        events.c.seq_no == bindparam("e_seq_no", type_=_e.c.seq_no.type),
        events.c.event_type == bindparam("e_event_type", type_=_e.c.event_type.type),
        events.c.timestamp == bindparam("e_timestamp", type_=_e.c.timestamp.type),
        func.coalesce(events.c.trigger_reason, "")
        == func.coalesce(bindparam("e_trigger_reason", type_=_e.c.trigger_reason.type), ""),
    )


def _receive_statement() -> Any:
    """Find or create the transaction (station, transactionId) and log the event, in one
    statement. The no-op update of an existing transaction locks its row until the unit of
    work ends: events of one transaction, handled at once by separate invocations, are
    applied one after the other, and a concurrent retry finds the first one stored.

    Besides the transaction as it was, the statement tells what the service needs to apply
    the event: whether this call created the transaction or stored the event (NULL: a retry,
    whose first answer comes back), whether it came after the end (a seqNo above every one
    applied to an ended transaction), whether a Started came before, and the seqNo of the
    event that set the stored charging state. Sub-selects see the log as it was before the
    statement."""
    tx_values = {
        "tenant_id": bindparam("tenant_id", type_=_t.c.tenant_id.type),
        "charge_point_id": bindparam("charge_point_id", type_=_t.c.charge_point_id.type),
        "transaction_id": bindparam("transaction_id", type_=_t.c.transaction_id.type),
        "protocol": literal(OCPP201, _t.c.protocol.type),
        "evse_id": bindparam("e_evse_id", type_=_t.c.evse_id.type),
        "connector_id": bindparam("e_connector_id", type_=_t.c.connector_id.type),
        "start_timestamp": bindparam("e_timestamp", type_=_t.c.start_timestamp.type),
        "started_received_at": bindparam("received_at", type_=_t.c.started_received_at.type),
    }
    insert_tx = pg_insert(_t).values(tx_values)
    found = (
        insert_tx.on_conflict_do_update(
            index_elements=["charge_point_id", "transaction_id"],
            set_={"transaction_id": insert_tx.excluded.transaction_id},
        )
        .returning(*TX_COLUMNS, literal_column("(xmax = 0)").label("created"))
        .cte("found")
    )
    after_end = and_(
        found.c.stop_timestamp.is_not(None),
        bindparam("e_seq_no", type_=_e.c.seq_no.type) > func.coalesce(found.c.seq_no, -1),
    )
    logged = (
        pg_insert(_e)
        .from_select(
            ["tenant_id", "charge_point_id", "transaction_pk", *_EVENT_FIELDS, "after_end", "received_at"],
            select(
                found.c.tenant_id,
                found.c.charge_point_id,
                found.c.id,
                *(bindparam(f"e_{name}", type_=_e.c[name].type) for name in _EVENT_FIELDS),
                after_end,
                bindparam("received_at", type_=_e.c.received_at.type),
            ),
        )
        .on_conflict_do_nothing()
        .returning(_e.c.id, _e.c.after_end)
        .cte("logged")
    )
    log = _e.alias("log")
    started_seen = exists().where(
        log.c.transaction_pk == found.c.id, log.c.event_type == TransactionEventType.STARTED.value
    )
    charging_state_seq = (
        select(log.c.seq_no)
        .where(
            log.c.transaction_pk == found.c.id,
            log.c.seq_no.is_not(None),
            log.c.charging_state.is_not(None),
            ~log.c.after_end,
        )
        .order_by(log.c.seq_no.desc())
        .limit(1)
        .scalar_subquery()
    )
    answered = (
        select(log.c.id_token_status).where(log.c.transaction_pk == found.c.id, _event_key(log)).limit(1)
    )
    return select(
        found,
        select(logged.c.id).scalar_subquery().label("event_pk"),
        func.coalesce(select(logged.c.after_end).scalar_subquery(), False).label("after_end"),
        started_seen.label("started_seen"),
        charging_state_seq.label("charging_state_seq_no"),
        answered.scalar_subquery().label("answered"),
    ).add_cte(found, logged)


_RECEIVE = _receive_statement()

_CHANGED = (
    "start_timestamp",
    "evse_id",
    "connector_id",
    "start_auth_status",
    "meter_start",
    "meter_start_at",
    "meter_start_context",
    "meter_stop",
    "meter_stop_at",
    "meter_stop_context",
    "stop_timestamp",
    "stop_reason",
    "charging_state",
    "seq_no",
    "remote_start_id",
    "reservation_id",
    "deauthorized_at",
    "offline",
)


def _apply_statement() -> Any:
    """Write what an event changed, and the answer its id token got, in one statement."""
    answer = (
        update(_e)
        .where(
            _e.c.id == bindparam("b_event_pk", type_=_e.c.id.type),
            bindparam("v_answered", type_=_e.c.id_token_status.type).is_not(None),
        )
        .values(id_token_status=bindparam("v_answered"))
        .returning(_e.c.id)
        .cte("answer")
    )
    values = {name: _bind(_t.c[name], f"v_{name}") for name in _CHANGED}
    for token in ("id_token", "stop_id_token"):
        values[token] = _bind(_t.c[token], f"v_{token}")
        values[f"{token}_type"] = _bind(_t.c[f"{token}_type"], f"v_{token}_type")
    for received in ("started_received_at", "stopped_received_at"):
        values[received] = func.coalesce(_bind(_t.c[received], f"v_{received}"), _t.c[received])
    return (
        update(_t)
        .where(_t.c.id == bindparam("b_transaction_pk", type_=_t.c.id.type))
        .values(values)
        .returning(*TX_COLUMNS)
        .add_cte(answer)
    )


_APPLY = _apply_statement()

_FLAG = (
    update(_t)
    .where(_t.c.id == bindparam("b_transaction_pk", type_=_t.c.id.type), _t.c.flagged_at.is_(None))
    .values(flagged_at=bindparam("v_at", type_=_t.c.flagged_at.type), flag_reason=bindparam("v_reason"))
    .returning(*TX_COLUMNS)
)


def _value(member: Any) -> Any:
    return member.value if member is not None else None


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
    ) -> tuple[Transaction, bool]:
        row = self._conn.execute(
            _START,
            {
                "tenant_id": tenant_id,
                "charge_point_id": charge_point_id,
                "evse_id": start.evse_id,
                "connector_id": start.connector_id,
                "id_token": start.id_token.value,
                "start_auth_status": auth_status.value,
                "meter_start": start.meter_start,
                "start_timestamp": start.timestamp,
                "reservation_id": start.reservation_id,
                "started_received_at": received_at,
                # A start the CSMS refused is deauthorized from the outset.
                "deauthorized_at": None if auth_status is AuthorizationStatus.ACCEPTED else received_at,
            },
        ).one()
        return transaction(row), bool(row.created)

    def token_in_use(
        self,
        tenant_id: str,
        token: IdToken,
        *,
        exclude: int | None = None,
        starting_at: tuple[str, int | None, datetime] | None = None,
    ) -> bool:
        station, evse, at = starting_at if starting_at is not None else (_NO_STATION, _NO_EVSE, _NO_TIME)
        found = self._conn.execute(
            _IN_USE,
            {
                "tenant_id": tenant_id,
                "value": token.value,
                "exclude": exclude if exclude is not None else -1,
                "station": station,
                "evse": evse if evse is not None else _NO_EVSE,
                "at": at,
            },
        ).scalar()
        return bool(found)

    def open_transaction_ids(self, charge_point_id: str) -> list[int]:
        return [
            int(i)
            for i in self._conn.execute(_OPEN_OF_CHARGER, {"charge_point_id": charge_point_id}).scalars()
        ]

    def use_reservation(
        self,
        tenant_id: str,
        charge_point_id: str,
        reservation_id: int,
        transaction_id: int,
        started_at: datetime,
        at: datetime,
    ) -> UsedReservation | None:
        params = {
            "b_reservation_id": reservation_id,
            "b_tenant_id": tenant_id,
            "b_charge_point_id": charge_point_id,
            "b_transaction_id": transaction_id,
            "b_started_at": started_at,
            "b_at": at,
        }
        row = self._conn.execute(_USE_RESERVATION, params).first()
        if row is None:
            return None
        token = _token(row.id_token, row.id_token_type)
        assert token is not None
        return UsedReservation(
            reservation_id=row.id, evse_id=row.evse_id, id_token=token, expiry_date=row.expiry_date
        )

    def stop(
        self, tenant_id: str, charge_point_id: str, stop: TransactionStop, received_at: datetime
    ) -> StoppedTransaction:
        mine = {"b_transaction_id": stop.transaction_id, "b_charge_point_id": charge_point_id}
        values = {
            **mine,
            "v_meter_stop": stop.meter_stop,
            "v_stop_timestamp": stop.timestamp,
            "v_stop_reason": stop.reason,
            "v_stop_id_token": stop.id_token.value if stop.id_token else None,
            "v_transaction_data": stop.raw_transaction_data,
            "v_stopped_received_at": received_at,
        }
        row = self._conn.execute(_STOP, values).first()
        if row is not None:
            return StoppedTransaction(transaction=transaction(row), stopped_now=True)
        # A retry of a stop we already stored (first stop wins), a stop of a transaction the
        # CSMS closed (the charger's values win), or an unknown id.
        row = self._conn.execute(_GET_MINE, mine).first()
        if row is not None and row._mapping["closed_by"] == "csms":
            corrected = self._conn.execute(_CORRECT, values).first()
            if corrected is not None:
                return StoppedTransaction(transaction=transaction(corrected), corrected=transaction(row))
            row = self._conn.execute(_GET_MINE, mine).first()  # a concurrent correction won
        if row is not None:
            return StoppedTransaction(transaction=transaction(row))
        recorded = self._conn.execute(
            _UNKNOWN_STOP,
            {
                "tenant_id": tenant_id,
                "charge_point_id": charge_point_id,
                "transaction_id": stop.transaction_id,
                "id_tag": stop.id_token.value if stop.id_token else None,
                "meter_stop": stop.meter_stop,
                "stop_timestamp": stop.timestamp,
                "reason": stop.reason,
                "transaction_data": stop.raw_transaction_data,
                "received_at": received_at,
            },
        ).first()
        return StoppedTransaction(transaction=None, unknown=True, stopped_now=recorded is not None)

    def receive_event(
        self, tenant_id: str, charge_point_id: str, event: TransactionEventIn, received_at: datetime
    ) -> EventReceived:
        token = event.id_token
        row = self._conn.execute(
            _RECEIVE,
            {
                "tenant_id": tenant_id,
                "charge_point_id": charge_point_id,
                "transaction_id": event.transaction_id,
                "received_at": received_at,
                "e_seq_no": event.seq_no,
                "e_event_type": event.event_type.value,
                "e_trigger_reason": event.trigger_reason,
                "e_timestamp": event.timestamp,
                "e_offline": event.offline,
                "e_evse_id": event.evse_id,
                "e_connector_id": event.connector_id,
                "e_charging_state": _value(event.charging_state),
                "e_stopped_reason": event.stopped_reason,
                "e_id_token": token.value if token else None,
                "e_id_token_type": _value(token.type) if token else None,
                "e_remote_start_id": event.remote_start_id,
                "e_reservation_id": event.reservation_id,
                "e_meter_values": len(event.meter_values),
            },
        ).one()
        answered = row.answered
        return EventReceived(
            transaction=transaction(row),
            created=bool(row.created),
            new=row.event_pk is not None,
            event_pk=row.event_pk,
            after_end=bool(row.after_end),
            started_seen=bool(row.started_seen),
            charging_state_seq_no=row.charging_state_seq_no,
            answered=AuthorizationStatus(answered) if answered else None,
        )

    def apply(
        self,
        transaction_pk: int,
        changes: TransactionChanges,
        event_pk: int | None = None,
        answered: AuthorizationStatus | None = None,
    ) -> Transaction:
        params: dict[str, Any] = {
            "b_transaction_pk": transaction_pk,
            "b_event_pk": event_pk if event_pk is not None else -1,
            "v_answered": _value(answered),
        }
        for name in _CHANGED:
            params[f"v_{name}"] = _value_of(getattr(changes, name))
        for token_name in ("id_token", "stop_id_token"):
            token = getattr(changes, token_name)
            params[f"v_{token_name}"] = token.value if token else None
            params[f"v_{token_name}_type"] = _value(token.type) if token else None
        params["v_started_received_at"] = changes.started_received_at
        params["v_stopped_received_at"] = changes.stopped_received_at
        return transaction(self._conn.execute(_APPLY, params).one())

    def flag(self, transaction_pk: int, reason: FlagReason, at: datetime) -> Transaction | None:
        row = self._conn.execute(
            _FLAG, {"b_transaction_pk": transaction_pk, "v_at": at, "v_reason": reason.value}
        ).first()
        return transaction(row) if row is not None else None


def _value_of(value: Any) -> Any:
    """A change as its column holds it (enums by value)."""
    return value.value if isinstance(value, AuthorizationStatus | ChargingState) else value


__all__ = ["TX_COLUMNS", "PgTransactions", "transaction"]
