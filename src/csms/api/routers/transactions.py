"""Transactions (charging sessions) with energy and duration, and unknown-transaction stops."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, cast

from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from csms.api.auth import caller
from csms.api.common import ApiModel, From, Limit, Offset, Page, To, UtcDatetime, error_responses
from csms.api.context import services
from csms.api.routers.id_tokens import ID_TOKEN_PATTERN
from csms.domain.stations import CHARGE_POINT_ID_PATTERN
from csms.domain.transactions import TransactionQuery, TransactionRecord, UnknownStop, UnknownStopQuery
from csms.services.sessions import SessionService

router = APIGatewayRouter()
TAG = ["transactions"]

INT32_MAX = 2_147_483_647
#: OCPP transactionIds are 32-bit integers; the CSMS allocates positive ones.
TransactionId = Annotated[
    int, Path(ge=1, le=INT32_MAX, description="the OCPP transactionId the CSMS allocated")
]
StationFilter = Annotated[
    str | None,
    Query(alias="stationId", pattern=CHARGE_POINT_ID_PATTERN.pattern, description="one station"),
]
ConnectorFilter = Annotated[int | None, Query(alias="connectorId", ge=0, le=INT32_MAX)]
ClosedBy = Literal["charger", "csms"]
FlagReason = Literal["no-activity", "charger-rebooted"]

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
    id: int = Field(description="the OCPP transactionId")
    station_id: str
    connector_id: int
    id_tag: str = Field(description="the tag that started it (kept when the tag is deleted)")
    start_auth_status: str = Field(
        description="what the CSMS answered the StartTransaction's tag: Accepted, Blocked, Expired, Invalid "
        "(the transaction is recorded whatever the answer: the charger had started)"
    )
    reservation_id: int | None
    started_at: UtcDatetime
    stopped_at: UtcDatetime | None
    meter_start: int = Field(description="Wh")
    meter_stop: int | None = Field(description="Wh")
    energy_wh: int | None = Field(
        description="closed: meterStop - meterStart; open: the latest Energy.Active.Import.Register sample "
        "of the transaction (no phase, in Wh) minus meterStart, null until there is one"
    )
    energy_measured_at: UtcDatetime | None = Field(
        description="when energyWh was measured: the stop, or the latest register sample"
    )
    duration_seconds: int = Field(description="start to stop, or to now while open")
    stop_reason: str | None = Field(description="OCPP Reason; Local when the charger gave none")
    stop_id_tag: str | None
    open: bool
    closed_by: ClosedBy | None = Field(
        description="who closed it: charger (its StopTransaction) or csms (a newer transaction on the "
        "same connector made the end certain: stoppedAt is that one's start, meterStop the highest "
        "energy register reading, stopReason Other); null while open"
    )
    flagged_at: UtcDatetime | None = Field(
        description="when the stuck-transactions job flagged it for an operator (never cleared automatically)"
    )
    flag_reason: FlagReason | None = Field(
        description="no-activity: no meter value or status for too long; charger-rebooted: its charger "
        "booted after it started and did not stop it"
    )


class UnknownTransactionStopOut(ApiModel):
    id: int
    station_id: str
    transaction_id: int = Field(description="the transactionId the charger sent, unknown to the CSMS")
    id_tag: str | None
    meter_stop: int = Field(description="Wh")
    stopped_at: UtcDatetime
    reason: str | None
    transaction_data: list[Any] | None = Field(description="the StopTransaction's transactionData as sent")
    received_at: UtcDatetime


def _out(record: TransactionRecord, now: datetime) -> TransactionOut:
    return TransactionOut(
        id=record.id,
        station_id=record.charge_point_id,
        connector_id=record.connector_id,
        id_tag=record.id_tag,
        start_auth_status=record.start_auth_status,
        reservation_id=record.reservation_id,
        started_at=record.started_at,
        stopped_at=record.stopped_at,
        meter_start=record.meter_start,
        meter_stop=record.meter_stop,
        energy_wh=record.energy_wh,
        energy_measured_at=record.energy_measured_at,
        duration_seconds=record.duration_seconds(now),
        stop_reason=record.effective_stop_reason,
        stop_id_tag=record.stop_id_tag,
        open=record.open,
        closed_by=cast(ClosedBy | None, record.effective_closed_by),
        flagged_at=record.flagged_at,
        flag_reason=cast(FlagReason | None, record.flag_reason),
    )


def _stop_out(stop: UnknownStop) -> UnknownTransactionStopOut:
    fields = {k: getattr(stop, k) for k in UnknownTransactionStopOut.model_fields if k != "station_id"}
    return UnknownTransactionStopOut.model_validate({**fields, "station_id": stop.charge_point_id})


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
    connector_id: ConnectorFilter = None,
    id_tag: Annotated[
        str | None,
        Query(alias="idTag", max_length=20, pattern=ID_TOKEN_PATTERN, description="the starting tag"),
    ] = None,
    start: From = None,
    to: To = None,
    status: Annotated[Literal["open", "closed"] | None, Query(description="open or closed only")] = None,
    flagged: Annotated[
        bool | None,
        Query(description="true: only transactions flagged for an operator (stuck); false: only unflagged"),
    ] = None,
    closed_by: Annotated[
        ClosedBy | None,
        Query(alias="closedBy", description="only closed transactions closed by the charger or by the CSMS"),
    ] = None,
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
            connector_id=connector_id,
            id_tag=id_tag,
            start=utc_param(start, "from"),
            end=utc_param(to, "to"),
            open=None if status is None else status == "open",
            flagged=flagged,
            closed_by=closed_by,
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
