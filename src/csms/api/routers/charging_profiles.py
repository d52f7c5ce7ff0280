"""The charging profiles a charger holds, as SetChargingProfile and ClearChargingProfile
left them. Read-only; viewers too."""

# No `from __future__ import annotations`: Powertools reads the handlers' annotations.

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

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
from csms.api.context import services
from csms.domain.smart_charging import ChargingProfile, ProfileQuery, ProfileStatus

router = APIGatewayRouter()
TAG = ["station state"]
#: Every route here: unknown (or another tenant's) charger, bad parameters.
ERRORS = error_responses(401, 404, 422)


class ChargingProfileOut(ApiModel):
    charging_profile_id: int
    evse_id: int = Field(description="the EVSE (0 = the whole station; 1.6 connector N is EVSE N)")
    charging_profile_purpose: str
    stack_level: int
    charging_profile_kind: str
    recurrency_kind: str | None
    valid_from: UtcDatetime | None
    valid_to: UtcDatetime | None
    transaction_id: str | None = Field(description="a TxProfile's transaction (the station's id)")
    charging_schedule: list[dict[str, Any]] = Field(description="its one to three ChargingSchedules")
    status: ProfileStatus
    in_force: bool = Field(description="installed and within its validity period now")
    command_id: str | None = Field(description="the SetChargingProfile command")
    created_at: UtcDatetime
    updated_at: UtcDatetime


def _profile(p: ChargingProfile, now: datetime) -> ChargingProfileOut:
    s = p.spec
    return ChargingProfileOut(
        charging_profile_id=s.charging_profile_id,
        evse_id=s.evse_id,
        charging_profile_purpose=s.purpose,
        stack_level=s.stack_level,
        charging_profile_kind=s.kind,
        recurrency_kind=s.recurrency_kind,
        valid_from=s.valid_from,
        valid_to=s.valid_to,
        transaction_id=s.transaction_id,
        charging_schedule=s.schedules,
        status=p.status,
        in_force=p.in_force(now),
        command_id=p.command_id,
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


@router.get(
    "/stations/<stationId>/charging-profiles",
    summary="A station's charging profiles (default: installed) by connector, purpose, stack level",
    tags=TAG,
    responses={200: {"description": "found"}, **ERRORS},
)
def list_charging_profiles(
    stationId: StationId,
    limit: Limit = 50,
    offset: Offset = 0,
    status: Annotated[
        ProfileStatus | None, Query(description="only profiles in this status (default: installed)")
    ] = ProfileStatus.INSTALLED,
    any_status: Annotated[
        bool, Query(alias="anyStatus", description="every status (ignores `status`)")
    ] = False,
    evse_id: Annotated[int | None, Query(alias="evseId", ge=0, le=MAX_INT)] = None,
) -> Page[ChargingProfileOut]:
    scope = caller(router).scope
    query = ProfileQuery(status=None if any_status else status, evse_id=evse_id, limit=limit, offset=offset)
    found, total = services(router).smart_charging.search(scope, stationId, query)
    now = services(router).clock.now()
    items = [_profile(p, now) for p in found]
    return Page[ChargingProfileOut](items=items, total=total, limit=limit, offset=offset)
