"""What a station reported on its own, beyond status and transactions: its security events, the
events of its components (NotifyEvent) and the limits set on it from outside the CSMS (an
energy manager, the grid operator). OCPP 2.0.1 stations send them; read-only, viewers too."""

# No `from __future__ import annotations`: Powertools reads the handlers' annotations.

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from csms.api.auth import caller
from csms.api.common import ApiModel, Limit, Offset, Page, StationId, UtcDatetime, error_responses
from csms.api.context import services

router = APIGatewayRouter()
TAG = ["charger state"]
ERRORS = error_responses(401, 404, 422)


class SecurityEventOut(ApiModel):
    type: str = Field(description="OCPP's name for it (e.g. TamperDetectionActivated) or the vendor's")
    timestamp: UtcDatetime = Field(description="when it happened, by the station's clock")
    tech_info: str | None
    received_at: UtcDatetime


@router.get(
    "/stations/<stationId>/security-events",
    summary="The station's security events (SecurityEventNotification), newest first",
    tags=TAG,
    responses={200: {"description": "found"}, **ERRORS},
)
def security_events(stationId: StationId, limit: Limit = 50, offset: Offset = 0) -> Page[SecurityEventOut]:
    found, total = services(router).security_events.events(caller(router).scope, stationId, limit, offset)
    items = [
        SecurityEventOut(
            type=s.event.type,
            timestamp=s.event.timestamp,
            tech_info=s.event.tech_info,
            received_at=s.received_at,
        )
        for s in found
    ]
    return Page[SecurityEventOut](items=items, total=total, limit=limit, offset=offset)


class DeviceEventOut(ApiModel):
    event_id: int
    timestamp: UtcDatetime = Field(description="when it happened, by the station's clock")
    trigger: str = Field(description="Alerting (a threshold crossed), Delta (a change) or Periodic")
    actual_value: str
    component: str
    component_instance: str | None
    evse_id: int | None
    connector_id: int | None
    variable: str
    variable_instance: str | None
    notification_type: str
    cause: int | None = Field(description="the eventId of the event that caused this one")
    tech_code: str | None
    tech_info: str | None
    cleared: bool | None = Field(description="true: the problem an earlier event reported is gone")
    transaction_id: str | None
    received_at: UtcDatetime


@router.get(
    "/stations/<stationId>/device-events",
    summary="Events of the station's components (NotifyEvent), newest first",
    tags=TAG,
    responses={200: {"description": "found"}, **ERRORS},
)
def device_events(
    stationId: StationId,
    component: Annotated[str | None, Query(max_length=50, description="only this component's")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[DeviceEventOut]:
    found, total = services(router).diagnostics.events(
        caller(router).scope, stationId, component, limit, offset
    )
    items = []
    for stored in found:
        e, where = stored.event, stored.event.where
        items.append(
            DeviceEventOut(
                event_id=e.event_id,
                timestamp=e.timestamp,
                trigger=e.trigger,
                actual_value=e.actual_value,
                component=where.component,
                component_instance=where.component_instance,
                evse_id=where.evse_id,
                connector_id=where.connector_id,
                variable=where.variable,
                variable_instance=where.variable_instance,
                notification_type=e.notification_type,
                cause=e.cause,
                tech_code=e.tech_code,
                tech_info=e.tech_info,
                cleared=e.cleared,
                transaction_id=e.transaction_id,
                received_at=stored.received_at,
            )
        )
    return Page[DeviceEventOut](items=items, total=total, limit=limit, offset=offset)


class ChargingLimitOut(ApiModel):
    source: str = Field(description="EMS, SO (system operator), CSO or Other")
    evse_id: int | None = Field(description="null: the whole station")
    is_grid_critical: bool | None
    schedules: list[dict[str, object]] = Field(description="the limiting schedules, as the station sent them")
    reported_at: UtcDatetime


@router.get(
    "/stations/<stationId>/charging-limits",
    summary="Limits in force on the station from sources outside the CSMS (NotifyChargingLimit)",
    tags=TAG,
    responses={200: {"description": "found"}, **ERRORS},
)
def charging_limits(stationId: StationId) -> list[ChargingLimitOut]:
    return [
        ChargingLimitOut(
            source=s.limit.source,
            evse_id=s.limit.evse_id,
            is_grid_critical=s.limit.is_grid_critical,
            schedules=list(s.limit.schedules),
            reported_at=s.reported_at,
        )
        for s in services(router).charging_limits.limits(caller(router).scope, stationId)
    ]
