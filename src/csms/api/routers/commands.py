"""Commands: ask a charger to do something; follow the command to its outcome.

One route per OCPP action (``POST /charge-points/{id}/commands/{Action}``) so each body is
validated and documented; the OCPP 1.6 schema validates the resulting CALL once more.
"""

# No `from __future__ import annotations`: the per-action routes are made in a loop and
# Powertools reads their annotations, which must be the real model classes.

import time
from datetime import datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from csms.api.auth import Role, caller
from csms.api.common import ApiModel, Limit, Offset, Page, UtcDatetime
from csms.errors import Conflict
from csms.services.commands import Command, CommandService, CommandStatus

router = APIGatewayRouter()
TAG = ["commands"]
ChargePointId = Annotated[str, Path(description="the OCPP charge point id")]
IdTag = Annotated[str, Field(min_length=1, max_length=20)]
#: Longest inline wait: well under API Gateway's 29 s integration timeout.
MAX_WAIT_SECONDS = 25


class CommandOut(ApiModel):
    id: str
    charge_point_id: str
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


# --- request bodies per action (OCPP 1.6 field names) -----------------------------------------


class RemoteStartTransaction(ApiModel):
    connector_id: int | None = Field(default=None, gt=0)
    id_tag: IdTag
    charging_profile: dict[str, Any] | None = Field(
        default=None, description="an OCPP ChargingProfile (purpose TxProfile)"
    )


class RemoteStopTransaction(ApiModel):
    transaction_id: int


class Reset(ApiModel):
    type: Literal["Hard", "Soft"]


class UnlockConnector(ApiModel):
    connector_id: int = Field(gt=0)


class ChangeAvailability(ApiModel):
    connector_id: int = Field(ge=0, description="0 = the whole charge point")
    type: Literal["Inoperative", "Operative"]


class ChangeConfiguration(ApiModel):
    key: str = Field(min_length=1, max_length=50)
    value: str = Field(max_length=500)


class GetConfiguration(ApiModel):
    key: list[Annotated[str, Field(max_length=50)]] | None = Field(
        default=None, description="all keys if omitted"
    )


class ClearCache(ApiModel):
    pass


class DataTransfer(ApiModel):
    vendor_id: str = Field(min_length=1, max_length=255)
    message_id: str | None = Field(default=None, max_length=50)
    data: str | None = None


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
}


def _service() -> CommandService:
    from csms.app import wiring

    return wiring.commands()


def _out(command: Command) -> CommandOut:
    return CommandOut.model_validate(command, from_attributes=True)


def _wait(service: CommandService, tenant_id: str, command: Command, seconds: float) -> Command:
    deadline = time.monotonic() + seconds
    while not command.status.final and time.monotonic() < deadline:
        time.sleep(0.1)
        command = service.get(tenant_id, command.id)
    return command


def _submit(charge_point_id: str, action: str, body: ApiModel, wait: float) -> Response[CommandOut]:
    from csms.app import wiring

    principal = caller(router, Role.OPERATOR)
    charger = wiring.fleet().get(principal.tenant_id, charge_point_id).charge_point
    if charger.decommissioned_at is not None:
        raise Conflict(f"charge point {charge_point_id!r} is decommissioned")
    service = _service()
    payload = body.model_dump(by_alias=True, exclude_none=True, mode="json")
    command = service.submit(principal.tenant_id, charge_point_id, action, payload, principal.subject or None)
    if wait > 0:
        command = _wait(service, principal.tenant_id, command, wait)
    return Response(
        status_code=200 if command.status.final else 202,
        content_type="application/json",
        body=_out(command),
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
        chargePointId: ChargePointId,
        body: Annotated[model, Body()],  # type: ignore[valid-type]  # a real class at run time
        wait: Wait = 0,
    ) -> Response[CommandOut]:
        return _submit(chargePointId, action, body, wait)

    send.__name__ = f"send_{action}"
    router.post(
        f"/charge-points/<chargePointId>/commands/{action}",
        summary=f"Send {action}",
        description=f"Queue an OCPP 1.6 {action} for the charger; 202 with the command, or 200 with its "
        "outcome if it arrives within `wait` seconds. Operators and admins.",
        tags=TAG,
        operation_id=f"send{action}",
        responses={
            202: {"description": "queued or sent; poll the command"},
            200: {"description": "finished"},
        },
    )(send)


for _action, _model in ACTIONS.items():
    _register(_action, _model)


@router.get("/commands/<commandId>", summary="A command and its outcome", tags=TAG)
def get_command(commandId: Annotated[str, Path()], wait: Wait = 0) -> CommandOut:
    principal = caller(router, Role.OPERATOR)
    service = _service()
    command = service.get(principal.tenant_id, commandId)
    if wait > 0:
        command = _wait(service, principal.tenant_id, command, wait)
    return _out(command)


@router.get("/charge-points/<chargePointId>/commands", summary="A charger's commands, newest first", tags=TAG)
def list_commands(
    chargePointId: ChargePointId,
    limit: Limit = 50,
    offset: Offset = 0,
    status: Annotated[CommandStatus | None, Query()] = None,
) -> Page[CommandOut]:
    from csms.app import wiring

    principal = caller(router, Role.OPERATOR)
    wiring.fleet().get(principal.tenant_id, chargePointId)  # 404 for other tenants
    commands, total = _service().search(principal.tenant_id, chargePointId, status, limit, offset)
    return Page[CommandOut](items=[_out(c) for c in commands], total=total, limit=limit, offset=offset)


class ConfigurationEntryOut(ApiModel):
    key: str
    value: str | None
    readonly: bool | None
    known: bool = Field(description="false for keys the charger reported as unknown")
    updated_at: UtcDatetime


@router.get(
    "/charge-points/<chargePointId>/configuration",
    summary="The charger's known configuration (from GetConfiguration and ChangeConfiguration)",
    tags=["charge points"],
)
def configuration(chargePointId: ChargePointId) -> list[ConfigurationEntryOut]:
    from csms.app import wiring

    principal = caller(router)
    wiring.fleet().get(principal.tenant_id, chargePointId)
    entries = wiring.configuration().entries(principal.tenant_id, chargePointId)
    return [ConfigurationEntryOut.model_validate(e, from_attributes=True) for e in entries]


__all__ = ["ACTIONS", "datetime", "router"]
