"""Commands: ask a charger to do something; follow the command to its outcome.

One route per OCPP action (``POST /stations/{id}/commands/{Action}``) so each body is
validated and documented; the OCPP 1.6 schema validates the resulting CALL once more.
"""

# No `from __future__ import annotations`: the per-action routes are made in a loop and
# Powertools reads their annotations, which must be the real model classes.

from datetime import UTC, datetime
from itertools import pairwise
from typing import Annotated, Any, Literal, Self

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from csms.api import polling
from csms.api.auth import caller
from csms.api.common import (
    MAX_INT,
    ApiModel,
    Limit,
    Offset,
    Page,
    StationId,
    UtcDatetime,
    error_responses,
)
from csms.api.context import CommandRequests, services
from csms.domain.commands import Command, CommandStatus
from csms.domain.events import iso
from csms.domain.tenancy import Role, TenantScope

router = APIGatewayRouter()
TAG = ["commands"]
#: OCPP CiString: printable characters. No control characters (PostgreSQL text, where commands
#: and what they leave are stored, cannot even hold NUL).
CI_STRING_PATTERN = r"^[^\x00-\x1f\x7f]*$"
IdTag = Annotated[str, Field(min_length=1, max_length=20, pattern=CI_STRING_PATTERN)]


def _json_number(value: object) -> object:
    # pydantic's lax mode reads true as 1 and "5" as 5: an UnlockConnector for connector 1.
    if isinstance(value, bool | str):
        raise ValueError(f"must be a JSON number, not a {'boolean' if isinstance(value, bool) else 'string'}")
    return value


#: A JSON number (an integral one, 158.0 too, for an integer), never a boolean or a string. After
#: the constraints, so that the schema keeps them as minimum and maximum.
JSON_NUMBER = BeforeValidator(_json_number)
#: OCPP integers are 32-bit for every charger (and every column they land in).
Int32 = Annotated[int, Field(ge=-MAX_INT - 1, le=MAX_INT), JSON_NUMBER]
NonNegativeInt32 = Annotated[int, Field(ge=0, le=MAX_INT), JSON_NUMBER]
PositiveInt32 = Annotated[int, Field(gt=0, le=MAX_INT), JSON_NUMBER]
NonNegativeNumber = Annotated[float, Field(ge=0, le=MAX_INT), JSON_NUMBER]


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00:00-05:00
        raise ValueError("out of range in UTC") from None


#: A time in a command body: with a zone on input, sent to the charger as UTC.
OcppDatetime = Annotated[
    AwareDatetime,
    AfterValidator(_in_utc),
    PlainSerializer(iso, return_type=str, when_used="json"),
]
Uri = Annotated[
    str, Field(min_length=1, max_length=2000, pattern=r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1f\x7f]+$")
]
#: Longest inline wait: well under API Gateway's 29 s integration timeout.
MAX_WAIT_SECONDS = 25


class ChunkOut(ApiModel):
    id: str
    status: CommandStatus


class CommandOut(ApiModel):
    id: str
    station_id: str
    action: str
    status: CommandStatus
    request: dict[str, Any] = Field(description="the OCPP payload sent (or to be sent)")
    response: dict[str, Any] | None = Field(description="the charger's OCPP answer")
    error_code: str | None = Field(description="OCPP error code of a CALLERROR answer")
    reason: str | None
    requested_by: str | None
    ocpp_unique_id: str | None
    created_at: UtcDatetime
    sent_at: UtcDatetime | None
    deadline: UtcDatetime | None
    finished_at: UtcDatetime | None
    late_response: dict[str, Any] | None = Field(description="an answer that arrived after the deadline")
    late_response_at: UtcDatetime | None
    chunks: list[ChunkOut] | None = Field(
        default=None,
        description="when one request became several commands (a SendLocalList too large for one "
        "32 KB frame): all of them in sending order, this one first; absent otherwise",
    )


# --- request bodies per action (OCPP 1.6 field names) -----------------------------------------


class RemoteStopTransaction(ApiModel):
    transaction_id: Int32


class Reset(ApiModel):
    type: Literal["Hard", "Soft"]


class UnlockConnector(ApiModel):
    connector_id: PositiveInt32


class ChangeAvailability(ApiModel):
    connector_id: NonNegativeInt32 = Field(description="0 = the whole charge point")
    type: Literal["Inoperative", "Operative"]


class ChangeConfiguration(ApiModel):
    key: str = Field(min_length=1, max_length=50, pattern=CI_STRING_PATTERN)
    value: str = Field(max_length=500, pattern=CI_STRING_PATTERN)


