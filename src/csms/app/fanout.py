"""The fan-out (ADR 0025): an EventBridge rule on the domain-event bus invokes it with each
event; it posts the event's envelope (the ``detail``) to every live console of its tenant.

Locally ``csms dev`` plays the rule's part: the same rule on moto's bus delivers to a queue
that the stack polls, invoking this function with the EventBridge event (csms.local.stack).
"""

from __future__ import annotations

import logging
from typing import Any

from csms.observability import bind_invocation, reset_invocation
from csms.services.console_live import ConsoleLive

log = logging.getLogger(__name__)


def handle(event: dict[str, Any], context: Any, live: ConsoleLive | None = None) -> dict[str, Any]:
    reset_invocation()
    envelope = event.get("detail")
    if not isinstance(envelope, dict):
        log.warning(
            "an event without a detail object ignored", extra={"detail_type": event.get("detail-type")}
        )
        return {"sent": 0, "dropped": 0, "failed": 0}
    bind_invocation(event_id=envelope.get("id"), tenant_id=envelope.get("tenantId"))
    if live is None:
        from csms.app import wiring

        live = wiring.console_fanout()
    outcome = live.fan_out(envelope)
    return {"sent": outcome.sent, "dropped": outcome.dropped, "failed": outcome.failed}
