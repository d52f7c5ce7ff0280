"""The scheduled function: one job per schedule, each idempotent and safe to run twice or late."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from csms.observability import bind_invocation, reset_invocation

log = logging.getLogger(__name__)


def _command_timeouts() -> dict[str, Any]:
    from aws_lambda_powertools.metrics import MetricUnit

    from csms.app import wiring
    from csms.observability import metrics

    result = wiring.commands().sweep()
    metrics.add_metric(name="CommandsTimedOut", unit=MetricUnit.Count, value=result["timed_out"])
    return result


def _fleet_gauges() -> dict[str, Any]:
    from aws_lambda_powertools.metrics import MetricUnit

    from csms.app import wiring
    from csms.observability import metrics

    online = wiring.connections().count_connected()
    open_transactions = wiring.database().count_open_transactions()
    metrics.add_metric(name="ChargersOnline", unit=MetricUnit.Count, value=online)
    metrics.add_metric(name="OpenTransactions", unit=MetricUnit.Count, value=open_transactions)
    return {"chargers_online": online, "open_transactions": open_transactions}


def _reservation_expiry() -> dict[str, Any]:
    from csms.app import wiring

    return {"expired": wiring.reservations().expire_reservations(wiring.clock().now())}


#: Job name → what it runs (names match csms.schedules.SCHEDULES).
JOBS: dict[str, Callable[[], dict[str, Any]]] = {
    "command-timeouts": _command_timeouts,
    "fleet-gauges": _fleet_gauges,
    "reservation-expiry": _reservation_expiry,
}


def run(job: str) -> dict[str, Any]:
    """Run one job now; raises KeyError for an unknown name."""
    return JOBS[job]()


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    reset_invocation()
    job = str(event.get("job", ""))
    bind_invocation(job=job)
    if job not in JOBS:
        # A misconfigured schedule must be loud, not retried forever.
        log.error("unknown job", extra={"known": sorted(JOBS)})
        raise ValueError(f"unknown job {job!r}; known: {', '.join(sorted(JOBS))}")
    result = run(job)
    log.info("job done", extra={"result": result})
    return {"job": job, **result}
