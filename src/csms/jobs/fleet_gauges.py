"""fleet-gauges: the ChargersOnline and OpenTransactions metrics the dashboard shows."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from csms.jobs.context import JobServices


def run(services: JobServices, now: datetime) -> dict[str, Any]:
    from aws_lambda_powertools.metrics import MetricUnit

    from csms.observability import metrics

    gauges = services.fleet_gauges.read()
    metrics.add_metric(name="ChargersOnline", unit=MetricUnit.Count, value=gauges["chargers_online"])
    metrics.add_metric(name="OpenTransactions", unit=MetricUnit.Count, value=gauges["open_transactions"])
    return gauges
