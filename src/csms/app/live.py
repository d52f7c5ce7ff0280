"""The operators' live WebSocket API (ADR 0025): the ``$connect`` authorizer and the routes.

- **Authorizer** (a Lambda REQUEST authorizer on ``$connect``, identity source the
  ``Sec-WebSocket-Protocol`` header): the console offers ``csms.live.v1`` and
  ``bearer.<ID token>``; the token is verified as the REST API's Cognito authorizer would
  (csms.aws.tokens) and its tenant, role and subject become the authorizer's context. Locally
  ``csms dev`` verifies its own tokens in the gateway instead (csms.local.live), as it does for
  the REST API, and hands the function the same context.
- **$connect** refuses a token revoked since it was issued (a removed or demoted operator,
  ADR 0023's stamps, as the REST API does), records the connection under the tenant of that
  context and echoes ``csms.live.v1``; **$disconnect** forgets it; **$default** (the console's keep-alive, at
  most every few minutes: API Gateway closes a connection idle for 10) does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from csms.constants import LIVE_SUBPROTOCOL
from csms.domain.tenancy import Principal, Role
from csms.errors import Unauthorized
from csms.observability import bind_invocation, reset_invocation
from csms.services.console_live import ConsoleLive, offered_token

log = logging.getLogger(__name__)

#: What API Gateway turns into a 401 for the handshake (the documented way for a Lambda
#: authorizer to refuse without a policy).
UNAUTHORIZED = "Unauthorized"

Verify = Callable[[str], Mapping[str, Any]]
#: Whether a token of this subject issued at this time (epoch seconds) was revoked since.
Revoked = Callable[[str, int | None], bool]


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header by name, whatever its case."""
    wanted = name.lower()
    return next((value for key, value in (headers or {}).items() if key.lower() == wanted), None)


def authorizer_context(principal: Principal, issued_at: int | None) -> dict[str, str]:
    """What the authorizer hands to every route of the connection (``requestContext.authorizer``:
    strings only, as API Gateway passes them)."""
    return {
        "tenantId": principal.tenant_id,
        "role": principal.role.value,
        "subject": principal.subject,
        "issuedAt": "" if issued_at is None else str(issued_at),
    }


def principal_of(headers: Mapping[str, str] | None, verify: Verify) -> tuple[Principal, int | None]:
    """The operator behind a handshake's offered token and when the token was issued;
    Unauthorized when there is none, it does not verify, or it names no tenant or role."""
    from csms.api.auth import principal_from_claims

    token = offered_token(header(headers, "Sec-WebSocket-Protocol"))
    if token is None:
        raise Unauthorized("no token offered (subprotocol bearer.<token>)")
    try:
        claims = dict(verify(token))
    except Exception as exc:
        raise Unauthorized(f"invalid token: {exc}") from exc
    issued_at = claims.get("iat")
    return principal_from_claims(claims), issued_at if isinstance(issued_at, int) else None


def authorize(event: dict[str, Any], verify: Verify | None = None) -> dict[str, Any]:
    """The REQUEST authorizer: an Allow policy for this ``$connect`` with the operator's context,
    or ``Exception("Unauthorized")`` (API Gateway answers the handshake with 401)."""
    if verify is None:
        from csms.app import wiring

        verify = wiring.live_tokens().verify
    try:
        principal, issued_at = principal_of(event.get("headers"), verify)
    except Unauthorized as exc:
        log.info("live connection refused", extra={"reason": str(exc)})
        raise Exception(UNAUTHORIZED) from None  # the contract with API Gateway
    return {
        "principalId": principal.subject or principal.tenant_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}
            ],
        },
        "context": authorizer_context(principal, issued_at),
    }


def handle(
    event: dict[str, Any], context: Any, live: ConsoleLive | None = None, revoked: Revoked | None = None
) -> dict[str, Any]:
    """The authorizer's event (``type`` = ``REQUEST``) or one of the three routes."""
    reset_invocation()
    if event.get("type") == "REQUEST":
        return authorize(event)
    request_context = event.get("requestContext") or {}
    connection_id = str(request_context.get("connectionId") or "")
    route = request_context.get("routeKey")
    bind_invocation(connection_id=connection_id)
    if live is None:
        from csms.app import wiring

        live = wiring.console_live()
    if route == "$connect":
        if revoked is None:
            from csms.app import wiring

            revoked = wiring.api_access().revoked
        return _connect(live, connection_id, request_context.get("authorizer") or {}, revoked)
    if route == "$disconnect":
        try:
            live.leave(connection_id)
        except Exception:
            # Best effort like $disconnect itself: the item's TTL and the fan-out's Gone clean up.
            log.exception("forgetting a live connection failed")
    return {"statusCode": 200}


def _connect(
    live: ConsoleLive, connection_id: str, authorizer: Mapping[str, Any], revoked: Revoked
) -> dict[str, Any]:
    tenant, role, subject = authorizer.get("tenantId"), authorizer.get("role"), authorizer.get("subject")
    if not tenant or role not in Role._value2member_map_:
        # Only reachable without the authorizer (a misconfigured route): never admit anyone.
        log.error("live $connect without the authorizer's context refused")
        return {"statusCode": 401}
    bind_invocation(tenant_id=tenant)
    issued = str(authorizer.get("issuedAt") or "")
    if revoked(str(subject or ""), int(issued) if issued.isdigit() else None):
        log.info("live connection refused: the token was revoked")
        return {"statusCode": 401}
    try:
        live.admit(connection_id, str(tenant), Role(str(role)), str(subject or ""))
    except Exception:
        log.exception("recording a live connection failed")
        return {"statusCode": 500}
    return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": LIVE_SUBPROTOCOL}}
