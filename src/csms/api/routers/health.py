"""Health and version (no token needed)."""

from __future__ import annotations

from typing import Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

import csms
from csms.api.common import ApiModel, error_responses
from csms.api.context import services

router = APIGatewayRouter()


class Dependency(ApiModel):
    reachable: bool


class Health(ApiModel):
    status: Literal["ok", "degraded"]
    version: str
    database: Dependency
    dynamodb: Dependency


# Public: Powertools drops an empty `security`, so the override goes in as an extension.
@router.get(
    "/health",
    summary="Health and version",
    tags=["health"],
    openapi_extensions={"security": []},
    responses={
        200: {"description": "healthy"},
        503: {"description": "degraded (same body)", "content": {"application/json": {"model": Health}}},
        **error_responses(422),
    },
)
def health() -> Response[Health]:
    database_ok = services(router).database_reachable()
    dynamodb_ok = services(router).dynamodb_reachable()
    body = Health(
        status="ok" if database_ok and dynamodb_ok else "degraded",
        version=csms.__version__,
        database=Dependency(reachable=database_ok),
        dynamodb=Dependency(reachable=dynamodb_ok),
    )
    return Response(
        status_code=200 if body.status == "ok" else 503, content_type="application/json", body=body
    )
