"""A charger's reservations, and one reservation by its OCPP reservationId. Read-only;
viewers too (ReserveNow and CancelReservation are commands)."""

# No `from __future__ import annotations`: Powertools reads the handlers' annotations.

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from csms.api.auth import caller
from csms.api.common import (
    MAX_INT,
    ApiModel,
    Limit,
    Offset,
    Page,
    PresentedIdToken,
    StationId,
    UtcDatetime,
    error_responses,
    presented,
)
from csms.api.context import services
from csms.domain.reservations import Reservation, ReservationStatus

router = APIGatewayRouter()
TAG = ["station state"]
#: Every route here: unknown (or another tenant's) charger or reservation, bad parameters.
ERRORS = error_responses(401, 404, 422)


class ReservationOut(ApiModel):
    reservation_id: int = Field(description="the OCPP reservationId")
    station_id: str
    evse_id: int | None
    id_token: PresentedIdToken = Field(description="the token it is held for (type null: a 1.6 ReserveNow)")
    group_id_token: str | None = Field(description="its group (1.6 parentIdTag)")
    expiry_date: UtcDatetime
    status: ReservationStatus
    transaction_id: int | None = Field(description="the transaction that used it")
    command_id: str | None = Field(description="the ReserveNow command")
    created_at: UtcDatetime
    updated_at: UtcDatetime


def _reservation(r: Reservation) -> ReservationOut:
    return ReservationOut(
        reservation_id=r.id,
        station_id=r.charge_point_id,
        evse_id=r.evse_id,
        id_token=presented(r.id_token),
        group_id_token=r.group_id_token,
        expiry_date=r.expiry_date,
        status=r.status,
        transaction_id=r.transaction_id,
        command_id=r.command_id,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


@router.get(
    "/stations/<stationId>/reservations",
    summary="A station's reservations, newest first",
    tags=TAG,
    responses={200: {"description": "found"}, **ERRORS},
)
def list_reservations(
    stationId: StationId,
    limit: Limit = 50,
    offset: Offset = 0,
    status: Annotated[ReservationStatus | None, Query()] = None,
) -> Page[ReservationOut]:
    scope = caller(router).scope
    found, total = services(router).reservations.search(scope, stationId, status, limit, offset)
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
