"""Charging stations: provision, list with live state, get, update, decommission; their EVSEs
and connectors, and the connectors' status history. Either protocol: a station shows the
protocol it is pinned to (``ocppVersion``) and the one its live connection speaks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field, StrictBool

from csms.api.auth import caller
from csms.api.common import (
    MAX_INT,
    ApiModel,
    From,
    Limit,
    Offset,
    Page,
    SecurityProfile,
    StationId,
    To,
    UtcDatetime,
    error_responses,
)
from csms.api.context import services
from csms.constants import OCPP16, OCPP201
from csms.domain.connections import ConnectionRecord
from csms.domain.locations import LOCATION_ID_PATTERN
from csms.domain.stations import (
    CHARGE_POINT_ID_PATTERN,
    AvailabilityState,
    ChargePointQuery,
    ChargingState,
    ConnectorView,
    EvseView,
    RegistrationStatus,
    StationSummary,
    StatusQuery,
)
from csms.domain.tenancy import Role
from csms.services.fleet import ChargePointView, FleetService

router = APIGatewayRouter()
TAG = ["stations"]

#: What connectorId means, wherever the API shows one.
CONNECTOR_ID = "the connector within its EVSE (1.6 connector N is EVSE N, connector 1)"
OcppVersion = Literal["ocpp1.6", "ocpp2.0.1"]
_PROFILE = (
    "OCPP security profile: 1 or 2 (HTTP Basic auth with the station's password; 2 over TLS, as on AWS, "
    "the default when a password is given), or 0: the station connects without a password, which must "
    "be asked for explicitly, for the station or as its tenant's default"
)
_PIN = (
    f"the only protocol the station may connect with ({OCPP16} or {OCPP201}); null: it may use "
    "either, and gets 2.0.1 when it offers both"
)


class StationCreate(ApiModel):
    id: str = Field(
        pattern=CHARGE_POINT_ID_PATTERN.pattern,
        description="the station's identity: the last segment of the URL it connects to",
    )
    password: str | None = Field(
        default=None, min_length=16, max_length=40, description="Basic auth password (16-40 characters)"
    )
    generate_password: StrictBool = Field(default=False, description="generate a password, returned once")
    location_id: str | None = Field(default=None, pattern=LOCATION_ID_PATTERN.pattern)
    ocpp_version: OcppVersion | None = Field(default=None, description=_PIN)
    security_profile: SecurityProfile | None = Field(
        default=None,
        description=f"{_PROFILE}. Absent: the tenant's defaultSecurityProfile (GET /settings): with a "
        "password its 1 or 2 (2 if the default is 0), without one its 0 (else 422)",
    )


class StationUpdate(ApiModel):
    """Only the fields present change; an explicit null clears locationId or ocppVersion."""

    password: str | None = Field(
        default=None, min_length=16, max_length=40, description="a new password; closes the live connection"
    )
    clear_password: StrictBool = Field(default=False, description="needs securityProfile 0")
    security_profile: SecurityProfile | None = Field(
        default=None, description=f"{_PROFILE}; 0 clears the password; a change closes the live connection"
    )
    registration_status: RegistrationStatus | None = None
    location_id: str | None = Field(
        default=None, pattern=LOCATION_ID_PATTERN.pattern, description="null unassigns the location"
    )
    ocpp_version: OcppVersion | None = Field(default=None, description=f"{_PIN}; null unpins")


class Connector(ApiModel):
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


class Evse(ApiModel):
    evse_id: int = Field(description="the EVSE (0: the station itself; 1.6 connector N is EVSE N)")
    connectors: list[Connector] = Field(description="by connector id")


class StationOut(ApiModel):
    id: str
    registration_status: RegistrationStatus
    has_password: bool
    security_profile: SecurityProfile = Field(description=_PROFILE)
    security_profile_source: Literal["station", "tenant"] = Field(
        description="where the profile comes from: station (asked for, or implied by the password given) "
        "or tenant (the tenant's defaultSecurityProfile when the station was provisioned)"
    )
    ocpp_version: OcppVersion | None = Field(description=_PIN)
    protocol: str | None = Field(description="the protocol of the live connection; null when offline")
    last_protocol: str | None = Field(description="the protocol of the latest connection")
    vendor: str | None
    model: str | None
    serial_number: str | None
    charge_box_serial_number: str | None = Field(description="1.6 only (chargeBoxSerialNumber)")
    firmware_version: str | None
    iccid: str | None
    imsi: str | None
    meter_type: str | None = Field(description="1.6 only (meterType)")
    meter_serial_number: str | None = Field(description="1.6 only (meterSerialNumber)")
    last_boot_at: UtcDatetime | None
    boot_reason: str | None = Field(description="why it last booted (2.0.1 BootReason; null for 1.6)")
    location_id: str | None
    created_at: UtcDatetime
    decommissioned_at: UtcDatetime | None
    online: bool
    connected_at: UtcDatetime | None
    last_seen: UtcDatetime | None
    connection_age_seconds: int | None


class ConnectorSummary(ApiModel):
    evse_id: int = Field(description="the EVSE (0: the station itself)")
    connector_id: int = Field(description=CONNECTOR_ID)
    status: str = Field(description="as reported (a 1.6 ChargePointStatus or a 2.0.1 ConnectorStatus)")
    state: AvailabilityState = Field(description="normalized (2.0.1 ConnectorStatus vocabulary)")
    charging_state: ChargingState | None = Field(description="normalized; null when unknown")


class StationListItem(StationOut):
    """A station as a listing shows it: its row, its live connection and a summary of what
    happens on it (what GET /stations/{id}/evses and the meter values tell in full)."""

    connectors: list[ConnectorSummary] = Field(
        description="every connector the station reported a status for, by EVSE and connector id"
    )
    running_transactions: int = Field(description="its transactions that have not ended")
    power_w: float | None = Field(
        description="active import power now, in W: the latest Power.Active.Import reading of each EVSE "
        "with a running transaction (the total, else its phases summed; kW readings converted), summed; "
        "null when nothing runs or no running transaction reported power"
    )
    power_at: UtcDatetime | None = Field(description="when the newest of those readings was taken")


class StationDetail(StationOut):
    evses: list[Evse] = Field(description="the EVSEs the station reported a status for, by id")


class StationCreated(ApiModel):
    station: StationOut
    password: str | None = Field(
        description="the generated password: shown this once, stored only hashed; null on a replay of the "
        "same Idempotency-Key (header Csms-Redacted-Fields: password)"
    )


class StatusHistoryEntry(ApiModel):
    evse_id: int
    connector_id: int = Field(description=CONNECTOR_ID)
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
    station_id: str
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
        "security_profile": cp.security_profile,
        "security_profile_source": cp.security_profile_source,
        "ocpp_version": cp.ocpp_version,
        "protocol": live.protocol if live else None,
        "last_protocol": cp.last_protocol,
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
        "boot_reason": cp.boot_reason,
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


def _evse(evse: EvseView) -> Evse:
    return Evse(evse_id=evse.evse_id, connectors=[_connector(c) for c in evse.connectors])


def _detail(view: ChargePointView, now: datetime) -> StationDetail:
    return StationDetail.model_validate({**_out(view, now), "evses": [_evse(e) for e in view.evses]})


def _list_item(view: ChargePointView, now: datetime) -> StationListItem:
    summary = view.summary or StationSummary()
    return StationListItem.model_validate(
        {
            **_out(view, now),
            "connectors": [
                ConnectorSummary(
                    evse_id=c.evse_id,
                    connector_id=c.connector_id,
                    status=c.status,
                    state=c.state,
                    charging_state=c.charging_state,
                )
                for c in summary.connectors
            ],
            "running_transactions": summary.running_transactions,
            "power_w": summary.power_w,
            "power_at": summary.power_at,
        }
    )


def _fleet() -> tuple[FleetService, datetime]:
    found = services(router)
    return found.fleet, found.clock.now()


@router.post(
    "/stations",
    summary="Provision a charging station",
    tags=TAG,
    responses={201: {"description": "created"}, **error_responses(401, 403, 409, 422)},
)
def provision(body: Annotated[StationCreate, Body()]) -> Response[StationCreated]:
    scope = caller(router, Role.ADMIN).scope
    fleet, now = _fleet()
    added = fleet.provision(
        scope,
        body.id,
        password=body.password,
        generate_password=body.generate_password,
        location_id=body.location_id,
        ocpp_version=body.ocpp_version,
        security_profile=body.security_profile,
    )
    created = StationCreated(
        station=StationOut.model_validate(_out(ChargePointView(added.charge_point, None), now)),
        password=added.generated_password,
    )
    if added.generated_password is not None:
        # Shown this once: an Idempotency-Key replay answers it as null (csms.api.idempotency).
        router.append_context(secret_fields=("password",))
    return Response(
        status_code=201,
        content_type="application/json",
        body=created,
        headers={"Location": f"/api/v1/stations/{body.id}"},
    )


@router.get(
    "/stations",
    summary="List charging stations with their live connection state, connectors and power",
    description="Each item carries a summary of the station (its connectors' statuses, running "
    "transactions and current power), computed for the page's stations only: a page costs the same "
    "in a tenant of ten stations or of ten thousand. `online` needs the tenant's connected set.",
    tags=TAG,
    responses={200: {"description": "OK"}, **error_responses(401, 422)},
)
def list_stations(
    limit: Limit = 50,
    offset: Offset = 0,
    online: Annotated[bool | None, Query(description="only connected (true) or disconnected (false)")] = None,
    registration_status: Annotated[RegistrationStatus | None, Query(alias="registrationStatus")] = None,
    ocpp_version: Annotated[
        OcppVersion | None, Query(alias="ocppVersion", description="only stations pinned to this protocol")
    ] = None,
    protocol: Annotated[
        OcppVersion | None,
        Query(
            description="only stations that speak this protocol: that of their latest connection, else "
            "the one they are pinned to (the protocol a listing shows)"
        ),
    ] = None,
    location_id: Annotated[str | None, Query(alias="locationId", pattern=LOCATION_ID_PATTERN.pattern)] = None,
    q: Annotated[
        str | None, Query(description="station id prefix", max_length=48, pattern=r"^[^\x00]*$")
    ] = None,
    include_decommissioned: Annotated[bool, Query(alias="includeDecommissioned")] = False,
    sort: Annotated[Literal["id", "createdAt", "lastBootAt"], Query()] = "id",
    order: Annotated[Literal["asc", "desc"], Query()] = "asc",
) -> Page[StationListItem]:
    scope = caller(router).scope
    fleet, now = _fleet()
    views, total = fleet.search(
        scope,
        ChargePointQuery(
            registration_status=registration_status,
            ocpp_version=ocpp_version,
            protocol=protocol,
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
    items = [_list_item(v, now) for v in views]
    return Page[StationListItem](items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/stations/<stationId>",
    summary="Get a charging station with its EVSEs and connectors",
    tags=TAG,
    responses={200: {"description": "OK"}, **error_responses(401, 404, 422)},
)
def get_station(stationId: StationId) -> StationDetail:
    scope = caller(router).scope
    fleet, now = _fleet()
    return _detail(fleet.get(scope, stationId), now)


@router.patch(
    "/stations/<stationId>",
    summary="Update a charging station",
    tags=TAG,
    responses={200: {"description": "OK"}, **error_responses(401, 403, 404, 422)},
)
def update_station(stationId: StationId, body: Annotated[StationUpdate, Body()]) -> StationDetail:
    scope = caller(router, Role.ADMIN).scope
    fleet, now = _fleet()
    view = fleet.update(
        scope,
        stationId,
        password=body.password,
        clear_password=body.clear_password,
        registration_status=body.registration_status,
        location_id=body.location_id,
        set_location="location_id" in body.model_fields_set,
        ocpp_version=body.ocpp_version,
        set_ocpp_version="ocpp_version" in body.model_fields_set,
        security_profile=body.security_profile,
    )
    return _detail(view, now)


@router.delete(
    "/stations/<stationId>",
    summary="Decommission a charging station (refuses its connections, keeps its history)",
    tags=TAG,
    responses={204: {"description": "decommissioned", "content": {}}, **error_responses(401, 403, 404, 422)},
)
def decommission(stationId: StationId) -> Response[None]:
    scope = caller(router, Role.ADMIN).scope
    fleet, _ = _fleet()
    fleet.decommission(scope, stationId)
    return Response(status_code=204)


@router.get(
    "/stations/<stationId>/evses",
    summary="The station's EVSEs with the current status of each connector",
    tags=TAG,
    responses={200: {"description": "OK"}, **error_responses(401, 404, 422)},
)
def list_evses(stationId: StationId) -> list[Evse]:
    scope = caller(router).scope
    fleet, _ = _fleet()
    return [_evse(e) for e in fleet.evses(scope, stationId)]


@router.get(
    "/stations/<stationId>/status-history",
    summary="Status history of the station's connectors, newest first",
    description="`evseId` narrows it to one EVSE, `evseId` with `connectorId` to one connector. "
    "`from`/`to` bound the station's timestamp of each report.",
    tags=TAG,
    responses={200: {"description": "OK"}, **error_responses(401, 404, 422)},
)
def status_history(
    stationId: StationId,
    evse_id: Annotated[int | None, Query(alias="evseId", ge=0, le=MAX_INT)] = None,
    connector_id: Annotated[
        int | None, Query(alias="connectorId", ge=0, le=MAX_INT, description="needs evseId")
    ] = None,
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
    if connector_id is not None and evse_id is None:
        raise RequestValidationError(
            [{"loc": ("query", "connectorId"), "msg": "needs evseId", "type": "value_error"}]
        )
    fleet, _ = _fleet()
    entries, total = fleet.status_history(
        scope,
        stationId,
        StatusQuery(
            evse_id=evse_id, connector_id=connector_id, start=start, end=end, limit=limit, offset=offset
        ),
    )
    items = [StatusHistoryEntry.model_validate(e, from_attributes=True) for e in entries]
    return Page[StatusHistoryEntry](items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/connections",
    summary="The tenant's connected stations",
    tags=TAG,
    responses={200: {"description": "OK"}, **error_responses(401, 422)},
)
def connections() -> list[Connection]:
    scope = caller(router).scope
    fleet, now = _fleet()
    return [
        Connection(
            station_id=r.charge_point_id,
            protocol=r.protocol,
            connected_at=r.connected_at,
            last_seen=r.last_seen,
            connection_age_seconds=_age(r, now),
        )
        for r in fleet.connected(scope)
    ]
