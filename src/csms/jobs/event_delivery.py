"""event-delivery: publish domain events the request that produced them could not (the bus
was down, the function timed out after committing), dead-letter those that used up their
attempts, and prune the event log past its retention period."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def run(now: datetime) -> dict[str, Any]:
    from aws_lambda_powertools.metrics import MetricUnit

    from csms.app import wiring
    from csms.observability import add_count, metrics

    result = wiring.event_relay().redeliver(now)
    add_count("EventsRedelivered", result["published"])
    add_count("EventsDeadLettered", result["dead_lettered"])
    metrics.add_metric(name="EventBacklog", unit=MetricUnit.Count, value=result["backlog"])
    return result
