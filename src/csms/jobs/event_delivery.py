"""event-delivery: publish domain events the request that produced them could not (the bus
was down, the function timed out after committing), dead-letter those that used up their
attempts, and prune the event log past its retention period."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from csms.jobs.context import JobServices


def run(services: JobServices, now: datetime) -> dict[str, Any]:
    from aws_lambda_powertools.metrics import MetricUnit

    from csms.observability import add_count, metrics

    # Events parked while PostgreSQL was down are recorded first (then published below).
    recovered = services.parked_events.recover()
    add_count("EventsRecovered", recovered["recovered"])
    result = services.event_relay.redeliver(now)
    result.update(recovered)
    add_count("EventsRedelivered", result["published"])
    add_count("EventsDeadLettered", result["dead_lettered"])
    metrics.add_metric(name="EventBacklog", unit=MetricUnit.Count, value=result["backlog"])
    return result
