"""What commands and notifications left on a charger: firmware and diagnostics timelines, the
local authorization list versions, reservations and charging profiles. Read-only; viewers too.
"""

# No `from __future__ import annotations`: Powertools reads the handlers' annotations.

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from csms.api.auth import caller
from csms.api.common import MAX_INT, ApiModel, Limit, Offset, Page, UtcDatetime, error_responses
from csms.api.context import services
from csms.domain.firmware import EventKind
from csms.domain.reservations import Reservation, ReservationStatus
from csms.domain.smart_charging import ChargingProfile, ProfileQuery, ProfileStatus

router = APIGatewayRouter()
TAG = ["charger state"]
ChargePointId = Annotated[str, Path(description="the OCPP charge point id")]
#: Every route here: unknown (or another tenant's) charger or reservation, bad parameters.
ERRORS = error_responses(401, 404, 422)


# --- FirmwareManagement ------------------------------------------------------------------------


class StatusEventOut(ApiModel):
    status: str = Field(description="as the charger reported it (OCPP FirmwareStatus / DiagnosticsStatus)")
    received_at: UtcDatetime


def _timeline(charge_point_id: str, kind: EventKind, limit: int, offset: int) -> Page[StatusEventOut]:
    scope = caller(router).scope
    events, total = services(router).firmware.timeline(scope, charge_point_id, kind, limit, offset)
    items = [StatusEventOut(status=e.status, received_at=e.received_at) for e in events]
    return Page[StatusEventOut](items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/charge-points/<chargePointId>/firmware-status",
    summary="The charger's firmware update progress (FirmwareStatusNotification), newest first",
    tags=TAG,
    responses={200: {"description": "found"}, **ERRORS},
)
def firmware_status(
    chargePointId: ChargePointId, limit: Limit = 50, offset: Offset = 0
) -> Page[StatusEventOut]:
    return _timeline(chargePointId, EventKind.FIRMWARE, limit, offset)


@router.get(
    "/charge-points/<chargePointId>/diagnostics-status",
    summary="The charger's diagnostics upload progress (DiagnosticsStatusNotification), newest first",
    tags=TAG,
    responses={200: {"description": "found"}, **ERRORS},
)
def diagnostics_status(
    chargePointId: ChargePointId, limit: Limit = 50, offset: Offset = 0
) -> Page[StatusEventOut]:
    return _timeline(chargePointId, EventKind.DIAGNOSTICS, limit, offset)


# --- LocalAuthListManagement -------------------------------------------------------------------


class LocalListOut(ApiModel):
    charge_point_id: str
    sent_version: int | None = Field(description="the last list version the charger accepted from us")
    sent_at: UtcDatetime | None = Field(description="when it accepted it")
    reported_version: int | None = Field(
        description="the version the charger reported (GetLocalListVersion); 0 = empty, -1 = disabled"
    )
    reported_at: UtcDatetime | None
    in_sync: bool | None = Field(description="both versions known and equal; null if either is unknown")


@router.get(
    "/charge-points/<chargePointId>/local-list",
    summary="The charger's local authorization list versions (sent and reported)",
    tags=TAG,
    responses={200: {"description": "found"}, **ERRORS},
)
def local_list(chargePointId: ChargePointId) -> LocalListOut:
    scope = caller(router).scope
    state = services(router).local_lists.state(scope, chargePointId)
    known = state.sent_version is not None and state.reported_version is not None
    return LocalListOut(
        charge_point_id=chargePointId,
        sent_version=state.sent_version,
        sent_at=state.sent_at,
        reported_version=state.reported_version,
        reported_at=state.reported_at,
        in_sync=state.sent_version == state.reported_version if known else None,
    )


# --- Reservation ---------------------------------------------------------------------------------


class ReservationOut(ApiModel):
    reservation_id: int = Field(description="the OCPP reservationId")
    charge_point_id: str
    connector_id: int
    id_tag: str
    parent_id_tag: str | None
    expiry_date: UtcDatetime
    status: ReservationStatus
    transaction_id: int | None = Field(description="the transaction that used it")
    command_id: str | None = Field(description="the ReserveNow command")
    created_at: UtcDatetime
    updated_at: UtcDatetime


