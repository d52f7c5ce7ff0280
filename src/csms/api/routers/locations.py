"""Locations: create, list, get, update, delete; which stations stand where."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import AfterValidator, Field, Strict, StringConstraints, field_validator
from pydantic.json_schema import SkipJsonSchema

from csms.api import API_PREFIX
from csms.api.auth import caller
from csms.api.common import ApiModel, Limit, Offset, Page, UtcDatetime, error_responses
from csms.api.context import services
from csms.domain.locations import EDITABLE, LOCATION_ID_PATTERN, Location, LocationDetail, LocationQuery
from csms.domain.stations import CHARGE_POINT_ID_PATTERN
from csms.domain.tenancy import Role
from csms.services.locations import COUNTRY_CODES, LocationService

router = APIGatewayRouter()
TAG = ["locations"]

#: One line of text: starts and ends with a visible character, no control characters.
_TEXT_PATTERN = r"^[^\s\x00-\x1f\x7f](?:[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f])?$"
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=_TEXT_PATTERN)]
Address = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=_TEXT_PATTERN)]
City = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=_TEXT_PATTERN)]
PostalCode = Annotated[str, StringConstraints(min_length=1, max_length=20, pattern=_TEXT_PATTERN)]


def _known_country(value: str) -> str:
    if value not in COUNTRY_CODES:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 code")
    return value


Country = Annotated[
    str,
    AfterValidator(_known_country),
    Field(
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166-1 alpha-2 code, upper case (DE, FR, US...)",
        json_schema_extra={"enum": sorted(COUNTRY_CODES)},
    ),
]
# Strict: a JSON true is not a coordinate (lax mode would read it as 1.0).
Latitude = Annotated[float, Strict(), Field(ge=-90, le=90, description="degrees north (negative: south)")]
Longitude = Annotated[float, Strict(), Field(ge=-180, le=180, description="degrees east (negative: west)")]
StationIdValue = Annotated[str, StringConstraints(pattern=CHARGE_POINT_ID_PATTERN.pattern)]

LocationId = Annotated[
    str, Path(pattern=LOCATION_ID_PATTERN.pattern, description="the location id (given or generated)")
]
StationId = Annotated[str, Path(pattern=CHARGE_POINT_ID_PATTERN.pattern, description="the station's id")]


class Coordinates(ApiModel):
    """Where the location is (WGS 84 degrees)."""

    latitude: Latitude
    longitude: Longitude


class LocationCreate(ApiModel):
    id: str | None = Field(
        default=None,
        pattern=LOCATION_ID_PATTERN.pattern,
        description="1-64 letters, digits, '.', '_', '-'; generated (12 characters) if absent",
    )
    name: Name
    address: Address | None = None
    city: City | None = None
    postal_code: PostalCode | None = None
    country: Country | None = None
    coordinates: Coordinates | None = None


class LocationUpdate(ApiModel):
    """Only the fields present change; null clears an optional field (name cannot be cleared)."""

    name: Name | SkipJsonSchema[None] = None
    address: Address | None = None
    city: City | None = None
    postal_code: PostalCode | None = None
    country: Country | None = None
    coordinates: Coordinates | None = None

    @field_validator("name")
    @classmethod
    def _name_not_null(cls, value: str | None) -> str:
        if value is None:  # reached only when null was sent: an absent field is not validated
            raise ValueError("a location must have a name")
        return value


class StationAssignment(ApiModel):
    station_ids: list[StationIdValue] = Field(
        min_length=1, max_length=500, description="stations to put at the location (moved from any other)"
    )


class LocationOut(ApiModel):
    id: str
    name: str
    address: str | None
    city: str | None
    postal_code: str | None
    country: str | None
    coordinates: Coordinates | None
    station_count: int = Field(description="stations at the location (not decommissioned)")
    created_at: UtcDatetime
    updated_at: UtcDatetime


class LocationDetailOut(LocationOut):
    station_ids: list[str] = Field(description="the stations at the location, sorted")


def _locations() -> LocationService:
    return services(router).locations


def _fields_out(location: Location) -> dict[str, Any]:
    fields = asdict(location)
    fields["station_count"] = fields.pop("charge_point_count")
    latitude, longitude = fields.pop("latitude"), fields.pop("longitude")
    has_coordinates = latitude is not None and longitude is not None
    fields["coordinates"] = {"latitude": latitude, "longitude": longitude} if has_coordinates else None
    return fields


def _out(location: Location) -> LocationOut:
    return LocationOut.model_validate(_fields_out(location))


def _detail(detail: LocationDetail) -> LocationDetailOut:
    return LocationDetailOut.model_validate(
        {**_fields_out(detail.location), "station_ids": detail.charge_point_ids}
    )


def _changes(body: LocationCreate | LocationUpdate) -> dict[str, Any]:
    """The body's fields as the service's columns (coordinates are two of them)."""
    given = body.model_fields_set
    changes = {name: getattr(body, name) for name in EDITABLE if name in given}
    if "coordinates" in given:
        changes["latitude"] = body.coordinates.latitude if body.coordinates else None
        changes["longitude"] = body.coordinates.longitude if body.coordinates else None
    return changes


@router.post(
    "/locations",
    summary="Create a location",
    tags=TAG,
    responses={
        201: {
            "description": "created; the Location header is its URL",
            "headers": {"Location": {"description": "the new location's URL", "schema": {"type": "string"}}},
        },
        **error_responses(401, 403, 409, 422, 503),
    },
)
def create_location(body: Annotated[LocationCreate, Body()]) -> Response[LocationDetailOut]:
    scope = caller(router, Role.ADMIN).scope
    created = _locations().create(scope, body.id, _changes(body))
    return Response(
        status_code=201,
        content_type="application/json",
        body=_detail(created),
        headers={"Location": f"{API_PREFIX}/locations/{created.location.id}"},
    )


@router.get(
    "/locations",
    summary="List locations, each with its number of stations",
    tags=TAG,
    responses={200: {"description": "one page of locations"}, **error_responses(401, 422, 503)},
)
def list_locations(
    limit: Limit = 50,
    offset: Offset = 0,
    q: Annotated[
        str | None,
        Query(description="part of the name (case-insensitive)", max_length=100, pattern=r"^[^\x00]*$"),
    ] = None,
    country: Annotated[
        str | None,
        Query(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code (exact, upper case)"),
    ] = None,
    sort: Annotated[Literal["name", "createdAt"], Query()] = "name",
    order: Annotated[Literal["asc", "desc"], Query()] = "asc",
) -> Page[LocationOut]:
    scope = caller(router).scope
    locations, total = _locations().search(
        scope,
        LocationQuery(
            name_contains=q,
            country=country,
            sort=sort,
            descending=order == "desc",
            limit=limit,
            offset=offset,
        ),
    )
    return Page[LocationOut](items=[_out(x) for x in locations], total=total, limit=limit, offset=offset)


@router.get(
    "/locations/<locationId>",
    summary="Get a location with the ids of its stations",
    tags=TAG,
    responses={200: {"description": "the location"}, **error_responses(401, 404, 422, 503)},
)
def get_location(locationId: LocationId) -> LocationDetailOut:
    scope = caller(router).scope
    return _detail(_locations().get(scope, locationId))


@router.patch(
    "/locations/<locationId>",
    summary="Update a location",
    description="Only the fields in the body change; null clears an optional field.",
    tags=TAG,
    responses={200: {"description": "the updated location"}, **error_responses(401, 403, 404, 422, 503)},
)
def update_location(locationId: LocationId, body: Annotated[LocationUpdate, Body()]) -> LocationDetailOut:
    scope = caller(router, Role.ADMIN).scope
    return _detail(_locations().update(scope, locationId, _changes(body)))


@router.delete(
    "/locations/<locationId>",
    summary="Delete a location (its stations become unassigned)",
    tags=TAG,
    responses={204: {"description": "deleted", "content": {}}, **error_responses(401, 403, 404, 422, 503)},
)
def delete_location(locationId: LocationId) -> Response[None]:
    scope = caller(router, Role.ADMIN).scope
    _locations().delete(scope, locationId)
    return Response(status_code=204)


@router.post(
    "/locations/<locationId>/stations",
    summary="Put stations at a location",
    description="All or nothing: every id must be a station of the tenant, otherwise the 422 "
    "names the unknown ones and nothing changes. A station at another location moves here.",
    tags=TAG,
    responses={
        200: {"description": "the location with its stations"},
        **error_responses(401, 403, 404, 422, 503),
    },
)
def assign_stations(locationId: LocationId, body: Annotated[StationAssignment, Body()]) -> LocationDetailOut:
    scope = caller(router, Role.ADMIN).scope
    return _detail(_locations().assign(scope, locationId, body.station_ids))


@router.delete(
    "/locations/<locationId>/stations/<stationId>",
    summary="Take a station off a location",
    tags=TAG,
    responses={
        204: {"description": "unassigned", "content": {}},
        **error_responses(401, 403, 404, 422, 503),
    },
)
def unassign_station(locationId: LocationId, stationId: StationId) -> Response[None]:
    scope = caller(router, Role.ADMIN).scope
    _locations().unassign(scope, locationId, stationId)
    return Response(status_code=204)
