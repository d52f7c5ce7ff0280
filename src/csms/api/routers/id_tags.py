"""Id tags: create, list, get, update (status, expiry, parent), delete.

Tags belong to a tenant: two tenants may hold the same tag, and a tag of another tenant
answers 404. Reading needs the viewer role; changing tags needs admin.
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
from csms.domain.tokens import AuthorizationStatus, IdTagQuery, IdTagRecord
from csms.services.id_tags import IdTagService
from csms.services.provisioning import MAX_ID_TAG_LENGTH

router = APIGatewayRouter()
TAG = ["id tags"]

#: The statuses an operator may store (ConcurrentTx is derived at StartTransaction).
IdTagStatus = Literal["Accepted", "Blocked", "Expired", "Invalid"]
#: OCPP CiString: printable characters (no control characters, which PostgreSQL text refuses too).
ID_TAG_PATTERN = r"^[^\x00-\x1f\x7f]*$"
IdTagText = Annotated[str, Field(min_length=1, max_length=MAX_ID_TAG_LENGTH, pattern=ID_TAG_PATTERN)]


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
IdTagPath = Annotated[str, Path(description="the id tag (OCPP IdToken, up to 20 characters)")]


def _id_tags() -> IdTagService:
    return services(router).id_tags


class IdTagCreate(ApiModel):
    id_tag: IdTagText = Field(description="OCPP IdToken (CiString20), unique in the tenant")
    status: IdTagStatus = "Accepted"
    expiry_date: ExpiryDate | None = Field(
        default=None, description="after this instant an Accepted tag is answered Expired"
    )
    parent_id_tag: IdTagText | None = Field(default=None, description="group id tag (OCPP parentIdTag)")


def _not_nullable(schema: dict[str, Any]) -> None:
    # Optional but not nullable: document only the non-null branch (a validator refuses null).
    schema.pop("default", None)
    branches = [branch for branch in schema.pop("anyOf", []) if branch.get("type") != "null"]
    if len(branches) == 1:
        schema.update(branches[0])


class IdTagUpdate(ApiModel):
    """Only the fields present change; an explicit null clears expiryDate or parentIdTag."""

    status: IdTagStatus | None = Field(
        default=None, description="may not be null", json_schema_extra=_not_nullable
    )
    expiry_date: ExpiryDate | None = Field(default=None, description="null removes the expiry date")
    parent_id_tag: IdTagText | None = Field(default=None, description="null removes the parent")

    @field_validator("status")
    @classmethod
    def _status_not_null(cls, value: str | None) -> str | None:
        if value is None:  # only an explicit null gets here; an absent status keeps the current one
            raise ValueError("status cannot be null; leave it out to keep the current status")
        return value


class IdTagOut(ApiModel):
    id_tag: str
    status: IdTagStatus = Field(description="the stored status")
    effective_status: IdTagStatus = Field(
        description="what Authorize answers now: Expired for an Accepted tag past its expiry date"
    )
    expired: bool = Field(description="the expiry date has passed")
    expiry_date: UtcDatetime | None
    parent_id_tag: str | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


def _out(record: IdTagRecord, now: datetime) -> IdTagOut:
    return IdTagOut.model_validate(
        {
            "id_tag": record.id_tag,
            "status": record.status.value,
            "effective_status": record.effective_status(now).value,
            "expired": record.expired(now),
            "expiry_date": record.expiry_date,
            "parent_id_tag": record.parent_id_tag,
            "created_at": record.created_at,
            "updated_at": record.updated_at,
        }
    )


def _location(id_tag: str) -> str:
    return f"{API_PREFIX}/id-tags/{quote(id_tag, safe='')}"


@router.post(
    "/id-tags",
    summary="Create an id tag",
    tags=TAG,
    responses={201: {"description": "created"}, **error_responses(401, 403, 409, 422, 503)},
)
def create_id_tag(body: Annotated[IdTagCreate, Body()]) -> Response[IdTagOut]:
    scope = caller(router, Role.ADMIN).scope
    service = _id_tags()
    record = service.create(
        scope,
        body.id_tag,
        status=AuthorizationStatus(body.status),
        expiry_date=body.expiry_date,
        parent_id_tag=body.parent_id_tag,
    )
    return Response(
        status_code=201,
        content_type="application/json",
        body=_out(record, service.now()),
        headers={"Location": _location(record.id_tag)},
    )


@router.get(
    "/id-tags",
    summary="List id tags",
    tags=TAG,
    responses={200: {"description": "one page of id tags"}, **error_responses(401, 422, 503)},
)
def list_id_tags(
    limit: Limit = 50,
    offset: Offset = 0,
    status: Annotated[IdTagStatus | None, Query(description="stored status")] = None,
    parent_id_tag: Annotated[
        str | None, Query(alias="parentIdTag", max_length=MAX_ID_TAG_LENGTH, pattern=ID_TAG_PATTERN)
    ] = None,
    q: Annotated[
        str | None, Query(description="id tag prefix", max_length=MAX_ID_TAG_LENGTH, pattern=ID_TAG_PATTERN)
    ] = None,
    expired: Annotated[
        bool | None,
        Query(description="true: past their expiry date; false: no expiry date or not yet past it"),
    ] = None,
    sort: Annotated[Literal["idTag", "createdAt", "expiryDate"], Query()] = "idTag",
    order: Annotated[Literal["asc", "desc"], Query()] = "asc",
) -> Page[IdTagOut]:
    scope = caller(router).scope
    service = _id_tags()
    records, total = service.search(
        scope,
        IdTagQuery(
            status=AuthorizationStatus(status) if status else None,
            parent_id_tag=parent_id_tag,
            id_prefix=q,
            expired=expired,
            sort=sort,
            descending=order == "desc",
            limit=limit,
            offset=offset,
        ),
    )
    now = service.now()
    return Page[IdTagOut](items=[_out(r, now) for r in records], total=total, limit=limit, offset=offset)


@router.get(
    "/id-tags/<idTag>",
    summary="Get an id tag",
    tags=TAG,
    responses={200: {"description": "the id tag"}, **error_responses(401, 404, 422, 503)},
)
def get_id_tag(idTag: IdTagPath) -> IdTagOut:
    scope = caller(router).scope
    service = _id_tags()
    return _out(service.get(scope, idTag), service.now())


@router.patch(
    "/id-tags/<idTag>",
    summary="Update an id tag's status, expiry date or parent",
    tags=TAG,
    responses={200: {"description": "the updated id tag"}, **error_responses(401, 403, 404, 409, 422, 503)},
)
def update_id_tag(idTag: IdTagPath, body: Annotated[IdTagUpdate, Body()]) -> IdTagOut:
    scope = caller(router, Role.ADMIN).scope
    service = _id_tags()
    given = body.model_fields_set
    record = service.update(
        scope,
        idTag,
        status=AuthorizationStatus(body.status) if body.status else None,
        expiry_date=body.expiry_date,
        set_expiry_date="expiry_date" in given,
        parent_id_tag=body.parent_id_tag,
        set_parent_id_tag="parent_id_tag" in given,
    )
    return _out(record, service.now())


@router.delete(
    "/id-tags/<idTag>",
    summary="Delete an id tag (its transactions keep the tag text)",
    tags=TAG,
    responses={
        204: {"description": "deleted", "content": {}},
        **error_responses(401, 403, 404, 409, 422, 503),
    },
)
def delete_id_tag(idTag: IdTagPath) -> Response[None]:
    """Transactions keep the tag as text, and tags naming it as their parent keep that name:
    chargers then hear Invalid for it, as for any unknown tag."""
    scope = caller(router, Role.ADMIN).scope
    _id_tags().delete(scope, idTag)
    return Response(status_code=204)
