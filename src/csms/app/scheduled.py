"""The scheduled function: one job per schedule (csms.schedules), each idempotent and safe to
run twice or late. The jobs themselves live in :mod:`csms.jobs`, one module each, with a
``run(services, now) -> dict`` that reports what it did; this module hands them the
composition root's :class:`csms.jobs.context.JobServices`."""

from __future__ import annotations

import importlib
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from csms.observability import bind_invocation, reset_invocation

log = logging.getLogger(__name__)

Job = Callable[[datetime], dict[str, Any]]


def _job(module: str) -> Job:
    def run(now: datetime) -> dict[str, Any]:
        from csms.app.containers import job_services

        job = importlib.import_module(f"csms.jobs.{module}")
        result: dict[str, Any] = job.run(job_services(), now)
        return result

    run.__name__ = module
    return run


#: Job name → what it runs (names match csms.schedules.SCHEDULES).
JOBS: dict[str, Job] = {
    "liveness": _job("liveness"),
    "command-timeouts": _job("command_timeouts"),
    "reservations": _job("reservations"),
    "stuck-transactions": _job("stuck_transactions"),
    "meter-housekeeping": _job("meter_housekeeping"),
    "event-delivery": _job("event_delivery"),
    "fleet-gauges": _job("fleet_gauges"),
    "load-allocation": _job("load_allocation"),
}


def run(job: str, now: datetime | None = None) -> dict[str, Any]:
    """Run one job now (or as if at ``now``); raises KeyError for an unknown name. The
    events it produces carry the correlation id ``job:{name}:{runId}`` and are published
    before it returns."""
    from csms.app import wiring
    from csms.domain.events import correlation

    runner = JOBS[job]
    try:
        with correlation(f"job:{job}:{uuid.uuid4()}"):
            return runner(now or wiring.clock().now())
    finally:
        wiring.flush_events()


def load_triggers(event: dict[str, Any]) -> dict[str, Any]:
    """The domain events the load-trigger rules put on their SQS queue (csms.load_triggers):
    each record's body is an EventBridge event whose detail is the event's envelope."""
    from csms.app import wiring
    from csms.aws.eventbus import envelopes_of
    from csms.domain.events import correlation

    envelopes = envelopes_of(event)
    try:
        with correlation(f"job:load-triggers:{uuid.uuid4()}"):
            # A site that fails is left to the minute's job; anything else raises and the batch
            # comes back (reallocating is idempotent).
            return wiring.load_management().on_events(envelopes, wiring.clock().now())
    finally:
        wiring.flush_events()


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    reset_invocation()
    if "Records" in event:
        bind_invocation(job="load-triggers")
        result = load_triggers(event)
        log.info("load triggers done", extra={"result": result})
        return {"job": "load-triggers", **result}
    job = str(event.get("job", ""))
    bind_invocation(job=job)
    if job not in JOBS:
        # A misconfigured schedule must be loud, not retried forever.
        log.error("unknown job", extra={"known": sorted(JOBS)})
        raise ValueError(f"unknown job {job!r}; known: {', '.join(sorted(JOBS))}")
    result = run(job)
    log.info("job done", extra={"result": result})
    return {"job": job, **result}
