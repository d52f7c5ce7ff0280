"""The fan-out (ADR 0025): a rule on the domain-event bus puts every event on an SQS queue; this
function takes them in batches (up to a second's worth) and posts each batch's events to the
live consoles of their tenants, one message per console for what fits in one.

Locally ``csms dev`` plays Lambda's part: it polls the same kind of queue, which the same rule
on moto's bus fills, and invokes this function with SQS events (csms.local.stack).
"""

from __future__ import annotations

import logging
from typing import Any

from csms.aws.eventbus import envelopes_of
from csms.observability import reset_invocation
from csms.services.console_live import ConsoleLive

log = logging.getLogger(__name__)


def handle(event: dict[str, Any], context: Any, live: ConsoleLive | None = None) -> dict[str, Any]:
    """Never reports failures back: a live event retried later would arrive out of date; a
    console that missed one reads it from the feed."""
    reset_invocation()
    envelopes = envelopes_of(event)
    if live is None:
        from csms.app import wiring

        live = wiring.console_fanout()
    outcome = live.fan_out(envelopes) if envelopes else None
    return {
        "events": len(envelopes),
        "sent": outcome.sent if outcome else 0,
        "dropped": outcome.dropped if outcome else 0,
        "failed": outcome.failed if outcome else 0,
    }
