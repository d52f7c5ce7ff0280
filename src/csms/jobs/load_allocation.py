"""load-allocation: reallocate every site with an electrical tree (ADR 0024). The safety net of
load management: it picks up what no event announces (a live load that expired, a schedule
period that began, a station gone silent) and, until the event trigger lands, bounds how long
a transaction start waits for its share to a minute."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from csms.jobs.context import JobServices


def run(services: JobServices, now: datetime) -> dict[str, Any]:
    return services.load_management.reallocate_all(now)