class GetConfiguration(ApiModel):
    key: list[Annotated[str, Field(max_length=50, pattern=CI_STRING_PATTERN)]] | None = Field(
        default=None, description="all keys if omitted"
    )


class ClearCache(ApiModel):
    pass


class DataTransfer(ApiModel):
    vendor_id: str = Field(min_length=1, max_length=255, pattern=CI_STRING_PATTERN)
    message_id: str | None = Field(default=None, max_length=50, pattern=CI_STRING_PATTERN)
    data: str | None = Field(default=None, pattern=r"^[^\x00]*$", description="any text but NUL")


# --- SmartCharging: the ChargingProfile type (OCPP 1.6 §7.8, §7.9) --------------------------------

ChargingProfilePurpose = Literal["ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"]
ChargingRateUnit = Literal["A", "W"]


def _tenths(value: float | None) -> float | None:
    # The schema's multipleOf 0.1, checked in decimal (7.4 / 0.1 is 73.99999999999999 in binary).
    if value is not None and abs(round(value * 10) - value * 10) > 1e-6:
        raise ValueError("must be a multiple of 0.1")
    return value


class ChargingSchedulePeriod(ApiModel):
    start_period: NonNegativeInt32 = Field(description="seconds from the start of the schedule")
    limit: NonNegativeNumber = Field(description="in the schedule's chargingRateUnit; one decimal at most")
    number_phases: Annotated[int, Field(ge=1, le=3), JSON_NUMBER] | None = None

    _limit_tenths = field_validator("limit")(_tenths)


class ChargingSchedule(ApiModel):
    duration: NonNegativeInt32 | None = Field(default=None, description="seconds")
    start_schedule: OcppDatetime | None = None
    charging_rate_unit: ChargingRateUnit
    charging_schedule_period: list[ChargingSchedulePeriod] = Field(min_length=1)
    min_charging_rate: NonNegativeNumber | None = None

    _rate_tenths = field_validator("min_charging_rate")(_tenths)

    @model_validator(mode="after")
    def _periods_in_order(self) -> Self:
        starts = [p.start_period for p in self.charging_schedule_period]
        if starts[0] != 0:
            raise ValueError("chargingSchedulePeriod: the first period must start at 0")
        if any(later <= earlier for earlier, later in pairwise(starts)):
            raise ValueError("chargingSchedulePeriod: startPeriod must increase from one period to the next")
        return self


class ChargingProfile(ApiModel):
    charging_profile_id: Int32 = Field(description="chosen by the operator; the same id replaces a profile")
    transaction_id: Int32 | None = Field(default=None, description="TxProfile only")
    stack_level: NonNegativeInt32 = Field(description="higher wins among profiles of the same purpose")
    charging_profile_purpose: ChargingProfilePurpose
    charging_profile_kind: Literal["Absolute", "Recurring", "Relative"]
    recurrency_kind: Literal["Daily", "Weekly"] | None = Field(default=None, description="Recurring only")
    valid_from: OcppDatetime | None = None
    valid_to: OcppDatetime | None = None
    charging_schedule: ChargingSchedule

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        kind, schedule = self.charging_profile_kind, self.charging_schedule
        if kind == "Recurring" and (self.recurrency_kind is None or schedule.start_schedule is None):
            raise ValueError("a Recurring profile needs recurrencyKind and chargingSchedule.startSchedule")
        if kind != "Recurring" and self.recurrency_kind is not None:
            raise ValueError("recurrencyKind: only for a Recurring profile")
        if kind == "Relative" and schedule.start_schedule is not None:
            raise ValueError("chargingSchedule.startSchedule: a Relative profile starts with the transaction")
        if self.transaction_id is not None and self.charging_profile_purpose != "TxProfile":
            raise ValueError("transactionId: only for a TxProfile")
        if self.valid_from is not None and self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ValueError("validTo must be after validFrom")
        return self


class RemoteStartTransaction(ApiModel):
    connector_id: PositiveInt32 | None = None
    id_tag: IdTag
    charging_profile: ChargingProfile | None = Field(
        default=None, description="a TxProfile for the transaction to be started (no transactionId yet)"
    )

    @model_validator(mode="after")
    def _tx_profile(self) -> Self:
        profile = self.charging_profile
        if profile is not None and profile.charging_profile_purpose != "TxProfile":
            raise ValueError("chargingProfile: its chargingProfilePurpose must be TxProfile")
        if profile is not None and profile.transaction_id is not None:
            raise ValueError("chargingProfile.transactionId: the transaction does not exist yet")
        return self


