"""A charger's local authorization list: the version it accepted from us and the one it
reported. Read-only; viewers too."""

# No `from __future__ import annotations`: Powertools reads the handlers' annotations.

from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from csms.api.auth import caller
from csms.api.common import ApiModel, StationId, UtcDatetime, error_responses
from csms.api.context import services

router = APIGatewayRouter()
TAG = ["station state"]
#: Every route here: unknown (or another tenant's) charger, bad parameters.
ERRORS = error_responses(401, 404, 422)


class LocalListOut(ApiModel):
    station_id: str
    sent_version: int | None = Field(description="the last list version the station accepted from us")
    sent_at: UtcDatetime | None = Field(description="when it accepted it")
    reported_version: int | None = Field(
        description="the version the station reported (GetLocalListVersion); 0 = empty, -1 = disabled"
    )
    reported_at: UtcDatetime | None
    in_sync: bool | None = Field(description="both versions known and equal; null if either is unknown")


@router.get(
    "/stations/<stationId>/local-list",
    summary="The station's local authorization list versions (sent and reported)",
    tags=TAG,
    responses={200: {"description": "found"}, **ERRORS},
)
def local_list(stationId: StationId) -> LocalListOut:
    scope = caller(router).scope
    state = services(router).local_lists.state(scope, stationId)
    known = state.sent_version is not None and state.reported_version is not None
    return LocalListOut(
        station_id=stationId,
        sent_version=state.sent_version,
        sent_at=state.sent_at,
        reported_version=state.reported_version,
        reported_at=state.reported_at,
        in_sync=state.sent_version == state.reported_version if known else None,
    )
