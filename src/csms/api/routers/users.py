"""Operator accounts of the caller's tenant (admins only): invite, list, change role, remove.

Tokens carry the tenant and role of the user they were issued to; a role change applies to
the user's next token.
"""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from csms.api.auth import caller
from csms.api.common import ApiModel, Limit, Offset, Page, UtcDatetime, error_responses
from csms.api.context import services
from csms.domain.tenancy import Role
from csms.services.users import UserService

router = APIGatewayRouter()
TAG = ["users"]
UserId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[\w.@+-]+$")]
RoleName = Literal["viewer", "operator", "admin"]


#: The usual address shape (a letters-only top-level domain); Cognito validates it again and
#: sends the invitation to it.
EMAIL_PATTERN = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"


class UserCreate(ApiModel):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    role: RoleName


class UserUpdate(ApiModel):
    role: RoleName


class UserOut(ApiModel):
    id: str
    email: str
    role: str
    status: str = Field(description="Cognito's user status, e.g. FORCE_CHANGE_PASSWORD until first sign-in")
    enabled: bool
    created_at: UtcDatetime | None


def _users() -> UserService:
    return services(router).users


def _out(user: object) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


@router.post(
    "/users",
    summary="Invite a user to the caller's tenant",
    tags=TAG,
    responses={201: {"description": "created"}, **error_responses(401, 403, 409, 422)},
)
def create_user(body: Annotated[UserCreate, Body()]) -> Response[UserOut]:
    scope = caller(router, Role.ADMIN).scope
    user = _users().create(scope, str(body.email), body.role)
    return Response(
        status_code=201,
        content_type="application/json",
        body=_out(user),
        headers={"Location": f"/api/v1/users/{user.id}"},
    )


@router.get(
    "/users",
    summary="The tenant's users",
    tags=TAG,
    responses={200: {"description": "OK"}, **error_responses(401, 403, 422)},
)
def list_users(limit: Limit = 50, offset: Offset = 0) -> Page[UserOut]:
    scope = caller(router, Role.ADMIN).scope
    users = _users().list(scope)
    items = [_out(u) for u in users[offset : offset + limit]]
    return Page[UserOut](items=items, total=len(users), limit=limit, offset=offset)


@router.get(
    "/users/<userId>",
    summary="A user of the tenant",
    tags=TAG,
    responses={200: {"description": "OK"}, **error_responses(401, 403, 404, 422)},
)
def get_user(userId: UserId) -> UserOut:
    scope = caller(router, Role.ADMIN).scope
    return _out(_users().get(scope, userId))


@router.patch(
    "/users/<userId>",
    summary="Change a user's role (effective from the user's next token)",
    tags=TAG,
    responses={200: {"description": "OK"}, **error_responses(401, 403, 404, 422)},
)
def update_user(userId: UserId, body: Annotated[UserUpdate, Body()]) -> UserOut:
    scope = caller(router, Role.ADMIN).scope
    return _out(_users().set_role(scope, userId, body.role))


@router.delete(
    "/users/<userId>",
    summary="Remove a user",
    tags=TAG,
    responses={204: {"description": "removed", "content": {}}, **error_responses(401, 403, 404, 422)},
)
def delete_user(userId: UserId) -> Response[None]:
    scope = caller(router, Role.ADMIN).scope
    _users().delete(scope, userId)
    return Response(status_code=204)
