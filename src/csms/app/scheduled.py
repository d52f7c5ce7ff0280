"""The scheduled function: one job per schedule, each idempotent and safe to run twice or late."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from csms.observability import bind_invocation, reset_invocation

log = logging.getLogger(__name__)


def _command_timeouts() -> dict[str, Any]:
    from csms.app import wiring

    return wiring.commands().sweep()


#: Job name → what it runs (names match csms.schedules.SCHEDULES).
JOBS: dict[str, Callable[[], dict[str, Any]]] = {
    "command-timeouts": _command_timeouts,
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
