"""The consoles' live API locally (ADR 0025): what API Gateway's REQUEST authorizer and the
EventBridge rule do on AWS.

- :func:`local_authorizer` verifies the console's offered token with the local signing key (the
  same tokens ``csms dev`` issues for the REST API) and hands ``$connect`` the same context as the
  deployed authorizer (csms.app.live.authorizer_context).
- The live rule on moto's bus fills a queue as on AWS; the stack polls it for the ``fanout``
  function (csms.local.sqs_driver.EventSourceMapping), as Lambda's event source mapping does.
"""

from __future__ import annotations

import logging
from typing import Any

import jwt

from csms.app.live import authorizer_context, principal_of
from csms.errors import Unauthorized
from csms.local.gateway import Authorizer
from csms.local.tokens import verify_token

log = logging.getLogger(__name__)

#: The live rule and its queue on moto (names of their own on AWS).
LIVE_QUEUE = "csms-console-live"
LIVE_RULE = "csms-console-live"


def local_authorizer(key: bytes) -> Authorizer:
    def authorize(headers: dict[str, str]) -> dict[str, Any] | None:
        try:
            principal, issued_at = principal_of(headers, lambda token: verify_token(key, token))
        except (Unauthorized, jwt.InvalidTokenError) as exc:
            log.info("live connection refused: %s", exc)
            return None
        return {"principalId": principal.subject, **authorizer_context(principal, issued_at)}

    return authorize
