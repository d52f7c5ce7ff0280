"""Id tokens: create, list, get, update (status, expiry, group), delete.

A token is a value with a type (OCPP 2.0.1 IdTokenType; a 1.6 station presents the value only
and finds it under whichever type the tenant holds it, see ``docs/``): its path is
``/id-tokens/{type}/{idToken}``. Tokens belong to a tenant: two tenants may hold the same
token, and a token of another tenant answers 404. Reading needs the viewer role; changing
tokens needs admin.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, field_validator

from csms.api import API_PREFIX
from csms.api.auth import caller
from csms.api.common import ApiModel, Limit, Offset, Page, UtcDatetime, error_responses
from csms.api.context import services
from csms.domain.tenancy import Role
from csms.domain.tokens import (
    MAX_ID_TOKEN_LENGTH,
    AuthorizationStatus,
    IdToken,
    IdTokenQuery,
    IdTokenType,
    StoredIdToken,
)
from csms.services.id_tokens import IdTokenService

router = APIGatewayRouter()
TAG = ["id tokens"]

#: The statuses an operator may store (the others are derived when a token is presented).
StoredStatus = Literal["Accepted", "Blocked", "Expired", "Invalid", "NoCredit"]
#: The types a tenant may hold tokens of (2.0.1 IdTokenType but NoAuthorization, never stored).
TokenType = Literal["Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress"]
#: Printable characters (no control characters, which PostgreSQL text refuses too).
ID_TOKEN_PATTERN = r"^[^\x00-\x1f\x7f]*$"
IdTokenText = Annotated[str, Field(min_length=1, max_length=MAX_ID_TOKEN_LENGTH, pattern=ID_TOKEN_PATTERN)]
_TYPE = (
    "how the token is presented (OCPP 2.0.1 IdTokenType): ISO14443 (an RFID card's UID; what "
    "1.6 id tags were migrated as), ISO15693, KeyCode, Local, Central (issued by the CSMS), eMAID, "
    "MacAddress"
)


def _storable(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not 2 <= utc.year <= 9998:
        raise ValueError("must be between the years 2 and 9998")
    return value


_NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")


def _iso_text(value: object) -> object:
    # pydantic would also take seconds since 1970 (0, "1.5"): the API documents and accepts
    # only ISO 8601 date-times.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or _NUMBER.fullmatch(value):
        raise ValueError("an ISO 8601 date-time with a time zone is needed, e.g. 2027-01-01T00:00:00Z")
    return value


ExpiryDate = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_storable)]
IdTokenPath = Annotated[
    str,
    Path(description=f"the token's value (up to {MAX_ID_TOKEN_LENGTH} characters, case-insensitive)"),
]
TypePath = Annotated[TokenType, Path(description=_TYPE)]


def _id_tokens() -> IdTokenService:
    return services(router).id_tokens


class IdTokenRef(ApiModel):
    """A token named by value and type."""

    id_token: IdTokenText
    type: TokenType = Field(default="Central", description=f"{_TYPE}; a group defaults to Central")


class IdTokenCreate(ApiModel):
    id_token: IdTokenText = Field(description="the value, unique in the tenant with its type")
    type: TokenType = Field(default="ISO14443", description=_TYPE)
    status: StoredStatus = "Accepted"
    expiry_date: ExpiryDate | None = Field(
        default=None, description="after this instant an Accepted token is answered Expired"
    )
    group_id_token: IdTokenRef | None = Field(
        default=None, description="the group it belongs to (1.6: parentIdTag, the value)"
    )


def _not_nullable(schema: dict[str, Any]) -> None:
    # Optional but not nullable: document only the non-null branch (a validator refuses null).
    schema.pop("default", None)
    branches = [branch for branch in schema.pop("anyOf", []) if branch.get("type") != "null"]
    if len(branches) == 1:
        schema.update(branches[0])


class IdTokenUpdate(ApiModel):
    """Only the fields present change; an explicit null clears expiryDate or groupIdToken."""

    status: StoredStatus | None = Field(
        default=None, description="may not be null", json_schema_extra=_not_nullable
    )
    expiry_date: ExpiryDate | None = Field(default=None, description="null removes the expiry date")
    group_id_token: IdTokenRef | None = Field(default=None, description="null removes the group")

    @field_validator("status")
    @classmethod
    def _status_not_null(cls, value: str | None) -> str | None:
        if value is None:  # only an explicit null gets here; an absent status keeps the current one
            raise ValueError("status cannot be null; leave it out to keep the current status")
        return value


class IdTokenOut(ApiModel):
    id_token: str
    type: TokenType
    status: StoredStatus = Field(description="the stored status")
    effective_status: StoredStatus = Field(
        description="what Authorize answers now: Expired for an Accepted token past its expiry date"
    )
    expired: bool = Field(description="the expiry date has passed")
    expiry_date: UtcDatetime | None
    group_id_token: IdTokenRef | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


def _ref(token: IdToken | None) -> IdTokenRef | None:
    if token is None:
        return None
    assert token.type is not None
    return IdTokenRef.model_validate({"id_token": token.value, "type": token.type.value})


def _out(stored: StoredIdToken, now: datetime) -> IdTokenOut:
    assert stored.token.type is not None
    return IdTokenOut.model_validate(
        {
            "id_token": stored.token.value,
            "type": stored.token.type.value,
            "status": stored.status.value,
            "effective_status": stored.effective_status(now).value,
            "expired": stored.expired(now),
            "expiry_date": stored.expiry_date,
            "group_id_token": _ref(stored.group),
            "created_at": stored.created_at,
            "updated_at": stored.updated_at,
        }
    )


def _token(kind: str, value: str) -> IdToken:
    return IdToken(value, IdTokenType(kind))


def _group(ref: IdTokenRef | None) -> IdToken | None:
    return _token(ref.type, ref.id_token) if ref is not None else None


def _location(stored: StoredIdToken) -> str:
    assert stored.token.type is not None
    return f"{API_PREFIX}/id-tokens/{stored.token.type.value}/{quote(stored.token.value, safe='')}"


@router.post(
    "/id-tokens",
    summary="Create an id token",
    tags=TAG,
    responses={201: {"description": "created"}, **error_responses(401, 403, 409, 422, 503)},
)
def create_id_token(body: Annotated[IdTokenCreate, Body()]) -> Response[IdTokenOut]:
    scope = caller(router, Role.ADMIN).scope
    service = _id_tokens()
    stored = service.create(
        scope,
        _token(body.type, body.id_token),
        status=AuthorizationStatus(body.status),
        expiry_date=body.expiry_date,
        group=_group(body.group_id_token),
    )
    return Response(
        status_code=201,
        content_type="application/json",
        body=_out(stored, service.now()),
        headers={"Location": _location(stored)},
    )


@router.get(
    "/id-tokens",
    summary="List id tokens",
    tags=TAG,
    responses={200: {"description": "one page of id tokens"}, **error_responses(401, 422, 503)},
)
def list_id_tokens(
    limit: Limit = 50,
    offset: Offset = 0,
    type: Annotated[TokenType | None, Query(description="only tokens of this type")] = None,
    status: Annotated[StoredStatus | None, Query(description="stored status")] = None,
    group_id_token: Annotated[
        str | None,
        Query(
            alias="groupIdToken",
            max_length=MAX_ID_TOKEN_LENGTH,
            pattern=ID_TOKEN_PATTERN,
            description="members of the group with this value",
        ),
    ] = None,
    q: Annotated[
        str | None,
        Query(description="value prefix", max_length=MAX_ID_TOKEN_LENGTH, pattern=ID_TOKEN_PATTERN),
    ] = None,
    expired: Annotated[
        bool | None,
        Query(description="true: past their expiry date; false: no expiry date or not yet past it"),
    ] = None,
    sort: Annotated[Literal["idToken", "createdAt", "expiryDate"], Query()] = "idToken",
    order: Annotated[Literal["asc", "desc"], Query()] = "asc",
) -> Page[IdTokenOut]:
    scope = caller(router).scope
    service = _id_tokens()
    found, total = service.search(
        scope,
        IdTokenQuery(
            status=AuthorizationStatus(status) if status else None,
            type=IdTokenType(type) if type else None,
            group=group_id_token,
            id_prefix=q,
            expired=expired,
            sort=sort,
            descending=order == "desc",
            limit=limit,
            offset=offset,
        ),
    )
    now = service.now()
    return Page[IdTokenOut](items=[_out(t, now) for t in found], total=total, limit=limit, offset=offset)


@router.get(
    "/id-tokens/<type>/<idToken>",
    summary="Get an id token",
    tags=TAG,
    responses={200: {"description": "the id token"}, **error_responses(401, 404, 422, 503)},
)
def get_id_token(type: TypePath, idToken: IdTokenPath) -> IdTokenOut:
    scope = caller(router).scope
    service = _id_tokens()
    return _out(service.get(scope, _token(type, idToken)), service.now())


@router.patch(
    "/id-tokens/<type>/<idToken>",
    summary="Update an id token's status, expiry date or group",
    tags=TAG,
    responses={200: {"description": "the updated id token"}, **error_responses(401, 403, 404, 409, 422, 503)},
)
def update_id_token(
    type: TypePath, idToken: IdTokenPath, body: Annotated[IdTokenUpdate, Body()]
) -> IdTokenOut:
    scope = caller(router, Role.ADMIN).scope
    service = _id_tokens()
    given = body.model_fields_set
    stored = service.update(
        scope,
        _token(type, idToken),
        status=AuthorizationStatus(body.status) if body.status else None,
        expiry_date=body.expiry_date,
        set_expiry_date="expiry_date" in given,
        group=_group(body.group_id_token),
        set_group="group_id_token" in given,
    )
    return _out(stored, service.now())


@router.delete(
    "/id-tokens/<type>/<idToken>",
    summary="Delete an id token (its transactions keep the token's text)",
    tags=TAG,
    responses={
        204: {"description": "deleted", "content": {}},
        **error_responses(401, 403, 404, 409, 422, 503),
    },
)
def delete_id_token(type: TypePath, idToken: IdTokenPath) -> Response[None]:
    """Transactions keep the token as text, and tokens naming it as their group keep that name:
    stations then hear Unknown (1.6: Invalid) for it, as for any unknown token."""
    scope = caller(router, Role.ADMIN).scope
    _id_tokens().delete(scope, _token(type, idToken))
    return Response(status_code=204)
