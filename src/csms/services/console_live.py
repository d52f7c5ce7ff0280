"""Console live updates (ADR 0025): admit operators' live connections, fan each published
domain event out to its tenant's consoles, drop the connections API Gateway reports gone.

Nothing here knows WebSockets or DynamoDB: the subscribers are a
:class:`csms.domain.live.LiveSubscribers`, the socket a :class:`csms.domain.connections.FrameSender`
(API Gateway's @connections of the operators' WebSocket API).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
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
    """What one batch's fan-out did: messages sent, consoles dropped (gone), failed sends."""

    sent: int
    dropped: int
    failed: int


def _compact(envelope: Mapping[str, Any]) -> str:
    return json.dumps(envelope, separators=(",", ":"))


def _fitting(envelope: Mapping[str, Any]) -> str:
    """An envelope as JSON; one too large for a WebSocket message goes without its ``data`` and
    says so (``dataOmitted``): the console reads it from ``GET /api/v1/events``."""
    text = _compact(envelope)
    if len(text.encode("utf-8")) <= _ROOM:
        return text
    return _compact({**envelope, "data": {}, "dataOmitted": True})


#: What a message may hold besides its wrapper, under API Gateway's 128 KB.
_ROOM = MAX_MESSAGE_BYTES - 64


def messages_of(envelopes: Sequence[Mapping[str, Any]]) -> list[str]:
    """The texts a console receives for these events, in their order: ``{"events": [...]}``, as
    many envelopes (the bus's ``detail``, a feed item without ``sequence``) as fit in one message.
    API Gateway bills a message per 32 KB, so a second's events cost one message, not one each."""
    messages: list[str] = []
    current: list[str] = []
    size = 0
    for envelope in envelopes:
        text = _fitting(envelope)
        if current and size + len(text.encode("utf-8")) + 1 > _ROOM:
            messages.append('{"events":[' + ",".join(current) + "]}")
            current, size = [], 0
        current.append(text)
        size += len(text.encode("utf-8")) + 1
    if current:
        messages.append('{"events":[' + ",".join(current) + "]}")
    return messages


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

    def fan_out(self, envelopes: Sequence[Mapping[str, Any]]) -> FanOut:
        """Send a batch of events to every live console of each event's tenant (one Query per
        tenant, one message per console for what fits in one). A connection API Gateway says is
        gone is forgotten; any other failure is logged and the others still get their events
        (a console catches up from the feed when it reconnects)."""
        if self._sender is None:
            raise RuntimeError("this ConsoleLive has no @connections sender: it cannot fan out")
        by_tenant: dict[str, list[Mapping[str, Any]]] = {}
        for envelope in envelopes:
            tenant_id = envelope.get("tenantId")
            if isinstance(tenant_id, str) and tenant_id:
                by_tenant.setdefault(tenant_id, []).append(envelope)
            else:
                log.warning(
                    "an event without a tenant is not fanned out", extra={"event_id": envelope.get("id")}
                )
        sent = dropped = failed = 0
        for tenant_id, events in by_tenant.items():
            connections = self._subscribers.of_tenant(tenant_id)
            if not connections:
                continue
            messages = messages_of(events)
            for connection_id in connections:
                for message in messages:
                    try:
                        self._sender.send(connection_id, message)
                        sent += 1
                    except ConnectionGone:
                        self._subscribers.remove(connection_id)
                        dropped += 1
                        break
                    except Exception:
                        log.exception(
                            "could not post events to a console", extra={"connection_id": connection_id}
                        )
                        failed += 1
        return FanOut(sent, dropped, failed)
