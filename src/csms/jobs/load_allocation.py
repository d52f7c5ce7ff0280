"""load-allocation: reallocate every site with an electrical tree (ADR 0024), then forget
allocations older than the retention (CSMS_LOAD_ALLOCATION_RETENTION_DAYS, 7). The safety net of
load management: it picks up what no event announces (a live load that expired, a schedule
period that began, a station gone silent, a trigger lost) and drives on a plan whose answers were
missed."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from csms.jobs.context import JobServices


def run(services: JobServices, now: datetime) -> dict[str, Any]:
    result: dict[str, Any] = services.load_management.reallocate_all(now)
    result["pruned"] = services.load_management.prune(now)
    return result
