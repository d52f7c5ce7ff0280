"""``Idempotency-Key`` on mutating requests: a retry returns the first response.

Powertools Idempotency on DynamoDB stores the first response per (tenant, key) for 24 h;
the same key with a different method, path or body is refused (422), and a retry that
arrives while the first request is still running gets 409.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.utilities.idempotency import (
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from csms.api.auth import principal_from_event
from csms.api.context import services
from csms.api.problems import problem
from csms.errors import Unauthorized

HEADER = "Idempotency-Key"
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EXPIRY_SECONDS = 24 * 3600


class _ServerError(Exception):
    """Raised inside the idempotent function so a 5xx answer is not remembered."""

    def __init__(self, response: dict[str, Any]) -> None:
        super().__init__("server error")
        self.response = response


_CONFIG = IdempotencyConfig(
    event_key_jmespath="[tenant, key]",
    payload_validation_jmespath="[method, path, body]",
    expires_after_seconds=EXPIRY_SECONDS,
)


def _as_dict(response: Response[Any]) -> dict[str, Any]:
    body = response.body
    if not isinstance(body, str | bytes | None):
        body = json.dumps(body, default=str)
    if isinstance(body, bytes):
        body = body.decode()
    headers = response.headers or {}
    return {
        "status": response.status_code,
        "content_type": headers.get("Content-Type"),
        "location": headers.get("Location"),
        # Every header (Allow of a 405...); records stored before kept only the two above.
        "headers": dict(headers),
        "body": body,
    }


def idempotency_middleware(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    event = app.current_event
    key = event.headers.get(HEADER) or event.headers.get(HEADER.lower())
    if event.http_method.upper() not in MUTATING or not key:
        return next_middleware(app)
    try:
        tenant = principal_from_event(event.raw_event).tenant_id
    except Unauthorized:
        return next_middleware(app)  # the route answers 401 itself
    if len(key) > 255:
        return problem(422, "Invalid request", f"{HEADER} is longer than 255 characters")
    if app.lambda_context is not None:
        _CONFIG.register_lambda_context(app.lambda_context)

    @idempotent_function(
        data_keyword_argument="request", persistence_store=services(app).idempotency, config=_CONFIG
    )
    def first_response(request: dict[str, Any]) -> dict[str, Any]:
        answer = _as_dict(next_middleware(app))
        if answer["status"] >= 500:
            raise _ServerError(answer)
        return answer

    request = {
        "tenant": tenant,
        "key": key,
        "method": event.http_method,
        "path": event.path,
        "body": event.body,
    }
    try:
        stored = first_response(request=request)
    except _ServerError as error:
        stored = error.response
    except IdempotencyValidationError:
        return problem(422, "Idempotency key reused", f"{HEADER} {key!r} was used for a different request")
    except IdempotencyAlreadyInProgressError:
        return problem(
            409, "Request in progress", f"a request with {HEADER} {key!r} is still being processed"
        )
    headers = dict(stored.get("headers") or {})
    if stored.get("content_type"):
        headers["Content-Type"] = stored["content_type"]
    if stored.get("location"):
        headers["Location"] = stored["location"]
    return Response(status_code=stored["status"], body=stored["body"], headers=headers)