class SetChargingProfile(ApiModel):
    connector_id: NonNegativeInt32 = Field(description="0 = the whole charge point")
    cs_charging_profiles: ChargingProfile = Field(alias="csChargingProfiles")

    @model_validator(mode="after")
    def _connector_fits_purpose(self) -> Self:
        purpose = self.cs_charging_profiles.charging_profile_purpose
        if purpose == "ChargePointMaxProfile" and self.connector_id != 0:
            raise ValueError("connectorId: a ChargePointMaxProfile is set on connector 0")
        if purpose == "TxProfile" and self.connector_id == 0:
            raise ValueError("connectorId: a TxProfile is set on a connector (> 0)")
        return self


class ClearChargingProfile(ApiModel):
    id: Int32 | None = Field(
        default=None, description="the chargingProfileId; the other fields are then ignored"
    )
    connector_id: NonNegativeInt32 | None = Field(
        default=None, description="0 = profiles of the whole charge point"
    )
    charging_profile_purpose: ChargingProfilePurpose | None = None
    stack_level: NonNegativeInt32 | None = None


class GetCompositeSchedule(ApiModel):
    connector_id: NonNegativeInt32 = Field(description="0 = the whole charge point's consumption")
    duration: PositiveInt32 = Field(description="seconds")
    charging_rate_unit: ChargingRateUnit | None = None


# --- FirmwareManagement ------------------------------------------------------------------------


class UpdateFirmware(ApiModel):
    location: Uri = Field(description="where the charger downloads the firmware (URI)")
    retrieve_date: OcppDatetime = Field(description="when it may start downloading")
    retries: NonNegativeInt32 | None = None
    retry_interval: NonNegativeInt32 | None = Field(default=None, description="seconds")


class GetDiagnostics(ApiModel):
    location: Uri = Field(description="where the charger uploads the diagnostics file (URI)")
    retries: NonNegativeInt32 | None = None
    retry_interval: NonNegativeInt32 | None = Field(default=None, description="seconds")
    start_time: OcppDatetime | None = None
    stop_time: OcppDatetime | None = None

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.start_time is not None and self.stop_time is not None and self.stop_time <= self.start_time:
            raise ValueError("stopTime must be after startTime")
        return self


# --- LocalAuthListManagement -------------------------------------------------------------------


class SendLocalList(ApiModel):
    """Not the OCPP payload: the list is derived from the tenant's id tags, and the version is
    allocated per charger."""

    update_type: Literal["Full", "Differential"] = Field(
        description="Full: every id tag of the tenant. Differential: the named idTags (a name the "
        "tenant does not have is removed from the charger's list), or without idTags every tag "
        "changed since the last Full list the charger accepted"
    )
    id_tags: list[IdTag] | None = Field(default=None, min_length=1, max_length=10000)

    @model_validator(mode="after")
    def _names_only_for_differential(self) -> Self:
        if self.update_type == "Full" and self.id_tags is not None:
            raise ValueError("idTags: only for a Differential update (a Full list holds every tag)")
        return self


class GetLocalListVersion(ApiModel):
    pass


# --- Reservation ---------------------------------------------------------------------------------


class ReserveNow(ApiModel):
    """The reservationId is allocated by the CSMS (see the command's request)."""

    connector_id: NonNegativeInt32 = Field(description="0 = any connector, if the charger supports it")
    expiry_date: OcppDatetime = Field(description="in the future")
    id_tag: IdTag
    parent_id_tag: IdTag | None = None


class CancelReservation(ApiModel):
    reservation_id: Annotated[int, Field(ge=1, le=MAX_INT), JSON_NUMBER]


# --- RemoteTrigger -------------------------------------------------------------------------------


class TriggerMessage(ApiModel):
    requested_message: Literal[
        "BootNotification",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StatusNotification",
    ]
    connector_id: PositiveInt32 | None = None


#: Action → request body model. Other feature profiles add theirs here.
ACTIONS: dict[str, type[ApiModel]] = {
    "RemoteStartTransaction": RemoteStartTransaction,
    "RemoteStopTransaction": RemoteStopTransaction,
    "Reset": Reset,
    "UnlockConnector": UnlockConnector,
    "ChangeAvailability": ChangeAvailability,
    "ChangeConfiguration": ChangeConfiguration,
    "GetConfiguration": GetConfiguration,
    "ClearCache": ClearCache,
    "DataTransfer": DataTransfer,
    "UpdateFirmware": UpdateFirmware,
    "GetDiagnostics": GetDiagnostics,
    "SendLocalList": SendLocalList,
    "GetLocalListVersion": GetLocalListVersion,
    "ReserveNow": ReserveNow,
    "CancelReservation": CancelReservation,
    "SetChargingProfile": SetChargingProfile,
    "ClearChargingProfile": ClearChargingProfile,
    "GetCompositeSchedule": GetCompositeSchedule,
    "TriggerMessage": TriggerMessage,
}


