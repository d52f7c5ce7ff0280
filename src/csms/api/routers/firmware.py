"""Firmware management as a charger reported it: firmware update and diagnostics upload
progress, newest first. Read-only; viewers too."""

# No `from __future__ import annotations`: Powertools reads the handlers' annotations.

from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from csms.api.auth import caller
from csms.api.common import ApiModel, Limit, Offset, Page, StationId, UtcDatetime, error_responses
from csms.api.context import services
from csms.domain.firmware import EventKind

router = APIGatewayRouter()
TAG = ["station state"]
#: Every route here: unknown (or another tenant's) charger, bad parameters.
ERRORS = error_responses(401, 404, 422)


class StatusEventOut(ApiModel):
    status: str = Field(description="as the station reported it (OCPP FirmwareStatus / DiagnosticsStatus)")
    received_at: UtcDatetime
    request_id: int | None = Field(
        description="the requestId of the command the status reports on (2.0.1 UpdateFirmware or "
        "GetLog, as the command's requestId); null for 1.6, whose notifications carry none"
    )


def _timeline(charge_point_id: str, kind: EventKind, limit: int, offset: int) -> Page[StatusEventOut]:
    scope = caller(router).scope
    events, total = services(router).firmware.timeline(scope, charge_point_id, kind, limit, offset)
    items = [
        StatusEventOut(status=e.status, received_at=e.received_at, request_id=e.request_id) for e in events
    ]
    return Page[StatusEventOut](items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/stations/<stationId>/firmware-status",
    summary="The station's firmware update progress (FirmwareStatusNotification), newest first",
    tags=TAG,
    responses={200: {"description": "found"}, **ERRORS},
)
def firmware_status(stationId: StationId, limit: Limit = 50, offset: Offset = 0) -> Page[StatusEventOut]:
    return _timeline(stationId, EventKind.FIRMWARE, limit, offset)


@router.get(
    "/stations/<stationId>/diagnostics-status",
    summary="The station's diagnostics upload progress (DiagnosticsStatusNotification), newest first",
    tags=TAG,
    responses={200: {"description": "found"}, **ERRORS},
)
def diagnostics_status(stationId: StationId, limit: Limit = 50, offset: Offset = 0) -> Page[StatusEventOut]:
    return _timeline(stationId, EventKind.DIAGNOSTICS, limit, offset)
