"""command-timeouts: server CALLs past their deadline become timed_out and free the charger's
slot; chargers whose queue stalled are sent their next command."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from csms.jobs.context import JobServices


def run(services: JobServices, now: datetime) -> dict[str, Any]:
    from csms.observability import add_count

    result = services.commands.sweep(now=now)
    add_count("CommandsTimedOut", result["timed_out"])
    return result
