"""meter-housekeeping (hourly): monthly ``meter_samples`` partitions ahead of time, the daily
energy rollup the energy report reads, and retention of old meter samples, in that order.
The rules are in :mod:`csms.services.meter_housekeeping`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from csms.jobs.context import JobServices


def run(services: JobServices, now: datetime) -> dict[str, Any]:
    from aws_lambda_powertools.metrics import MetricUnit

    from csms.observability import add_count, metrics

    result = services.meter_housekeeping.run(now)
    for name, key in (
        ("MeterPartitionsCreated", "partitions_created"),
        ("MeterSamplesMoved", "samples_moved"),
        ("MeterPartitionsDropped", "partitions_dropped"),
        ("MeterSamplesDeleted", "samples_deleted"),
        ("EnergyDaysRolledUp", "days_rolled_up"),
    ):
        add_count(name, result[key])  # counts: sent when not 0 (billed per hour sent)
    metrics.add_metric(name="EnergyDaysPending", unit=MetricUnit.Count, value=result["days_pending"])
    return result
