"""A station's device model: its components (on the station, an EVSE or a connector), their
variables and each variable's attributes, as the station reported them. A 1.6 charger's
configuration keys are there too, under the 2.0.1 variable each maps to (or component
``OCPP16`` when none does), each showing the key it came under."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from csms.api.auth import caller
from csms.api.common import MAX_INT, ApiModel, Limit, Offset, Page, StationId, UtcDatetime, error_responses
from csms.api.context import services
from csms.api.routers.stations import CONNECTOR_ID
from csms.domain.device_model import (
    AttributeType,
    DeviceVariable,
    Mutability,
    VariableQuery,
    VariableSource,
)

router = APIGatewayRouter()
TAG = ["stations"]

_NAME = Annotated[str | None, Query(min_length=1, max_length=50, description="case-insensitive")]


class EvseRef(ApiModel):
    id: int
    connector_id: int | None = Field(default=None, description=CONNECTOR_ID)


class ComponentOut(ApiModel):
    name: str
    instance: str | None
    evse: EvseRef | None = Field(description="null: the component belongs to the station as a whole")


class VariableRef(ApiModel):
    name: str
    instance: str | None


class VariableOut(ApiModel):
    component: ComponentOut
    variable: VariableRef
    attribute_type: AttributeType
    value: str | None = Field(description="null: not reported (e.g. WriteOnly), or unknown")
    mutability: Mutability | None
    persistent: bool | None
    constant: bool | None
    characteristics: dict[str, Any] | None = Field(
        description="as reported: unit, dataType, minLimit, maxLimit, valuesList, supportsMonitoring"
    )
    known: bool = Field(description="false: the station said it does not know the component or variable")
    source: VariableSource = Field(description="the message the value came from")
    ocpp16_key: str | None = Field(
        description="the OCPP 1.6 configuration key the value was reported under (1.6 stations)"
    )
    updated_at: UtcDatetime


def _out(v: DeviceVariable) -> VariableOut:
    c, var = v.address.component, v.address.variable
    return VariableOut(
        component=ComponentOut(
            name=c.name,
            instance=c.instance,
            evse=EvseRef(id=c.evse_id, connector_id=c.connector_id) if c.evse_id is not None else None,
        ),
        variable=VariableRef(name=var.name, instance=var.instance),
        attribute_type=v.address.attribute_type,
        value=v.value,
        mutability=v.mutability,
        persistent=v.persistent,
        constant=v.constant,
        characteristics=v.characteristics,
        known=v.known,
        source=v.source,
        ocpp16_key=v.ocpp16_key,
        updated_at=v.updated_at,
    )


@router.get(
    "/stations/<stationId>/variables",
    summary="The station's device model: every reported attribute of every variable",
    description="By component, EVSE, connector, variable and attribute type. A 1.6 charger's "
    "configuration (GetConfiguration, ChangeConfiguration) appears under the 2.0.1 variable each "
    "key means (`HeartbeatInterval` is `OCPPCommCtrlr.HeartbeatInterval`; `LocalAuthListMaxLength` "
    "the `maxLimit` of `LocalAuthListCtrlr.Entries`) or, without one, as variable `<key>` of "
    "component `OCPP16`; `ocpp16Key` names the key. Credentials (`SecurityCtrlr.BasicAuthPassword`, "
    "1.6 `AuthorizationKey`) are listed without their value.",
    tags=TAG,
    responses={200: {"description": "OK"}, **error_responses(401, 404, 422)},
)
def list_variables(
    stationId: StationId,
    component: _NAME = None,
    variable: _NAME = None,
    evse_id: Annotated[
        int | None, Query(alias="evseId", ge=0, le=MAX_INT, description="components on this EVSE")
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[VariableOut]:
    scope = caller(router).scope
    found, total = services(router).device_model.search(
        scope,
        stationId,
        VariableQuery(component=component, variable=variable, evse_id=evse_id, limit=limit, offset=offset),
    )
    return Page[VariableOut](items=[_out(v) for v in found], total=total, limit=limit, offset=offset)
