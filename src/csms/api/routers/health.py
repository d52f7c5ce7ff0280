"""Health: a cheap public liveness answer, and a deep check of the dependencies for callers
with a token.

The public ``/health`` touches nothing but the function itself: anyone may call it as often as
they like without costing a database round trip (issue 13: it was an anonymous amplifier onto
PostgreSQL and DynamoDB). ``/health/dependencies`` asks both, needs a token (any role) and
answers within about 3 s whatever they do: 503 when one did not answer in time.
"""

from __future__ import annotations

from typing import Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

import csms
from csms.api.auth import caller
from csms.api.common import ApiModel, error_responses
from csms.api.context import services

router = APIGatewayRouter()


class Dependency(ApiModel):
    reachable: bool


class Liveness(ApiModel):
    status: Literal["ok"]
    version: str


class Health(ApiModel):
    status: Literal["ok", "degraded"]
    version: str
    database: Dependency
    dynamodb: Dependency


# Public: Powertools drops an empty `security`, so the override goes in as an extension.
@router.get(
    "/health",
    summary="Liveness and version (no dependency is asked)",
    tags=["health"],
    openapi_extensions={"security": []},
    responses={200: {"description": "the API answers"}, **error_responses(422)},
)
def health() -> Liveness:
    return Liveness(status="ok", version=csms.__version__)


@router.get(
    "/health/dependencies",
    summary="Whether PostgreSQL and DynamoDB answer (any role), within about 3 s",
    tags=["health"],
    responses={
        200: {"description": "healthy"},
        503: {"description": "degraded (same body)", "content": {"application/json": {"model": Health}}},
        **error_responses(401, 403, 422),
    },
)
def dependencies() -> Response[Health]:
    caller(router)
    found = services(router).dependencies()
    body = Health(
        status="ok" if found.healthy else "degraded",
        version=csms.__version__,
        database=Dependency(reachable=found.database),
        dynamodb=Dependency(reachable=found.dynamodb),
    )
    return Response(
        status_code=200 if body.status == "ok" else 503, content_type="application/json", body=body
    )
