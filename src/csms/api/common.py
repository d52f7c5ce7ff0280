"""Shared API models: camelCase JSON, UTC ISO 8601 times, pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Generic, Literal, TypeVar, overload

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

from csms.api.problems import PROBLEM_JSON
from csms.domain.tokens import IdToken

T = TypeVar("T")


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


#: A timestamp as the API writes it: ISO 8601 in UTC with a Z.
UtcDatetime = Annotated[datetime, PlainSerializer(_utc, return_type=str, when_used="json")]


def _not_a_boolean(value: object) -> object:
    # JSON true/false are not the numbers 1/0 (a Literal of ints would take them).
    if isinstance(value, bool):
        raise ValueError("a number is expected, not true or false")
    return value


#: An OCPP security profile: 0 (no password), 1 or 2 (HTTP Basic auth; 2 over TLS).
SecurityProfile = Annotated[Literal[0, 1, 2], BeforeValidator(_not_a_boolean)]


class ApiModel(BaseModel):
    """Base of every request and response body: camelCase on the wire."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
        extra="forbid",
        from_attributes=True,
    )


class Page(ApiModel, Generic[T]):
    """One page of a list, with the total number of matching items."""

    items: list[T]
    total: int
    limit: int
    offset: int


#: Largest value a 32-bit PostgreSQL integer (and a sane offset) takes.
MAX_INT = 2**31 - 1

_ISO_8601 = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _iso_8601_only(value: object) -> object:
    """Refuse numbers: pydantic would read '1.5' as Unix seconds; the API promises ISO 8601."""
    if isinstance(value, str) and not _ISO_8601.match(value):
        raise ValueError("expected an ISO 8601 date-time with a zone, e.g. 2026-11-21T10:00:00Z")
    if isinstance(value, int | float):
        raise ValueError("expected an ISO 8601 date-time with a zone, not a number")
    return value


#: A timestamp query parameter: ISO 8601 with a zone, nothing else.
IsoDatetime = Annotated[AwareDatetime, BeforeValidator(_iso_8601_only)]

#: A station id in a route's path.
StationId = Annotated[str, Path(description="the station's identity (the last segment of its OCPP URL)")]
Limit = Annotated[int, Query(ge=1, le=500, description="page size (1-500)")]
Offset = Annotated[int, Query(ge=0, le=MAX_INT, description="items to skip")]
From = Annotated[
    IsoDatetime | None, Query(alias="from", description="inclusive lower bound, ISO 8601 with zone")
]
To = Annotated[IsoDatetime | None, Query(alias="to", description="exclusive upper bound, ISO 8601 with zone")]


class PresentedIdToken(ApiModel):
    """An id token as a station presented it: its value and type (null for a 1.6 id tag, which
    has none)."""

    id_token: str
    type: str | None


@overload
def presented(token: IdToken) -> PresentedIdToken: ...
@overload
def presented(token: None) -> None: ...
@overload
def presented(token: IdToken | None) -> PresentedIdToken | None: ...


def presented(token: IdToken | None) -> PresentedIdToken | None:
    """The API's form of an id token (None stays None)."""
    if token is None:
        return None
    return PresentedIdToken(id_token=token.value, type=token.type.value if token.type else None)


class FieldError(BaseModel):
    field: str = Field(description="where: body.name, query.limit, path.locationId...")
    message: str


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = Field(default=None, description="each invalid field (validation)")


_ERROR_DESCRIPTIONS = {
    401: "No valid bearer token, or the token names no tenant or role",
    403: "The token's role may not do this",
    404: "No such resource in the caller's tenant (another tenant's resources look missing too)",
    409: "Conflicts with the current state (the id exists already), or a request with the same "
    "Idempotency-Key is still running",
    422: "Invalid request: `detail` and `errors[].field` name the offending field",
    503: "The database is unavailable; retry later",
}


def error_responses(*statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI ``responses`` entries documenting these error statuses as problem+json.

    Merge them with the success response: ``responses={200: {"description": "..."},
    **error_responses(401, 404, 422)}`` (a success entry without ``content`` gets the
    handler's return type). The 422 entry replaces Powertools' default, which documents a
    body this API does not send.
    """
    return {
        status: {
            "description": _ERROR_DESCRIPTIONS[status],
            "content": {PROBLEM_JSON: {"model": Problem}},
        }
        for status in statuses
    }
