"""PostgreSQL repositories (SQLAlchemy Core). Each method is one round trip where it can be.

The statements of the per-frame methods are built once, at import, with bind parameters:
building a Core statement (coercing every value, generating its cache key) costs several
times more CPU than executing the cached compilation of a prebuilt one, and a prebuilt
statement always has the same SQL text, so psycopg prepares it on the server after a few
executions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final, TypeVar

from sqlalchemy import (
    Connection,
    Row,
    Text,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from csms.data.outbox import PgEventRecorder
from csms.data.tables import (
    charge_points,
    connector_status_history,
    connectors,
    id_tokens,
    meter_samples,
    tenants,
    transactions,
)
from csms.data.transactions import PgTransactions
from csms.domain.credentials import PasswordUsed, Rotation
from csms.domain.metering import UNKNOWN_EVSE, AddedSamples, MeterSample
from csms.domain.stations import (
    DEFAULT_SECURITY_PROFILE,
    AvailabilityState,
    BootInfo,
    ChargingState,
    ChargingStateRecorded,
    ChargingStation,
    ConnectorStatus,
    RegistrationStatus,
    StatusRecorded,
)
from csms.domain.tokens import (
    DEFAULT_GROUP_TYPE,
    TYPE_PREFERENCE,
    AuthorizationStatus,
    IdToken,
    IdTokenType,
    StoredIdToken,
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

    def default_security_profile(self, tenant_id: str) -> int:
        found = self._conn.execute(
            select(tenants.c.default_security_profile).where(tenants.c.id == tenant_id)
        ).scalar()
        return DEFAULT_SECURITY_PROFILE if found is None else int(found)


def _charge_point(row: Row[Any]) -> ChargingStation:
    m = row._mapping
    return ChargingStation(
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
        ocpp_version=m["ocpp_version"],
        last_protocol=m["last_protocol"],
        boot_reason=m["boot_reason"],
        security_profile=m["security_profile"],
        security_profile_source=m["security_profile_source"],
        pending_password_hash=m["pending_password_hash"],
        previous_password_hash=m["previous_password_hash"],
    )


_GET_CHARGE_POINT = select(charge_points).where(charge_points.c.id == bindparam("charge_point_id"))
_BOOT_COLUMNS = (
    "vendor",
    "model",
    "serial_number",
    "charge_box_serial_number",
    "firmware_version",
    "iccid",
    "imsi",
    "meter_type",
    "meter_serial_number",
)
_RECORD_BOOT = (
    update(charge_points)
    .where(charge_points.c.id == bindparam("charge_point_id"))
    .values(
        {
            **{name: bindparam(f"v_{name}", type_=charge_points.c[name].type) for name in _BOOT_COLUMNS},
            "boot_reason": bindparam("v_boot_reason", type_=charge_points.c.boot_reason.type),
            "last_boot_at": bindparam("at", type_=charge_points.c.last_boot_at.type),
            "updated_at": bindparam("at", type_=charge_points.c.updated_at.type),
        }
    )
)
_RECORD_PROTOCOL = (
    update(charge_points)
    .where(
        charge_points.c.id == bindparam("charge_point_id"),
        charge_points.c.last_protocol.is_distinct_from(bindparam("v_protocol", type_=Text())),
    )
    .values(
        last_protocol=bindparam("v_protocol"),
        updated_at=bindparam("at", type_=charge_points.c.updated_at.type),
    )
)


class PgChargePoints:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, charge_point_id: str) -> ChargingStation | None:
        row = self._conn.execute(_GET_CHARGE_POINT, {"charge_point_id": charge_point_id}).first()
        return _charge_point(row) if row else None

    def add(self, charge_point: ChargingStation, at: datetime) -> None:
        try:
            with self._conn.begin_nested():
                self._conn.execute(
                    insert(charge_points).values(
                        id=charge_point.id,
                        tenant_id=charge_point.tenant_id,
                        password_hash=charge_point.password_hash,
                        security_profile=charge_point.security_profile,
                        security_profile_source=charge_point.security_profile_source,
                        registration_status=charge_point.registration_status.value,
                        created_at=at,
                        updated_at=at,
                    )
                )
        except IntegrityError as exc:
            if _is_unique_violation(exc):
                raise AlreadyExists(f"charge point {charge_point.id!r} exists already") from exc
            raise

    def list(self, tenant_id: str | None = None) -> list[ChargingStation]:
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
            _RECORD_BOOT,
            {
                "charge_point_id": charge_point_id,
                "at": at,
                "v_boot_reason": info.reason,
                **{f"v_{name}": getattr(info, name) for name in _BOOT_COLUMNS},
            },
        )

    def record_protocol(self, charge_point_id: str, protocol: str, at: datetime) -> None:
        self._conn.execute(
            _RECORD_PROTOCOL, {"charge_point_id": charge_point_id, "v_protocol": protocol, "at": at}
        )

    def password_used(self, charge_point_id: str, used: PasswordUsed, at: datetime) -> None:
        c = charge_points.c
        where = [c.id == charge_point_id]
        if used is PasswordUsed.PENDING:
            # A rotation that got no answer: the station holds the new password, the only one
            # from now on. (In flight, the answer decides: both stay admitted.)
            where += [c.pending_password_hash.is_not(None), c.password_rotation == Rotation.UNCONFIRMED.value]
            changes: dict[str, Any] = {
                "password_hash": c.pending_password_hash,
                "pending_password_hash": None,
                "previous_password_hash": None,
                "password_command_id": None,
                "password_rotation": None,
            }
        elif used is PasswordUsed.CURRENT:
            # After an accepted rotation: the old password's grace ends. While unconfirmed: the
            # station kept its password, the new one is forgotten. (In flight: nothing yet.)
            self._conn.execute(
                update(charge_points)
                .where(*where, c.password_rotation == Rotation.UNCONFIRMED.value)
                .values(
                    pending_password_hash=None,
                    password_command_id=None,
                    password_rotation=None,
                    updated_at=at,
                )
            )
            where.append(c.previous_password_hash.is_not(None))
            changes = {"previous_password_hash": None}
        else:
            return  # the old password, before the station switched: nothing changes
        self._conn.execute(update(charge_points).where(*where).values(**changes, updated_at=at))

    def register_pending(self, charge_point_id: str, tenant_id: str, at: datetime) -> ChargingStation:
        PgTenants(self._conn).ensure(tenant_id, at)
        self._conn.execute(
            pg_insert(charge_points)
            .values(
                id=charge_point_id,
                tenant_id=tenant_id,
                registration_status=RegistrationStatus.PENDING.value,
                # It has no password to check: profile 0 until an operator gives it one.
                security_profile=0,
                created_at=at,
                updated_at=at,
            )
            .on_conflict_do_nothing()
        )
        found = self.get(charge_point_id)
        assert found is not None
        return found


def _record_status_statement() -> Any:
    """History row and latest status in one statement (a CTE), with bind parameters."""
    names = (
        "tenant_id",
        "charge_point_id",
        "evse_id",
        "connector_id",
        "status",
        "state",
        "error_code",
        "info",
        "vendor_id",
        "vendor_error_code",
        "status_timestamp",
    )
    values = {name: bindparam(name, type_=connectors.c[name].type) for name in names}
    received_at = bindparam("received_at", type_=connectors.c.updated_at.type)
    # Every sub-statement sees the table as it was before the statement: the previous status.
    previous = (
        select(connectors.c.status, connectors.c.error_code, connectors.c.state, connectors.c.charging_state)
        .where(
            connectors.c.charge_point_id == values["charge_point_id"],
            connectors.c.evse_id == values["evse_id"],
            connectors.c.connector_id == values["connector_id"],
        )
        .cte("previous")
    )
    # A report without a charging state (2.0.1's say nothing about charging) keeps the stored one
    # while the connector stays Occupied; any other state has none.
    reported = bindparam("charging_state", type_=connectors.c.charging_state.type)
    charging_state = func.coalesce(
        reported,
        case(
            (
                and_(
                    values["state"] == AvailabilityState.OCCUPIED.value,
                    select(previous.c.state).scalar_subquery() == AvailabilityState.OCCUPIED.value,
                ),
                select(previous.c.charging_state).scalar_subquery(),
            )
        ),
    )
    history = (
        pg_insert(connector_status_history)
        .values(**values, charging_state=charging_state, received_at=received_at)
        .on_conflict_do_nothing()
        .returning(connector_status_history.c.id, connector_status_history.c.charging_state)
        .cte("history")
    )
    # The latest status is ordered by the charger's timestamp, but never by one from the future:
    # a report dated ahead of its arrival (a charger clock gone wrong) counts as received then,
    # or no correct report could ever replace it. The history keeps the charger's own time.
    ordered_by = bindparam("ordered_by", type_=connectors.c.status_timestamp.type)
    insert_latest = pg_insert(connectors).values(
        **{**values, "status_timestamp": ordered_by}, charging_state=charging_state, updated_at=received_at
    )
    key = ("charge_point_id", "evse_id", "connector_id")
    # Frames are processed out of order: an older report never replaces a newer one.
    latest = insert_latest.on_conflict_do_update(
        index_elements=[connectors.c[k] for k in key],
        set_={k: insert_latest.excluded[k] for k in (*names, "charging_state", "updated_at") if k not in key},
        where=connectors.c.status_timestamp <= insert_latest.excluded.status_timestamp,
    ).returning(
        # NULL for a retried report: its history row exists already (a concurrent retry waits
        # on the unique index for the first to commit, then inserts nothing).
        select(history.c.id).scalar_subquery().label("new_report"),
        select(previous.c.status).scalar_subquery().label("previous_status"),
        select(previous.c.error_code).scalar_subquery().label("previous_error_code"),
        select(previous.c.state).scalar_subquery().label("previous_state"),
        select(previous.c.charging_state).scalar_subquery().label("previous_charging_state"),
        connectors.c.charging_state,
    )
    return latest.add_cte(previous).add_cte(history)


_RECORD_STATUS = _record_status_statement()
#: How far ahead of its arrival a status report's timestamp may be (clock drift) before it is
#: ordered as if it had been sent on arrival.
STATUS_CLOCK_SKEW: Final = timedelta(minutes=5)


class PgConnectors:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def record_status(
        self, tenant_id: str, charge_point_id: str, status: ConnectorStatus, received_at: datetime
    ) -> StatusRecorded | None:
        values = {
            "tenant_id": tenant_id,
            "charge_point_id": charge_point_id,
            "evse_id": status.evse_id,
            "connector_id": status.connector_id,
            "status": status.status,
            "state": status.state.value,
            "charging_state": status.charging_state.value if status.charging_state else None,
            "error_code": status.error_code,
            "info": status.info,
            "vendor_id": status.vendor_id,
            "vendor_error_code": status.vendor_error_code,
            "status_timestamp": status.timestamp,
            "received_at": received_at,
            "ordered_by": status.timestamp
            if status.timestamp <= received_at + STATUS_CLOCK_SKEW
            else received_at,
        }
        row = self._conn.execute(_RECORD_STATUS, values).first()
        if row is None:
            return None
        return StatusRecorded(
            new_report=row.new_report is not None,
            previous_status=row.previous_status,
            previous_error_code=row.previous_error_code,
            previous_state=_or_none(AvailabilityState, row.previous_state),
            previous_charging_state=_or_none(ChargingState, row.previous_charging_state),
            charging_state=_or_none(ChargingState, row.charging_state),
        )

    def record_charging_state(
        self,
        tenant_id: str,
        charge_point_id: str,
        evse_id: int,
        connector_id: int | None,
        charging_state: ChargingState,
        at: datetime,
        received_at: datetime,
    ) -> list[ChargingStateRecorded]:
        rows = self._conn.execute(
            _RECORD_CHARGING_STATE,
            {
                "station": charge_point_id,
                "evse": evse_id,
                "connector": connector_id,
                "charging_state": charging_state.value,
                "at": at,
                "received_at": received_at,
            },
        ).all()
        return [
            ChargingStateRecorded(
                ConnectorStatus(
                    evse_id=r.evse_id,
                    connector_id=r.connector_id,
                    status=r.status,
                    state=AvailabilityState(r.state),
                    timestamp=r.status_timestamp,
                    charging_state=_or_none(ChargingState, r.charging_state),
                    error_code=r.error_code,
                    info=r.info,
                    vendor_id=r.vendor_id,
                    vendor_error_code=r.vendor_error_code,
                ),
                _or_none(ChargingState, r.previous_charging_state),
            )
            for r in rows
        ]


def _charging_state_statement() -> Any:
    """Set a transaction's charging state on its connector(s) and add their history rows.

    Parameters are not named after columns: an UPDATE would add such execution parameters
    to its SET clause.
    """
    c, h = connectors, connector_status_history
    connector = bindparam("connector", type_=c.c.connector_id.type)
    charging_state = bindparam("charging_state", type_=c.c.charging_state.type)
    at = bindparam("at", type_=c.c.status_timestamp.type)
    received_at = bindparam("received_at", type_=c.c.updated_at.type)
    old = c.alias("old")
    changed = (
        update(c)
        .where(
            c.c.charge_point_id == bindparam("station"),
            c.c.evse_id == bindparam("evse", type_=c.c.evse_id.type),
            or_(
                c.c.connector_id == connector,
                and_(connector.is_(None), c.c.state == AvailabilityState.OCCUPIED.value),
            ),
            c.c.charging_state.is_distinct_from(charging_state),
            c.c.status_timestamp <= at,
            old.c.charge_point_id == c.c.charge_point_id,
            old.c.evse_id == c.c.evse_id,
            old.c.connector_id == c.c.connector_id,
        )
        .values(charging_state=charging_state, status_timestamp=at, updated_at=received_at)
        .returning(*c.c, old.c.charging_state.label("previous_charging_state"))
        .cte("changed")
    )
    names = [col.name for col in h.c if col.name not in ("id", "received_at")]
    history = (
        pg_insert(h)
        .from_select([*names, "received_at"], select(*(changed.c[n] for n in names), received_at))
        .on_conflict_do_nothing()
        .cte("history")
    )
    return select(changed).add_cte(changed, history)


_RECORD_CHARGING_STATE = _charging_state_statement()


E = TypeVar("E", bound=StrEnum)


def _or_none(kind: type[E], value: str | None) -> E | None:
    return kind(value) if value is not None else None


def stored_id_token(row: Row[Any]) -> StoredIdToken:
    """A row of ``id_tokens`` as the domain's token."""
    m = row._mapping
    group = m["group_id_token"]
    return StoredIdToken(
        tenant_id=m["tenant_id"],
        token=IdToken(m["id_token"], IdTokenType(m["type"])),
        status=AuthorizationStatus(m["status"]),
        expiry_date=m["expiry_date"],
        group=IdToken(group, IdTokenType(m["group_id_token_type"])) if group is not None else None,
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


#: OCPP id tokens compare case-insensitively: lookups compare lower(id_token), the expression
#: of ux_id_tokens_value (tenant_id, lower(id_token), type), which also makes a tenant's tokens
#: unique by type and value. Tokens are stored and echoed as provisioned.
_SAME_VALUE = and_(
    id_tokens.c.tenant_id == bindparam("tenant_id"),
    func.lower(id_tokens.c.id_token) == func.lower(bindparam("value", type_=id_tokens.c.id_token.type)),
)
_FIND_TYPED_TOKEN = select(id_tokens).where(_SAME_VALUE, id_tokens.c.type == bindparam("type"))
#: A value presented without a type (1.6): the tenant's token of the most preferred type.
_PREFERENCE: Any = literal_column("ARRAY[" + ", ".join(f"'{t.value}'" for t in TYPE_PREFERENCE) + "]")
_FIND_ANY_TOKEN = (
    select(id_tokens).where(_SAME_VALUE).order_by(func.array_position(_PREFERENCE, id_tokens.c.type)).limit(1)
)


class PgIdTokens:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def find(self, tenant_id: str, token: IdToken) -> StoredIdToken | None:
        params = {"tenant_id": tenant_id, "value": token.value}
        if token.type is None:
            row = self._conn.execute(_FIND_ANY_TOKEN, params).first()
        else:
            row = self._conn.execute(_FIND_TYPED_TOKEN, {**params, "type": token.type.value}).first()
        return stored_id_token(row) if row else None

    def add(self, token: StoredIdToken, at: datetime) -> None:
        assert token.token.type is not None, "a stored token has a type"
        try:
            with self._conn.begin_nested():
                self._conn.execute(
                    insert(id_tokens).values(
                        tenant_id=token.tenant_id,
                        id_token=token.token.value,
                        type=token.token.type.value,
                        status=token.status.value,
                        expiry_date=token.expiry_date,
                        group_id_token=token.group.value if token.group else None,
                        group_id_token_type=_group_type(token.group),
                        created_at=at,
                        updated_at=at,
                    )
                )
        except IntegrityError as exc:
            if _is_unique_violation(exc):
                raise AlreadyExists(
                    f"id token {token.token.value!r} of type {token.token.type.value} exists already in "
                    f"tenant {token.tenant_id!r} (id tokens match case-insensitively)"
                ) from exc
            raise

    def list(self, tenant_id: str | None = None) -> list[StoredIdToken]:
        query = select(id_tokens).order_by(id_tokens.c.tenant_id, id_tokens.c.id_token, id_tokens.c.type)
        if tenant_id is not None:
            query = query.where(id_tokens.c.tenant_id == tenant_id)
        return [stored_id_token(r) for r in self._conn.execute(query)]


def _group_type(group: IdToken | None) -> str | None:
    if group is None:
        return None
    return (group.type or DEFAULT_GROUP_TYPE).value


def _bind(column: Any, name: str | None = None) -> Any:
    return bindparam(name or column.name, type_=column.type)


def _numeric(sample: MeterSample) -> float | None:
    if sample.format != "Raw":
        return None
    try:
        value = float(sample.value)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


#: Per-sample columns, sent as one array each and expanded by ``unnest``: one statement with
#: the same text for any number of samples (a multi-row VALUES would differ per count).
_SAMPLE_ARRAYS = {
    "timestamp": ARRAY(meter_samples.c.timestamp.type),
    "measurand": ARRAY(meter_samples.c.measurand.type),
    "phase": ARRAY(meter_samples.c.phase.type),
    "unit": ARRAY(meter_samples.c.unit.type),
    "context": ARRAY(meter_samples.c.context.type),
    "location": ARRAY(meter_samples.c.location.type),
    "format": ARRAY(meter_samples.c.format.type),
    "value": ARRAY(meter_samples.c.value.type),
    "numeric_value": ARRAY(meter_samples.c.numeric_value.type),
}


def _add_samples_statement() -> Any:
    rows = (
        func.unnest(*(bindparam(f"a_{name}", type_=kind) for name, kind in _SAMPLE_ARRAYS.items()))
        .table_valued(*_SAMPLE_ARRAYS)
        .render_derived()
    )
    # The transaction named (by its protocol id), if it is this station's: a station cannot
    # attach samples to another station's transaction, nor to an id it was never given. A
    # probe of ux_transactions_protocol_id.
    owned = (
        select(transactions.c.id, transactions.c.stop_timestamp)
        .where(
            transactions.c.transaction_id
            == bindparam("transaction_id", type_=transactions.c.transaction_id.type),
            transactions.c.charge_point_id == _bind(meter_samples.c.charge_point_id),
        )
        .cte("owned")
    )
    owned_id = select(owned.c.id).scalar_subquery()
    per_call = ("tenant_id", "charge_point_id", "evse_id", "received_at")
    columns = [*per_call, "transaction_id", *_SAMPLE_ARRAYS]
    source = select(
        *(_bind(meter_samples.c[name]) for name in per_call),
        owned_id,
        *(rows.c[name] for name in _SAMPLE_ARRAYS),
    )
    # The natural key drops retried samples; the count says how many were new (rowcount is
    # not reliable for INSERT ... SELECT through the driver).
    inserted = (
        pg_insert(meter_samples)
        .from_select(columns, source)
        .on_conflict_do_nothing()
        .returning(literal_column("1").label("one"))
        .cte("inserted")
    )
    return (
        select(
            func.count().label("new"),
            owned_id.label("transaction_pk"),
            select(owned.c.stop_timestamp).scalar_subquery().label("stopped_at"),
        )
        .select_from(inserted)
        .add_cte(owned)
    )


_ADD_SAMPLES = _add_samples_statement()
#: A 2.0.1 transaction's samples stored before an event named its EVSE get it.
_ASSIGN_EVSE = (
    update(meter_samples)
    .where(
        meter_samples.c.transaction_id
        == bindparam("b_transaction_pk", type_=meter_samples.c.transaction_id.type),
        meter_samples.c.evse_id == UNKNOWN_EVSE,
    )
    .values(evse_id=bindparam("v_evse_id", type_=meter_samples.c.evse_id.type))
)


class PgMeterValues:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add_samples(
        self,
        tenant_id: str,
        charge_point_id: str,
        evse_id: int,
        transaction_id: str | None,
        samples: Sequence[MeterSample],
        received_at: datetime,
    ) -> AddedSamples:
        if not samples:
            return AddedSamples(new=0)
        # One statement (one round trip) for all samples.
        row = self._conn.execute(
            _ADD_SAMPLES,
            {
                "tenant_id": tenant_id,
                "charge_point_id": charge_point_id,
                "evse_id": evse_id,
                "transaction_id": transaction_id,
                "received_at": received_at,
                "a_timestamp": [s.timestamp for s in samples],
                "a_measurand": [s.measurand for s in samples],
                "a_phase": [s.phase or "" for s in samples],
                "a_unit": [s.unit for s in samples],
                "a_context": [s.context for s in samples],
                "a_location": [s.location for s in samples],
                "a_format": [s.format for s in samples],
                "a_value": [s.value for s in samples],
                "a_numeric_value": [_numeric(s) for s in samples],
            },
        ).one()
        stopped_at = row.stopped_at
        after_stop = stopped_at is not None and max(s.timestamp for s in samples) > stopped_at
        return AddedSamples(new=int(row.new), transaction_pk=row.transaction_pk, after_stop=after_stop)

    def assign_evse(self, transaction_pk: int, evse_id: int) -> None:
        """The transaction's samples stored with an unknown EVSE get ``evse_id``."""
        self._conn.execute(_ASSIGN_EVSE, {"b_transaction_pk": transaction_pk, "v_evse_id": evse_id})


class PgUnitOfWork:
    """Repositories bound to one connection (and so to one transaction)."""

    def __init__(self, conn: Connection) -> None:
        self.connection = conn
        self.tenants = PgTenants(conn)
        self.charge_points = PgChargePoints(conn)
        self.connectors = PgConnectors(conn)
        self.id_tokens = PgIdTokens(conn)
        self.transactions = PgTransactions(conn)
        self.meter_values = PgMeterValues(conn)
        self.events = PgEventRecorder(conn)


__all__ = ["PgUnitOfWork"]
