"""command-timeouts: server CALLs past their deadline become timed_out and free the charger's
slot; chargers whose queue stalled are sent their next command."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from csms.jobs.context import JobServices


def run(services: JobServices, now: datetime) -> dict[str, Any]:
    from aws_lambda_powertools.metrics import MetricUnit

    from csms.observability import metrics

    result = services.commands.sweep(now=now)
    metrics.add_metric(name="CommandsTimedOut", unit=MetricUnit.Count, value=result["timed_out"])
    return result
