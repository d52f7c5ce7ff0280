"""Reports: energy and sessions per charger and UTC day; connector utilisation."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from csms.api.auth import caller
from csms.api.common import ApiModel, From, To, UtcDatetime, error_responses
from csms.api.context import services
from csms.api.routers.stations import CONNECTOR_ID
from csms.api.routers.transactions import utc_param
from csms.domain.locations import LOCATION_ID_PATTERN
from csms.domain.reports import EnergyDay, ReportFilter
from csms.domain.stations import CHARGE_POINT_ID_PATTERN
from csms.services.reports import DEFAULT_RANGE, MAX_RANGE, ReportService

router = APIGatewayRouter()
TAG = ["reports"]

_RANGE = (
    f"`from` and `to` (ISO 8601 with a zone) bound the range [from, to); `to` defaults to the end "
    f"of today (UTC), `from` to {DEFAULT_RANGE.days} days before `to`. At most {MAX_RANGE.days} days, "
    "else 422. Days are UTC days."
)

StationFilter = Annotated[
    str | None,
    Query(
        alias="stationId",
        pattern=CHARGE_POINT_ID_PATTERN.pattern,
        description="only this station (404 if the tenant has none by that id)",
    ),
]
LocationFilter = Annotated[
    str | None,
    Query(
        alias="locationId",
        pattern=LOCATION_ID_PATTERN.pattern,
        description="only the stations now at this location (404 if there is no such location)",
    ),
]


class EnergyDayOut(ApiModel):
    day: date = Field(alias="date", description="the UTC day")
    energy_wh: float = Field(description="energy delivered during the day (Wh)")
    session_count: int = Field(description="sessions started during the day")


class StationEnergyOut(ApiModel):
    station_id: str
    location_id: str | None = Field(description="where the station is now")
    energy_wh: float
    session_count: int
    days: list[EnergyDayOut] = Field(description="days with energy or sessions, in order")


class EnergyTotals(ApiModel):
    energy_wh: float
    session_count: int


class EnergyReportOut(ApiModel):
    start: UtcDatetime = Field(alias="from")
    end: UtcDatetime = Field(alias="to")
    stations: list[StationEnergyOut] = Field(description="stations with energy or sessions in range, by id")
    days: list[EnergyDayOut] = Field(description="all stations together, per day with activity")
    totals: EnergyTotals


class ConnectorUtilisationOut(ApiModel):
    station_id: str
    evse_id: int
    connector_id: int = Field(description=CONNECTOR_ID)
    charging_seconds: float = Field(description="time with chargingState Charging")
    occupied_seconds: float = Field(
        description="time with state Occupied (a vehicle plugged in; 1.6: Preparing to Finishing)"
    )
    unknown_seconds: float = Field(description="time before the connector's first status report")
    range_seconds: float = Field(description="the elapsed part of the range")
    utilisation: float | None = Field(description="chargingSeconds / rangeSeconds (null if 0 s elapsed)")


class UtilisationTotals(ApiModel):
    charging_seconds: float
    range_seconds: float = Field(description="rangeSeconds summed over the connectors")
    utilisation: float | None


class UtilisationReportOut(ApiModel):
    start: UtcDatetime = Field(alias="from")
    end: UtcDatetime = Field(alias="to")
    connectors: list[ConnectorUtilisationOut] = Field(description="by station id, EVSE id, then connector id")
    totals: UtilisationTotals


def _reports() -> ReportService:
    return services(router).reports


def _day(day: EnergyDay) -> EnergyDayOut:
    return EnergyDayOut.model_validate(
        {"day": day.day, "energy_wh": day.energy_wh, "session_count": day.session_count}
    )


@router.get(
    "/reports/energy",
    summary="Energy and sessions per station and UTC day",
    description=f"{_RANGE}\n\nA session counts on the day it started: every transaction but those "
    "the CSMS refused (deauthorizedAt set), which are no charging sessions. Energy counts on the day "
    "it was delivered, refused transactions' too: each transaction's "
    "Energy.Active.Import.Register readings (Outlet, all phases, Wh or kWh) from meterStart to "
    "meterStop, spread evenly between consecutive readings; so an overnight session puts energy on "
    "both days, its days add up to meterStop - meterStart, and an open transaction counts up to its "
    "latest reading. Stations and days without energy or sessions are left out.",
    tags=TAG,
    responses={200: {"description": "the report"}, **error_responses(401, 404, 422, 503)},
)
def energy_report(
    start: From = None,
    to: To = None,
    station_id: StationFilter = None,
    location_id: LocationFilter = None,
) -> EnergyReportOut:
    scope = caller(router).scope
    report = _reports().energy(
        scope,
        utc_param(start, "from"),
        utc_param(to, "to"),
        ReportFilter(charge_point_id=station_id, location_id=location_id),
    )
    return EnergyReportOut.model_validate(
        {
            "start": report.start,
            "end": report.end,
            "stations": [
                StationEnergyOut(
                    station_id=c.charge_point_id,
                    location_id=c.location_id,
                    energy_wh=c.energy_wh,
                    session_count=c.session_count,
                    days=[_day(d) for d in c.days],
                )
                for c in report.charge_points
            ],
            "days": [_day(d) for d in report.days],
            "totals": EnergyTotals(energy_wh=report.energy_wh, session_count=report.session_count),
        }
    )


@router.get(
    "/reports/utilisation",
    summary="Share of time each connector was charging",
    description=f"{_RANGE}\n\nFrom the connectors' status history, in the normalized vocabulary: "
    "charging is chargingState Charging (a 1.6 status Charging, or a 2.0.1 transaction's charging "
    "state), occupied is state Occupied. Each status report holds from its timestamp (the station's "
    "clock) until the connector's next one; the last one before `from` holds from `from`. Only the "
    "part of the range that has elapsed counts (rangeSeconds). EVSE 0 (the station itself) is left "
    "out.",
    tags=TAG,
    responses={200: {"description": "the report"}, **error_responses(401, 404, 422, 503)},
)
def utilisation_report(
    start: From = None,
    to: To = None,
    station_id: StationFilter = None,
    location_id: LocationFilter = None,
) -> UtilisationReportOut:
    scope = caller(router).scope
    report = _reports().utilisation(
        scope,
        utc_param(start, "from"),
        utc_param(to, "to"),
        ReportFilter(charge_point_id=station_id, location_id=location_id),
    )
    return UtilisationReportOut.model_validate(
        {
            "start": report.start,
            "end": report.end,
            "connectors": [
                ConnectorUtilisationOut(
                    station_id=c.charge_point_id,
                    evse_id=c.evse_id,
                    connector_id=c.connector_id,
                    charging_seconds=c.charging_seconds,
                    occupied_seconds=c.occupied_seconds,
                    unknown_seconds=c.unknown_seconds,
                    range_seconds=c.range_seconds,
                    utilisation=c.utilisation,
                )
                for c in report.connectors
            ],
            "totals": UtilisationTotals(
                charging_seconds=report.charging_seconds,
                range_seconds=report.range_seconds,
                utilisation=report.utilisation,
            ),
        }
    )
