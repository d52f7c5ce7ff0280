"""Transactions (charging sessions) with energy and duration, and unknown-transaction stops."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, cast

from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from csms.api.auth import caller
from csms.api.common import (
    ApiModel,
    From,
    Limit,
    Offset,
    Page,
    PresentedIdToken,
    To,
    UtcDatetime,
    error_responses,
    presented,
)
from csms.api.context import services
from csms.api.routers.id_tokens import ID_TOKEN_PATTERN
from csms.api.routers.stations import CONNECTOR_ID
from csms.domain.stations import CHARGE_POINT_ID_PATTERN
from csms.domain.tokens import MAX_ID_TOKEN_LENGTH, IdToken
from csms.domain.transactions import (
    TransactionEventRecord,
    TransactionQuery,
    TransactionRecord,
    UnknownStop,
    UnknownStopQuery,
)
from csms.services.sessions import SessionService

router = APIGatewayRouter()
TAG = ["transactions"]

INT32_MAX = 2_147_483_647
#: Our transaction ids are 32-bit integers the database allocates (a 1.6 charger's transactionId).
TransactionId = Annotated[int, Path(ge=1, le=INT32_MAX, description="the transaction's id (ours)")]
StationFilter = Annotated[
    str | None,
    Query(alias="stationId", pattern=CHARGE_POINT_ID_PATTERN.pattern, description="one station"),
]
ConnectorFilter = Annotated[int | None, Query(alias="connectorId", ge=0, le=INT32_MAX)]
ClosedBy = Literal["charger", "csms"]
FlagReason = Literal[
    "no-activity",
    "charger-rebooted",
    "deauthorized-not-stopped",
    "meter-values-after-stop",
    "event-after-end",
    "meter-went-backwards",
]

#: Far enough from datetime's limits to convert to UTC and add a year without overflowing.
_EARLIEST = datetime(2, 1, 1, tzinfo=UTC)
_LATEST = datetime(9998, 12, 31, tzinfo=UTC)


def utc_param(value: datetime | None, name: str) -> datetime | None:
    """A from/to query parameter in UTC; 422 naming it when it is out of computable range."""
    if value is None:
        return None
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not _EARLIEST <= utc <= _LATEST:
        raise RequestValidationError(
            [{"loc": ("query", name), "msg": "must be between the years 2 and 9998", "type": "value_error"}]
        )
    return utc


def _sessions() -> SessionService:
    return services(router).sessions


class TransactionOut(ApiModel):
    id: int = Field(description="ours: the number the API addresses the transaction by")
    transaction_id: str = Field(
        description="the station's: the 1.6 transactionId (our id, as text) or the 2.0.1 station's string"
    )
    protocol: str = Field(description="ocpp1.6 or ocpp2.0.1")
    station_id: str
    evse_id: int | None = Field(description="null until an event named it (2.0.1)")
    connector_id: int | None = Field(description=CONNECTOR_ID)
    id_token: PresentedIdToken | None = Field(
        description="the token that authorised it (kept when the token is deleted); null until one did "
        "(a 2.0.1 transaction may start before authorisation); type null for a 1.6 id tag"
    )
    start_auth_status: str | None = Field(
        description="what the CSMS answered that token: Accepted, Blocked, ConcurrentTx, Expired, Invalid, "
        "NoCredit, Unknown... (the transaction is recorded whatever the answer: the station had started)"
    )
    deauthorized_at: UtcDatetime | None = Field(
        description="when the CSMS answered its start (or an update) other than Accepted: not a charging "
        "session in any report"
    )
    reservation_id: int | None
    remote_start_id: int | None = Field(description="2.0.1: the remote start it answers")
    started_at: UtcDatetime = Field(
        description="its start (2.0.1: the Started event's time; its earliest event's until that arrives)"
    )
    stopped_at: UtcDatetime | None
    meter_start: int | None = Field(description="Wh; null until a register reading said (never assumed 0)")
    meter_stop: int | None = Field(description="Wh; null while open")
    energy_wh: int | None = Field(
        description="closed: meterStop - meterStart; open: the latest Energy.Active.Import.Register sample "
        "of the transaction (no phase, in Wh) minus meterStart; null while either is unknown"
    )
    energy_measured_at: UtcDatetime | None = Field(
        description="when energyWh was measured: the stop, or the latest register sample"
    )
    duration_seconds: int = Field(description="start to stop, or to now while open")
    charging_state: str | None = Field(
        description="2.0.1: the charging state of its highest-numbered event that had one"
    )
    seq_no: int | None = Field(description="2.0.1: the highest event seqNo applied")
    offline: bool = Field(description="2.0.1: one of its events happened while the station was offline")
    stop_reason: str | None = Field(description="OCPP stop reason; Local when the station gave none")
    stop_id_token: PresentedIdToken | None
    open: bool
    closed_by: ClosedBy | None = Field(
        description="who closed it: charger (its stop) or csms (a newer 1.6 transaction on the same "
        "connector made the end certain: stoppedAt is that one's start, meterStop the highest energy "
        "register reading, stopReason Other); null while open"
    )
    flagged_at: UtcDatetime | None = Field(
        description="when it was flagged for an operator (never cleared automatically)"
    )
    flag_reason: FlagReason | None = Field(
        description="no-activity: no meter value or status for too long; charger-rebooted: its station "
        "booted after it started and did not stop it; deauthorized-not-stopped: refused by the CSMS and "
        "not stopped; meter-values-after-stop: samples taken after its stop arrived (1.6); "
        "event-after-end: an event numbered after its Ended arrived (2.0.1); meter-went-backwards: it "
        "ended with a stop reading below its start (a meter replaced or reset): negative energy, check "
        "before billing"
    )


class TransactionEventOut(ApiModel):
    seq_no: int | None = Field(description="2.0.1; null for a 1.6 stop (1.6 starts are 0)")
    event_type: Literal["Started", "Updated", "Ended"]
    trigger_reason: str | None = Field(description="2.0.1 triggerReason; null for 1.6")
    timestamp: UtcDatetime
    offline: bool
    evse_id: int | None
    connector_id: int | None
    charging_state: str | None
    stopped_reason: str | None
    id_token: PresentedIdToken | None
    id_token_status: str | None = Field(description="what the CSMS answered for idToken")
    remote_start_id: int | None
    reservation_id: int | None
    meter_values: int = Field(description="how many sampled values it carried")
    after_end: bool = Field(description="numbered after the transaction's Ended: kept, not applied")
    received_at: UtcDatetime


class UnknownTransactionStopOut(ApiModel):
    """A 1.6 StopTransaction for a transaction id the CSMS never allocated (2.0.1 has no such
    thing: an event for an unknown transaction creates it)."""

    id: int
    station_id: str
    transaction_id: str = Field(description="the transactionId the charger sent, unknown to the CSMS")
    id_token: PresentedIdToken | None = Field(description="the idTag it sent (type null: 1.6 gives none)")
    meter_stop: int = Field(description="Wh")
    stopped_at: UtcDatetime
    reason: str | None
    transaction_data: list[Any] | None = Field(description="the StopTransaction's transactionData as sent")
    received_at: UtcDatetime


def _out(record: TransactionRecord, now: datetime) -> TransactionOut:
    t = record.transaction
    return TransactionOut(
        id=t.id,
        transaction_id=t.transaction_id,
        protocol=t.protocol,
        station_id=t.charge_point_id,
        evse_id=t.evse_id,
        connector_id=t.connector_id,
        id_token=presented(t.id_token),
        start_auth_status=t.start_auth_status.value if t.start_auth_status else None,
        deauthorized_at=t.deauthorized_at,
        reservation_id=t.reservation_id,
        remote_start_id=t.remote_start_id,
        started_at=t.start_timestamp,
        stopped_at=t.stop_timestamp,
        meter_start=t.meter_start,
        meter_stop=None if record.open else t.meter_stop,
        energy_wh=record.energy_wh,
        energy_measured_at=record.energy_measured_at,
        duration_seconds=record.duration_seconds(now),
        charging_state=t.charging_state.value if t.charging_state else None,
        seq_no=t.seq_no,
        offline=t.offline,
        stop_reason=record.effective_stop_reason,
        stop_id_token=presented(t.stop_id_token),
        open=record.open,
        closed_by=cast(ClosedBy | None, record.effective_closed_by),
        flagged_at=t.flagged_at,
        flag_reason=cast(FlagReason | None, t.flag_reason),
    )


def _event_out(event: TransactionEventRecord) -> TransactionEventOut:
    return TransactionEventOut(
        seq_no=event.seq_no,
        event_type=event.event_type.value,
        trigger_reason=event.trigger_reason,
        timestamp=event.timestamp,
        offline=event.offline,
        evse_id=event.evse_id,
        connector_id=event.connector_id,
        charging_state=event.charging_state,
        stopped_reason=event.stopped_reason,
        id_token=presented(event.id_token),
        id_token_status=event.id_token_status,
        remote_start_id=event.remote_start_id,
        reservation_id=event.reservation_id,
        meter_values=event.meter_values,
        after_end=event.after_end,
        received_at=event.received_at,
    )


def _stop_out(stop: UnknownStop) -> UnknownTransactionStopOut:
    fields = {
        k: getattr(stop, k)
        for k in UnknownTransactionStopOut.model_fields
        if k not in ("station_id", "id_token")
    }
    token = presented(IdToken(stop.id_tag)) if stop.id_tag is not None else None
    return UnknownTransactionStopOut.model_validate(
        {**fields, "station_id": stop.charge_point_id, "id_token": token}
    )


@router.get(
    "/transactions",
    summary="List transactions, newest first",
    tags=TAG,
    responses={200: {"description": "one page of transactions"}, **error_responses(401, 422, 503)},
)
def list_transactions(
    limit: Limit = 50,
    offset: Offset = 0,
    station_id: StationFilter = None,
    evse_id: Annotated[int | None, Query(alias="evseId", ge=0, le=INT32_MAX)] = None,
    connector_id: ConnectorFilter = None,
    transaction_id: Annotated[
        str | None,
        Query(alias="transactionId", max_length=36, pattern=ID_TOKEN_PATTERN, description="the station's id"),
    ] = None,
    id_token: Annotated[
        str | None,
        Query(
            alias="idToken",
            max_length=MAX_ID_TOKEN_LENGTH,
            pattern=ID_TOKEN_PATTERN,
            description="the authorising token's value (case-insensitive, any type)",
        ),
    ] = None,
    start: From = None,
    to: To = None,
    status: Annotated[Literal["open", "closed"] | None, Query(description="open or closed only")] = None,
    flagged: Annotated[
        bool | None,
        Query(description="true: only transactions flagged for an operator; false: only unflagged"),
    ] = None,
    deauthorized: Annotated[
        bool | None,
        Query(
            description="true: only those the CSMS refused (not charging sessions); false: only the others"
        ),
    ] = None,
    closed_by: Annotated[
        ClosedBy | None,
        Query(alias="closedBy", description="only closed transactions closed by the charger or by the CSMS"),
    ] = None,
    protocol: Annotated[Literal["ocpp1.6", "ocpp2.0.1"] | None, Query()] = None,
    sort: Annotated[Literal["startedAt", "stoppedAt", "energyWh"], Query()] = "startedAt",
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
) -> Page[TransactionOut]:
    """``from``/``to`` bound the start time (from inclusive, to exclusive). Transactions
    without a stop time or an energy figure sort last in either order."""
    scope = caller(router).scope
    service = _sessions()
    records, total = service.search(
        scope,
        TransactionQuery(
            charge_point_id=station_id,
            evse_id=evse_id,
            connector_id=connector_id,
            transaction_id=transaction_id,
            id_token=id_token,
            start=utc_param(start, "from"),
            end=utc_param(to, "to"),
            open=None if status is None else status == "open",
            flagged=flagged,
            deauthorized=deauthorized,
            closed_by=closed_by,
            protocol=protocol,
            sort=sort,
            descending=order == "desc",
            limit=limit,
            offset=offset,
        ),
    )
    now = service.now()
    return Page[TransactionOut](
        items=[_out(r, now) for r in records], total=total, limit=limit, offset=offset
    )


@router.get(
    "/transactions/<transactionId>",
    summary="Get a transaction with its energy and duration",
    tags=TAG,
    responses={200: {"description": "the transaction"}, **error_responses(401, 404, 422, 503)},
)
def get_transaction(transactionId: TransactionId) -> TransactionOut:
    scope = caller(router).scope
    service = _sessions()
    return _out(service.get(scope, transactionId), service.now())


@router.get(
    "/transactions/<transactionId>/events",
    summary="A transaction's events, in seqNo order",
    description="2.0.1: every TransactionEvent as received (retries once), with the answer its idToken "
    "got; 1.6: its StartTransaction (seqNo 0) and its StopTransaction (seqNo null).",
    tags=TAG,
    responses={200: {"description": "the events"}, **error_responses(401, 404, 422, 503)},
)
def transaction_events(transactionId: TransactionId) -> list[TransactionEventOut]:
    scope = caller(router).scope
    return [_event_out(e) for e in _sessions().events(scope, transactionId)]


@router.get(
    "/unknown-transaction-stops",
    summary="StopTransactions for transactionIds the CSMS did not know, newest first",
    tags=TAG,
    responses={
        200: {"description": "one page of unknown-transaction stops"},
        **error_responses(401, 422, 503),
    },
)
def list_unknown_transaction_stops(
    limit: Limit = 50,
    offset: Offset = 0,
    station_id: StationFilter = None,
    start: From = None,
    to: To = None,
    order: Annotated[Literal["asc", "desc"], Query(description="by the time the stop was received")] = "desc",
) -> Page[UnknownTransactionStopOut]:
    """The charger was acknowledged (it must not retry forever); these are for an operator to
    reconcile. ``from``/``to`` bound the time the stop was received."""
    scope = caller(router).scope
    stops, total = _sessions().unknown_stops(
        scope,
        UnknownStopQuery(
            charge_point_id=station_id,
            start=utc_param(start, "from"),
            end=utc_param(to, "to"),
            descending=order == "desc",
            limit=limit,
            offset=offset,
        ),
    )
    return Page[UnknownTransactionStopOut](
        items=[_stop_out(s) for s in stops], total=total, limit=limit, offset=offset
    )
