"""Charge points: provision, list with live state, get, update, decommission; connectors."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field, StrictBool

from csms.api.auth import caller
from csms.api.common import MAX_INT, ApiModel, From, Limit, Offset, Page, To, UtcDatetime, error_responses
from csms.api.context import services
from csms.domain.connections import ConnectionRecord
from csms.domain.locations import LOCATION_ID_PATTERN
from csms.domain.stations import (
    CHARGE_POINT_ID_PATTERN,
    AvailabilityState,
    ChargePointQuery,
    ChargingState,
    ConnectorView,
    RegistrationStatus,
    StatusQuery,
)
from csms.domain.tenancy import Role
from csms.services.fleet import ChargePointView, FleetService

router = APIGatewayRouter()
TAG = ["charge points"]

ChargePointId = Annotated[str, Path(description="the OCPP charge point id (last segment of its URL)")]


class ChargePointCreate(ApiModel):
    id: str = Field(pattern=CHARGE_POINT_ID_PATTERN.pattern, description="OCPP charge point id")
    password: str | None = Field(default=None, min_length=1, max_length=40, description="Basic auth password")
    generate_password: StrictBool = Field(default=False, description="generate a password, returned once")
    location_id: str | None = Field(default=None, pattern=LOCATION_ID_PATTERN.pattern)


class ChargePointUpdate(ApiModel):
    password: str | None = Field(default=None, min_length=1, max_length=40)
    clear_password: StrictBool = False
    registration_status: RegistrationStatus | None = None
    location_id: str | None = Field(
        default=None, pattern=LOCATION_ID_PATTERN.pattern, description="null unassigns the location"
    )


#: What connectorId means, wherever the API shows one.
CONNECTOR_ID = "the connector within its EVSE (1.6 connector N is EVSE N, connector 1)"


class Connector(ApiModel):
    evse_id: int = Field(description="the EVSE (0: the station itself)")
    connector_id: int = Field(description=CONNECTOR_ID)
    status: str = Field(description="as reported (a 1.6 ChargePointStatus or a 2.0.1 ConnectorStatus)")
    state: AvailabilityState = Field(description="normalized (2.0.1 ConnectorStatus vocabulary)")
    charging_state: ChargingState | None = Field(
        description="normalized: Charging, EVConnected, SuspendedEV, SuspendedEVSE, Idle; null when unknown"
    )
    error_code: str | None = Field(description="1.6 ChargePointErrorCode; null for 2.0.1")
    info: str | None
    vendor_id: str | None
    vendor_error_code: str | None
    since: UtcDatetime = Field(description="timestamp of the status report")
    updated_at: UtcDatetime


class ChargePointOut(ApiModel):
    id: str
    registration_status: RegistrationStatus
    has_password: bool
    vendor: str | None
    model: str | None
    serial_number: str | None
    charge_box_serial_number: str | None
    firmware_version: str | None
    iccid: str | None
    imsi: str | None
    meter_type: str | None
    meter_serial_number: str | None
    last_boot_at: UtcDatetime | None
    location_id: str | None
    created_at: UtcDatetime
    decommissioned_at: UtcDatetime | None
    online: bool
    connected_at: UtcDatetime | None
    last_seen: UtcDatetime | None
    connection_age_seconds: int | None


class ChargePointDetail(ChargePointOut):
    connectors: list[Connector]


class ChargePointCreated(ApiModel):
    charge_point: ChargePointOut
    password: str | None = Field(description="the generated password: shown this once, stored only hashed")


class StatusHistoryEntry(ApiModel):
    evse_id: int
    connector_id: int
    status: str
    state: AvailabilityState
    charging_state: ChargingState | None
    error_code: str | None
    info: str | None
    vendor_id: str | None
    vendor_error_code: str | None
    timestamp: UtcDatetime
    received_at: UtcDatetime


class Connection(ApiModel):
    charge_point_id: str
    protocol: str
    connected_at: UtcDatetime
    last_seen: UtcDatetime | None
    connection_age_seconds: int


def _age(record: ConnectionRecord, now: datetime) -> int:
    return max(0, int((now - record.connected_at).total_seconds()))


def _out(view: ChargePointView, now: datetime) -> dict[str, object]:
    cp, live = view.charge_point, view.connection
    return {
        "id": cp.id,
        "registration_status": cp.registration_status,
        "has_password": cp.password_hash is not None,
        "vendor": cp.vendor,
        "model": cp.model,
        "serial_number": cp.serial_number,
        "charge_box_serial_number": cp.charge_box_serial_number,
        "firmware_version": cp.firmware_version,
        "iccid": cp.iccid,
        "imsi": cp.imsi,
        "meter_type": cp.meter_type,
        "meter_serial_number": cp.meter_serial_number,
        "last_boot_at": cp.last_boot_at,
        "location_id": cp.location_id,
        "created_at": cp.created_at,
        "decommissioned_at": cp.decommissioned_at,
        "online": live is not None,
        "connected_at": live.connected_at if live else None,
        "last_seen": live.last_seen if live else None,
        "connection_age_seconds": _age(live, now) if live else None,
    }


def _connector(state: ConnectorView) -> Connector:
    return Connector.model_validate(state, from_attributes=True)


def _fleet() -> tuple[FleetService, datetime]:
    found = services(router)
    return found.fleet, found.clock.now()


@router.post(
    "/charge-points",
    summary="Provision a charge point",
    tags=TAG,
    responses={201: {"description": "created"}, **error_responses(401, 403, 409, 422)},
)
def provision(body: Annotated[ChargePointCreate, Body()]) -> Response[ChargePointCreated]:
    scope = caller(router, Role.ADMIN).scope
    fleet, now = _fleet()
    added = fleet.provision(
        scope,
        body.id,
        password=body.password,
        generate_password=body.generate_password,
        location_id=body.location_id,
    )
    created = ChargePointCreated(
        charge_point=ChargePointOut.model_validate(_out(ChargePointView(added.charge_point, None), now)),
        password=added.generated_password,
    )
    return Response(
        status_code=201,
        content_type="application/json",
        body=created,
        headers={"Location": f"/api/v1/charge-points/{body.id}"},
    )


@router.get(
    "/charge-points",
    summary="List charge points with their live connection state",
    tags=TAG,
    responses={200: {"description": "OK"}, **error_responses(401, 422)},
)
def list_charge_points(
    limit: Limit = 50,
    offset: Offset = 0,
    online: Annotated[bool | None, Query(description="only connected (true) or disconnected (false)")] = None,
    registration_status: Annotated[RegistrationStatus | None, Query(alias="registrationStatus")] = None,
    location_id: Annotated[str | None, Query(alias="locationId", pattern=LOCATION_ID_PATTERN.pattern)] = None,
    q: Annotated[
        str | None, Query(description="charge point id prefix", max_length=48, pattern=r"^[^\x00]*$")
    ] = None,
    include_decommissioned: Annotated[bool, Query(alias="includeDecommissioned")] = False,
    sort: Annotated[Literal["id", "createdAt", "lastBootAt"], Query()] = "id",
    order: Annotated[Literal["asc", "desc"], Query()] = "asc",
) -> Page[ChargePointOut]:
    scope = caller(router).scope
    fleet, now = _fleet()
    views, total = fleet.search(
        scope,
        ChargePointQuery(
            registration_status=registration_status,
            location_id=location_id,
            id_prefix=q,
            include_decommissioned=include_decommissioned,
            sort=sort,
            descending=order == "desc",
            limit=limit,
            offset=offset,
        ),
        online,
    )
    items = [ChargePointOut.model_validate(_out(v, now)) for v in views]
    return Page[ChargePointOut](items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/charge-points/<chargePointId>",
    summary="Get a charge point with its connectors",
    tags=TAG,
    responses={200: {"description": "OK"}, **error_responses(401, 404, 422)},
)
def get_charge_point(chargePointId: ChargePointId) -> ChargePointDetail:
    scope = caller(router).scope
    fleet, now = _fleet()
    view = fleet.get(scope, chargePointId)
    return ChargePointDetail.model_validate(
        {**_out(view, now), "connectors": [_connector(c) for c in view.connectors]}
    )


@router.patch(
    "/charge-points/<chargePointId>",
    summary="Update a charge point",
    tags=TAG,
    responses={200: {"description": "OK"}, **error_responses(401, 403, 404, 422)},
)
def update_charge_point(
    chargePointId: ChargePointId,
    body: Annotated[ChargePointUpdate, Body()],
) -> ChargePointDetail:
    scope = caller(router, Role.ADMIN).scope
    fleet, now = _fleet()
    view = fleet.update(
        scope,
        chargePointId,
        password=body.password,
        clear_password=body.clear_password,
        registration_status=body.registration_status,
        location_id=body.location_id,
        set_location="location_id" in body.model_fields_set,
    )
    return ChargePointDetail.model_validate(
        {**_out(view, now), "connectors": [_connector(c) for c in view.connectors]}
    )


@router.delete(
    "/charge-points/<chargePointId>",
    summary="Decommission a charge point (refuses its connections, keeps its history)",
    tags=TAG,
    responses={204: {"description": "decommissioned", "content": {}}, **error_responses(401, 403, 404, 422)},
)
def decommission(chargePointId: ChargePointId) -> Response[None]:
    scope = caller(router, Role.ADMIN).scope
    fleet, _ = _fleet()
    fleet.decommission(scope, chargePointId)
    return Response(status_code=204)


@router.get(
    "/charge-points/<chargePointId>/connectors",
    summary="Current status of each connector",
    tags=TAG,
    responses={200: {"description": "OK"}, **error_responses(401, 404, 422)},
)
def list_connectors(chargePointId: ChargePointId) -> list[Connector]:
    scope = caller(router).scope
    fleet, _ = _fleet()
    return [_connector(c) for c in fleet.connectors(scope, chargePointId)]


@router.get(
    "/charge-points/<chargePointId>/connectors/<connectorId>/status-history",
    summary="Status history of a connector, newest first",
    tags=TAG,
    responses={200: {"description": "OK"}, **error_responses(401, 404, 422)},
)
def status_history(
    chargePointId: ChargePointId,
    connectorId: Annotated[int, Path(ge=0, le=MAX_INT)],
    limit: Limit = 50,
    offset: Offset = 0,
    start: From = None,
    end: To = None,
) -> Page[StatusHistoryEntry]:
    scope = caller(router).scope
    if start is not None and end is not None and start >= end:
        raise RequestValidationError(
            [{"loc": ("query", "from"), "msg": "must be before to", "type": "value_error"}]
        )
    fleet, _ = _fleet()
    entries, total = fleet.status_history(
        scope,
        chargePointId,
        StatusQuery(evse_id=connectorId, start=start, end=end, limit=limit, offset=offset),
    )
    items = [StatusHistoryEntry.model_validate(e, from_attributes=True) for e in entries]
    return Page[StatusHistoryEntry](items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/connections",
    summary="The tenant's connected charge points",
    tags=TAG,
    responses={200: {"description": "OK"}, **error_responses(401, 422)},
)
def connections() -> list[Connection]:
    scope = caller(router).scope
    fleet, now = _fleet()
    return [
        Connection(
            charge_point_id=r.charge_point_id,
            protocol=r.protocol,
            connected_at=r.connected_at,
            last_seen=r.last_seen,
            connection_age_seconds=_age(r, now),
        )
        for r in fleet.connected(scope)
    ]
