"""Commands: ask a station to do something; follow the command to its outcome.

One route per neutral command (``POST /stations/{id}/commands/{name}``) so each body is
validated and documented; the pipeline translates it for the station's protocol and validates
the resulting CALL against that protocol's official schema. Actions one protocol alone has are
sent by their OCPP name (``POST /stations/{id}/ocpp/{Action}``) with the OCPP payload.
"""

# No `from __future__ import annotations`: the per-command routes are made in a loop and
# Powertools reads their annotations, which must be the real model classes.

from datetime import timedelta
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from csms.api import polling
from csms.api.auth import caller
from csms.api.command_bodies import COMMANDS, RotatePassword
from csms.api.common import (
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
from csms.domain.tenancy import Role, TenantScope
from csms.security import rotation_password

router = APIGatewayRouter()
TAG = ["commands"]
#: Longest inline wait: well under API Gateway's 29 s integration timeout.
MAX_WAIT_SECONDS = 25
#: Longest a command may wait for its station: a week.
MAX_EXPIRY_SECONDS = 604_800


class ChunkOut(ApiModel):
    id: str
    status: CommandStatus


class TransactionRef(ApiModel):
    id: int = Field(description="ours (the transaction resource's id)")
    transaction_id: str = Field(description="the station's")


class FollowUpOut(ApiModel):
    kind: str = Field(description="the message the station sent (NotifyReport, LogStatusNotification, ...)")
    received_at: UtcDatetime
    data: dict[str, Any]


class CommandOut(ApiModel):
    id: str
    station_id: str
    name: str = Field(description="the neutral command, or the OCPP action of a protocol-specific one")
    protocol: str | None = Field(description="the protocol it was translated for (null: not yet)")
    action: str | None = Field(description="the OCPP action sent (null: not translated yet)")
    status: CommandStatus
    request: dict[str, Any] = Field(
        description="the body as given, with the ids the CSMS allocated (requestId, remoteStartId, "
        "reservationId); for one part of a request split into several commands, that part"
    )
    ocpp_request: dict[str, Any] | None = Field(description="the OCPP payload sent (or to be sent)")
    request_id: int | None = Field(
        description="the id the station echoes in its follow-ups (2.0.1 requestId, remoteStartId)"
    )
    response: dict[str, Any] | None = Field(description="the station's OCPP answer")
    result: dict[str, Any] | None = Field(
        description="the answer in neutral terms where it says more than a status (schedule, filename, ...)"
    )
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
    expires_at: UtcDatetime | None = Field(
        description="until when it may wait to be sent (station offline, or its connection gone when it "
        "was sent): then it is timed out with the reason"
    )
    attempts: int = Field(
        description="how many times it was sent (a send that found the connection gone counts)"
    )
    transaction: TransactionRef | None = Field(
        default=None,
        description="start-transaction: the transaction the station started with its remoteStartId",
    )
    follow_ups: list[FollowUpOut] = Field(
        default_factory=list,
        description="what the station sent later with the command's requestId (report parts, firmware "
        "and log status, customer information, charging profiles), oldest first",
    )
    generated_password: str | None = Field(
        default=None,
        description="rotate-password without a password: the one generated, shown in the submit answer "
        "only and never again",
    )
    chunks: list[ChunkOut] | None = Field(
        default=None,
        description="in the submit answer, when one request became several commands (a local list or "
        "variables too many for one frame): all of them in sending order, this one first; absent otherwise, "
        "and on GET, where each part is a command of its own (all of them in /stations/{id}/commands)",
    )


def _service() -> CommandRequests:
    return services(router).commands


def _out(command: Command, service: CommandRequests | None = None) -> CommandOut:
    fields = {name: getattr(command, name) for name in CommandOut.model_fields if hasattr(command, name)}
    out = CommandOut.model_validate({**fields, "station_id": command.charge_point_id})
    if service is not None:
        later = service.follow_ups(command)
        if later.transaction is not None:
            out.transaction = TransactionRef(id=later.transaction[0], transaction_id=later.transaction[1])
        out.follow_ups = [
            FollowUpOut(kind=f.kind, received_at=f.received_at, data=f.data) for f in later.parts
        ]
    return out


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


def _submit(
    charge_point_id: str, name: str, payload: dict[str, Any], wait: float, expires_in: int | None
) -> Response[CommandOut]:
    scope = caller(router, Role.OPERATOR).scope
    service = _service()
    batch = service.submit_all(
        scope,
        charge_point_id,
        name,
        payload,
        expires_in=timedelta(seconds=expires_in) if expires_in is not None else None,
    )
    if wait > 0:
        batch = _wait_all(service, scope, batch, wait)
    command = batch[0]
    out = _out(command, service)
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


ExpiresIn = Annotated[
    int | None,
    Query(
        ge=10,
        le=MAX_EXPIRY_SECONDS,
        description="seconds the command may wait to be sent while the station is offline (or its "
        "connection was gone when it was sent; it goes out after the station's first frame on its next "
        "connection); then it ends timed_out with the reason. Default: the deployment's "
        "CSMS_COMMAND_EXPIRY_SECONDS (900)",
    ),
]


def _submitted() -> Any:
    return {
        202: {"description": "queued or sent; poll the command"},
        200: {"description": "finished"},
        **error_responses(401, 403, 404, 409, 422),
    }


def _register(name: str, model: type[ApiModel]) -> None:
    def send(
        stationId: StationId,
        body: Annotated[model, Body()],  # type: ignore[valid-type]  # a real class at run time
        wait: Wait = 0,
        expiresIn: ExpiresIn = None,
    ) -> Response[CommandOut]:
        payload: dict[str, Any] = body.model_dump(by_alias=True, exclude_none=True, mode="json")  # type: ignore[attr-defined]
        return _submit(stationId, name, payload, wait, expiresIn)

    operation = "".join(part.title() for part in name.split("-"))
    send.__name__ = f"send_{name.replace('-', '_')}"
    router.post(
        f"/stations/<stationId>/commands/{name}",
        summary=f"Send {name}",
        description=f"Queue {name} for the station, translated for its protocol (README: the commands and "
        "their translation table); a body the protocol cannot express is a 422 naming the field. 202 with "
        "the command, or 200 with its outcome if it arrives within `wait` seconds. Operators and admins.",
        tags=TAG,
        operation_id=operation[0].lower() + operation[1:],
        responses=_submitted(),
    )(send)


for _name, _model in COMMANDS.items():
    _register(_name, _model)


@router.post(
    "/stations/<stationId>/commands/rotate-password",
    summary="Send rotate-password",
    description="Give the station a new Basic-auth password: 2.0.1 SetVariables "
    "SecurityCtrlr.BasicAuthPassword, 1.6 ChangeConfiguration AuthorizationKey (hex-encoded, 16 to 20 "
    "characters). The password is write-only: never stored or shown in plain text; without one, one is "
    "generated and shown once, in this answer (`generatedPassword`). While the command is in flight both "
    "passwords are admitted; once the station accepts, the new one is its password and the old one is "
    "admitted until the station first connects with the new one; a refusal or a failure forgets the new "
    "one, no answer keeps both until the station connects with one. 409 while a rotation is in flight or "
    "the station has no password. Not replayed by Idempotency-Key (the answer may hold the password). "
    "Operators and admins.",
    tags=TAG,
    operation_id="rotatePassword",
    responses=_submitted(),
)
def rotate_password(
    stationId: StationId,
    body: Annotated[RotatePassword, Body()],
    wait: Wait = 0,
    expiresIn: ExpiresIn = None,
) -> Response[CommandOut]:
    password = body.password or rotation_password()
    response = _submit(stationId, "rotate-password", {"password": password}, wait, expiresIn)
    if body.password is None and response.body is not None:
        response.body.generated_password = password
    return response


OcppAction = Annotated[
    str,
    Path(
        pattern=r"^[A-Z][A-Za-z0-9]{1,49}$",
        description="an action the station's protocol sends from the CSMS, by its OCPP name",
    ),
]


@router.post(
    "/stations/<stationId>/ocpp/<action>",
    summary="Send an OCPP action by its name",
    description="For what one protocol alone has (2.0.1: GetBaseReport, GetReport, SetNetworkProfile, "
    "GetTransactionStatus, InstallCertificate, GetInstalledCertificateIds, DeleteCertificate, "
    "CustomerInformation, ...; 1.6: GetConfiguration, ChangeConfiguration, GetDiagnostics, ...): the body is "
    "the OCPP payload, validated against the official schema of the station's protocol (which must be "
    "known: pinned, or the station connected once). A requestId or remoteStartId the payload needs and "
    "does not have is allocated. What the answer says is applied as for the neutral commands. The actions "
    "whose records the CSMS keeps (ReserveNow, CancelReservation, SetChargingProfile, SendLocalList) are "
    "sent by their neutral commands only. Operators and admins.",
    tags=TAG,
    operation_id="sendOcppAction",
    responses=_submitted(),
)
def send_ocpp_action(
    stationId: StationId,
    action: OcppAction,
    body: Annotated[dict[str, Any], Body(description="the OCPP payload")],
    wait: Wait = 0,
    expiresIn: ExpiresIn = None,
) -> Response[CommandOut]:
    return _submit(stationId, action, body, wait, expiresIn)


@router.get(
    "/commands/<commandId>",
    summary="A command and its outcome",
    tags=TAG,
    responses={200: {"description": "the command"}, **error_responses(401, 403, 404, 422)},
)
def get_command(commandId: Annotated[str, Path()], wait: Wait = 0) -> CommandOut:
    # Every role reads (README: a viewer reads everything of its tenant); passwords never reach
    # a command's body (rotate-password keeps its own encrypted, csms.services.credentials).
    scope = caller(router).scope
    service = _service()
    command = service.get(scope, commandId)
    if wait > 0:
        command = _wait(service, scope, command, wait)
    return _out(command, service)


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
    scope = caller(router).scope
    commands, total = _service().search(scope, stationId, status, limit, offset)
    return Page[CommandOut](items=[_out(c) for c in commands], total=total, limit=limit, offset=offset)


__all__ = ["router"]