def _service() -> CommandRequests:
    return services(router).commands


def _out(command: Command) -> CommandOut:
    fields = {name: getattr(command, name) for name in CommandOut.model_fields if hasattr(command, name)}
    return CommandOut.model_validate({**fields, "station_id": command.charge_point_id})


def _wait(service: CommandRequests, scope: TenantScope, command: Command, seconds: float) -> Command:
    return _wait_all(service, scope, [command], seconds)[0]


def _wait_all(
    service: CommandRequests, scope: TenantScope, batch: list[Command], seconds: float
) -> list[Command]:
    current = batch

    def finished() -> bool:
        nonlocal current
        if not all(c.status.final for c in current):
            current = [c if c.status.final else service.get(scope, c.id) for c in current]
        return all(c.status.final for c in current)

    if not all(c.status.final for c in current):
        polling.wait_until(finished, seconds)  # backs off: 0.1 s, doubling, at most 2 s apart
    return current


def _submit(charge_point_id: str, action: str, body: ApiModel, wait: float) -> Response[CommandOut]:
    scope = caller(router, Role.OPERATOR).scope
    service = _service()
    payload = body.model_dump(by_alias=True, exclude_none=True, mode="json")
    batch = service.submit_all(scope, charge_point_id, action, payload)
    if wait > 0:
        batch = _wait_all(service, scope, batch, wait)
    command = batch[0]
    out = _out(command)
    if len(batch) > 1:
        out.chunks = [ChunkOut(id=c.id, status=c.status) for c in batch]
    return Response(
        status_code=200 if all(c.status.final for c in batch) else 202,
        content_type="application/json",
        body=out,
        headers={"Location": f"/api/v1/commands/{command.id}"},
    )


Wait = Annotated[
    float,
    Query(
        ge=0, le=MAX_WAIT_SECONDS, description="seconds to wait for the outcome (200 if it arrived, else 202)"
    ),
]


def _register(action: str, model: type[ApiModel]) -> None:
    def send(
        stationId: StationId,
        body: Annotated[model, Body()],  # type: ignore[valid-type]  # a real class at run time
        wait: Wait = 0,
    ) -> Response[CommandOut]:
        return _submit(stationId, action, body, wait)

    send.__name__ = f"send_{action}"
    router.post(
        f"/stations/<stationId>/commands/{action}",
        summary=f"Send {action}",
        description=f"Queue an OCPP 1.6 {action} for the charger; 202 with the command, or 200 with its "
        "outcome if it arrives within `wait` seconds. Operators and admins.",
        tags=TAG,
        operation_id=f"send{action}",
        responses={
            202: {"description": "queued or sent; poll the command"},
            200: {"description": "finished"},
            **error_responses(401, 403, 404, 409, 422),
        },
    )(send)


for _action, _model in ACTIONS.items():
    _register(_action, _model)


@router.get(
    "/commands/<commandId>",
    summary="A command and its outcome",
    tags=TAG,
    responses={200: {"description": "the command"}, **error_responses(401, 403, 404, 422)},
)
def get_command(commandId: Annotated[str, Path()], wait: Wait = 0) -> CommandOut:
    scope = caller(router, Role.OPERATOR).scope
    service = _service()
    command = service.get(scope, commandId)
    if wait > 0:
        command = _wait(service, scope, command, wait)
    return _out(command)


@router.get(
    "/stations/<stationId>/commands",
    summary="A station's commands, newest first",
    tags=TAG,
    responses={200: {"description": "one page of commands"}, **error_responses(401, 403, 404, 422)},
)
def list_commands(
    stationId: StationId,
    limit: Limit = 50,
    offset: Offset = 0,
    status: Annotated[CommandStatus | None, Query()] = None,
) -> Page[CommandOut]:
    scope = caller(router, Role.OPERATOR).scope
    commands, total = _service().search(scope, stationId, status, limit, offset)
    return Page[CommandOut](items=[_out(c) for c in commands], total=total, limit=limit, offset=offset)


__all__ = ["ACTIONS", "datetime", "router"]
