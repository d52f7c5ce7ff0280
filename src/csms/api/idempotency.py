"""``Idempotency-Key`` on mutating requests: a retry returns the first response.

Powertools Idempotency on DynamoDB stores the first response per (tenant, principal, role,
key) for 24 h: one caller's key never answers another caller, nor the same caller after a
change of role (the route then runs, and checks the role). A viewer is refused (403) before any
lookup: no mutating route is a viewer's. The same key with a different method, path or body is
refused (422), and a retry that arrives while the first request is still running gets 409.

A secret in a response (a generated station password: the route names it in the resolver's
context, :data:`SECRET_FIELDS`) reaches the caller once and is stored as null; a replay says so
with the header ``Csms-Redacted-Fields`` (and every replay carries ``Idempotent-Replayed: true``).
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
from csms.domain.tenancy import Role
from csms.errors import Unauthorized

HEADER = "Idempotency-Key"
#: Key of the resolver's context where a route names the top-level fields of its answer that
#: hold a secret shown once.
SECRET_FIELDS = "secret_fields"
REDACTED_HEADER = "Csms-Redacted-Fields"
REPLAYED_HEADER = "Idempotent-Replayed"
#: The least role any mutating route needs (a test holds every route to it).
LEAST_MUTATING_ROLE = Role.OPERATOR
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Requests never replayed: their body or answer holds a secret (a station's new password), which
#: an idempotency record would keep for 24 h. A retry is a new request (rotate-password: a 409
#: while the first is in flight).
NOT_REPLAYED = ("/commands/rotate-password",)
EXPIRY_SECONDS = 24 * 3600


class _ServerError(Exception):
    """Raised inside the idempotent function so a 5xx answer is not remembered."""

    def __init__(self, response: dict[str, Any]) -> None:
        super().__init__("server error")
        self.response = response


_CONFIG = IdempotencyConfig(
    event_key_jmespath="[tenant, principal, role, key]",
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


def _redacted(answer: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """``answer`` with ``fields`` of its JSON body set to null, and the header saying so."""
    try:
        body = json.loads(answer["body"])
    except (TypeError, ValueError):
        return answer
    if not isinstance(body, dict):
        return answer
    body.update(dict.fromkeys(fields))
    headers = {**(answer.get("headers") or {}), REDACTED_HEADER: ", ".join(fields)}
    return {**answer, "body": json.dumps(body), "headers": headers}


def idempotency_middleware(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    event = app.current_event
    key = event.headers.get(HEADER) or event.headers.get(HEADER.lower())
    if event.http_method.upper() not in MUTATING or not key or event.path.endswith(NOT_REPLAYED):
        return next_middleware(app)
    try:
        principal = principal_from_event(event.raw_event)
    except Unauthorized:
        return next_middleware(app)  # the route answers 401 itself
    if principal.role.rank < LEAST_MUTATING_ROLE.rank:
        # The role before any stored answer: a viewer never gets one (the route refuses it).
        return next_middleware(app)
    if len(key) > 255:
        return problem(422, "Invalid request", f"{HEADER} is longer than 255 characters")
    if app.lambda_context is not None:
        _CONFIG.register_lambda_context(app.lambda_context)

    @idempotent_function(
        data_keyword_argument="request", persistence_store=services(app).idempotency, config=_CONFIG
    )
    def first_response(request: dict[str, Any]) -> dict[str, Any]:
        ran.append(True)
        answer = _as_dict(next_middleware(app))
        if answer["status"] >= 500:
            raise _ServerError(answer)
        secrets = tuple(app.context.pop(SECRET_FIELDS, ()) or ())
        if not secrets:
            return answer
        # The caller gets the secret now; what is stored (and replayed) has it nulled.
        shown_once.append(answer)
        return _redacted(answer, secrets)

    shown_once: list[dict[str, Any]] = []
    ran: list[bool] = []
    request = {
        "tenant": principal.tenant_id,
        "principal": principal.subject,
        "role": principal.role.value,
        "key": key,
        "method": event.http_method,
        "path": event.path,
        "body": event.body,
    }
    replayed = False
    try:
        stored = first_response(request=request)
        replayed = not ran
    except _ServerError as error:
        stored = error.response
    except IdempotencyValidationError:
        return problem(422, "Idempotency key reused", f"{HEADER} {key!r} was used for a different request")
    except IdempotencyAlreadyInProgressError:
        return problem(
            409, "Request in progress", f"a request with {HEADER} {key!r} is still being processed"
        )
    if shown_once:
        stored = shown_once[0]
    headers = dict(stored.get("headers") or {})
    if replayed:
        headers[REPLAYED_HEADER] = "true"
    if stored.get("content_type"):
        headers["Content-Type"] = stored["content_type"]
    if stored.get("location"):
        headers["Location"] = stored["location"]
    return Response(status_code=stored["status"], body=stored["body"], headers=headers)