def _reservation(r: Reservation) -> ReservationOut:
    return ReservationOut(
        reservation_id=r.id,
        charge_point_id=r.charge_point_id,
        connector_id=r.connector_id,
        id_tag=r.id_tag,
        parent_id_tag=r.parent_id_tag,
        expiry_date=r.expiry_date,
        status=r.status,
        transaction_id=r.transaction_id,
        command_id=r.command_id,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


@router.get(
    "/charge-points/<chargePointId>/reservations",
    summary="A charger's reservations, newest first",
    tags=TAG,
    responses={200: {"description": "found"}, **ERRORS},
)
def list_reservations(
    chargePointId: ChargePointId,
    limit: Limit = 50,
    offset: Offset = 0,
    status: Annotated[ReservationStatus | None, Query()] = None,
) -> Page[ReservationOut]:
    scope = caller(router).scope
    found, total = services(router).reservations.search(scope, chargePointId, status, limit, offset)
    return Page[ReservationOut](
        items=[_reservation(r) for r in found], total=total, limit=limit, offset=offset
    )


@router.get(
    "/reservations/<reservationId>",
    summary="A reservation",
    tags=TAG,
    responses={200: {"description": "found"}, **ERRORS},
)
def get_reservation(
    reservationId: Annotated[int, Path(ge=1, le=MAX_INT, description="the OCPP reservationId")],
) -> ReservationOut:
    scope = caller(router).scope
    return _reservation(services(router).reservations.get(scope, reservationId))


# --- SmartCharging -------------------------------------------------------------------------------


class ChargingProfileOut(ApiModel):
    charging_profile_id: int
    connector_id: int = Field(description="0 = the whole charge point")
    charging_profile_purpose: str
    stack_level: int
    charging_profile_kind: str
    recurrency_kind: str | None
    valid_from: UtcDatetime | None
    valid_to: UtcDatetime | None
    transaction_id: int | None
    charging_schedule: dict[str, Any] = Field(description="the OCPP ChargingSchedule as sent")
    status: ProfileStatus
    in_force: bool = Field(description="installed and within its validity period now")
    command_id: str | None = Field(description="the SetChargingProfile command")
    created_at: UtcDatetime
    updated_at: UtcDatetime


def _profile(p: ChargingProfile, now: datetime) -> ChargingProfileOut:
    s = p.spec
    return ChargingProfileOut(
        charging_profile_id=s.charging_profile_id,
        connector_id=s.connector_id,
        charging_profile_purpose=s.purpose,
        stack_level=s.stack_level,
        charging_profile_kind=s.kind,
        recurrency_kind=s.recurrency_kind,
        valid_from=s.valid_from,
        valid_to=s.valid_to,
        transaction_id=s.transaction_id,
        charging_schedule=s.schedule,
        status=p.status,
        in_force=p.in_force(now),
        command_id=p.command_id,
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


@router.get(
    "/charge-points/<chargePointId>/charging-profiles",
    summary="A charger's charging profiles (default: installed) by connector, purpose, stack level",
    tags=TAG,
    responses={200: {"description": "found"}, **ERRORS},
)
def list_charging_profiles(
    chargePointId: ChargePointId,
    limit: Limit = 50,
    offset: Offset = 0,
    status: Annotated[
        ProfileStatus | None, Query(description="only profiles in this status (default: installed)")
    ] = ProfileStatus.INSTALLED,
    any_status: Annotated[
        bool, Query(alias="anyStatus", description="every status (ignores `status`)")
    ] = False,
    connector_id: Annotated[int | None, Query(alias="connectorId", ge=0, le=MAX_INT)] = None,
) -> Page[ChargingProfileOut]:
    scope = caller(router).scope
    query = ProfileQuery(
        status=None if any_status else status, connector_id=connector_id, limit=limit, offset=offset
    )
    found, total = services(router).smart_charging.search(scope, chargePointId, query)
    now = services(router).clock.now()
    items = [_profile(p, now) for p in found]
    return Page[ChargingProfileOut](items=items, total=total, limit=limit, offset=offset)
