"""The consoles' live API locally (ADR 0025): what API Gateway's REQUEST authorizer and the
EventBridge rule do on AWS.

- :func:`local_authorizer` verifies the console's offered token with the local signing key (the
  same tokens ``csms dev`` issues for the REST API) and hands ``$connect`` the same context as the
  deployed authorizer (csms.app.live.authorizer_context).
- :class:`RuleTarget` delivers what the live rule on moto's bus routed to its queue to the
  ``fanout`` function, one EventBridge event per invocation, as a Lambda target of the rule is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

import jwt

from csms.app.live import authorizer_context, principal_of
from csms.errors import Unauthorized
from csms.local.gateway import Authorizer
from csms.local.lambdas import LocalLambdaContext
from csms.local.tokens import verify_token

log = logging.getLogger(__name__)

#: The live rule's queue on moto (the rule's Lambda target on AWS).
LIVE_QUEUE = "csms-console-live"
LIVE_RULE = "csms-console-live"


def local_authorizer(key: bytes) -> Authorizer:
    def authorize(headers: dict[str, str]) -> dict[str, Any] | None:
        try:
            principal = principal_of(headers, lambda token: verify_token(key, token))
        except (Unauthorized, jwt.InvalidTokenError) as exc:
            log.info("live connection refused: %s", exc)
            return None
        return {"principalId": principal.subject, **authorizer_context(principal)}

    return authorize


class RuleTarget:
    """Polls the rule's queue (a long poll of up to a second) and invokes ``handler`` with each
    event. A failed invocation is logged and the event dropped: a console that missed it catches
    up from the feed (EventBridge retries asynchronous invocations; the console must cope anyway)."""

    def __init__(self, client: Any, queue_url: str, handler: Callable[[dict[str, Any], Any], Any]) -> None:
        self._client = client
        self._url = queue_url
        self._handler = handler
        #: Events delivered so far (tests and the benchmark read it).
        self.delivered = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.to_thread(self._poll_once)
            except Exception:
                log.exception("polling the live rule's queue failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.5)

    def _poll_once(self) -> None:
        messages = self._client.receive_message(
            QueueUrl=self._url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])
        for message in messages:
            try:
                self._handler(json.loads(message["Body"]), LocalLambdaContext("fanout"))
                self.delivered += 1
            except Exception:
                log.exception("the fan-out failed on an event")
        if messages:
            self._client.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
