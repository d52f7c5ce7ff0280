"""Console live updates (ADR 0025): admit operators' live connections, fan each published
domain event out to its tenant's consoles, drop the connections API Gateway reports gone.

Nothing here knows WebSockets or DynamoDB: the subscribers are a
:class:`csms.domain.live.LiveSubscribers`, the socket a :class:`csms.domain.connections.FrameSender`
(API Gateway's @connections of the operators' WebSocket API).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from csms.constants import LIVE_TOKEN_PREFIX, MAX_MESSAGE_BYTES
from csms.domain.connections import FrameSender
from csms.domain.events import EVENT_SOURCE
from csms.domain.live import LiveSubscriber, LiveSubscribers
from csms.domain.tenancy import Role
from csms.errors import ConnectionGone

log = logging.getLogger(__name__)

#: The events the live rule on the bus routes to the fan-out: every domain event (the console's
#: event feed page shows them all; the other pages pick by station, transaction, command).
EVENT_PATTERN: dict[str, Any] = {"source": [EVENT_SOURCE]}


def offered_token(protocols: str | None) -> str | None:
    """The bearer token a console offers as the subprotocol ``bearer.<JWT>`` among those of
    its ``Sec-WebSocket-Protocol`` header (comma separated), or None."""
    for offered in (protocols or "").split(","):
        offered = offered.strip()
        if offered.startswith(LIVE_TOKEN_PREFIX) and len(offered) > len(LIVE_TOKEN_PREFIX):
            return offered[len(LIVE_TOKEN_PREFIX) :]
    return None


@dataclass(frozen=True, slots=True)
class FanOut:
    """What one event's fan-out did."""

    sent: int
    dropped: int
    failed: int


def message_of(envelope: Mapping[str, Any]) -> str:
    """The text a console receives for one event: its envelope as compact JSON (the same
    JSON as the bus's ``detail`` and a feed item without ``sequence``). One that would exceed
    API Gateway's 128 KB message goes without its ``data`` and says so (``dataOmitted``):
    the console reads it from ``GET /api/v1/events``."""
    text = json.dumps(envelope, separators=(",", ":"))
    if len(text.encode("utf-8")) <= MAX_MESSAGE_BYTES:
        return text
    return json.dumps({**envelope, "data": {}, "dataOmitted": True}, separators=(",", ":"))


class ConsoleLive:
    def __init__(
        self, subscribers: LiveSubscribers, sender: FrameSender | None, now: Callable[[], datetime]
    ) -> None:
        self._subscribers = subscribers
        self._sender = sender
        self._now = now

    def admit(self, connection_id: str, tenant_id: str, role: Role, subject: str) -> LiveSubscriber:
        """Record a console connection the authorizer admitted (any role: viewers read too)."""
        subscriber = LiveSubscriber(connection_id, tenant_id, role, subject, self._now())
        self._subscribers.add(subscriber)
        return subscriber

    def leave(self, connection_id: str) -> None:
        self._subscribers.remove(connection_id)

    def fan_out(self, envelope: Mapping[str, Any]) -> FanOut:
        """Send one event to every live console of its tenant. A connection API Gateway says
        is gone is forgotten; any other failure is logged and the others still get the event
        (the console catches up from the feed when it reconnects)."""
        if self._sender is None:
            raise RuntimeError("this ConsoleLive has no @connections sender: it cannot fan out")
        tenant_id = envelope.get("tenantId")
        if not isinstance(tenant_id, str) or not tenant_id:
            log.warning("an event without a tenant is not fanned out", extra={"event_id": envelope.get("id")})
            return FanOut(0, 0, 0)
        connections = self._subscribers.of_tenant(tenant_id)
        if not connections:
            return FanOut(0, 0, 0)
        message = message_of(envelope)
        sent = dropped = failed = 0
        for connection_id in connections:
            try:
                self._sender.send(connection_id, message)
                sent += 1
            except ConnectionGone:
                self._subscribers.remove(connection_id)
                dropped += 1
            except Exception:
                log.exception("could not post an event to a console", extra={"connection_id": connection_id})
                failed += 1
        return FanOut(sent, dropped, failed)
