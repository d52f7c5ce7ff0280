"""The first middleware of every request: a revoked token gets 401, a request past its
tenant's or principal's rate limit 429 with ``Retry-After`` (csms.services.api_access)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from csms.api.auth import principal_from_event
from csms.api.context import services
from csms.api.problems import problem
from csms.errors import Unauthorized
from csms.observability import add_count


def access_middleware(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    event = app.current_event.raw_event
    try:
        principal = principal_from_event(event)
    except Unauthorized:
        return next_middleware(app)  # public, or the route answers 401 itself
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims") or {}
    access = services(app).access
    issued = str(claims.get("iat") or "")
    if access.revoked(principal.subject, int(issued) if issued.isdigit() else None):
        return problem(
            401,
            "Unauthorized",
            "this token was revoked (the user was removed or their role changed): sign in again",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    throttled = access.throttled(principal.tenant_id, principal.subject)
    if throttled is not None:
        add_count("ApiRequestsThrottled", 1)
        return problem(
            429,
            "Too many requests",
            f"more than {throttled.limit} requests in the {throttled.by}'s window; "
            f"retry after {throttled.retry_after_seconds} s",
            headers={"Retry-After": str(throttled.retry_after_seconds)},
        )
    return next_middleware(app)
