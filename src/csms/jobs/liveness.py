"""liveness: chargers silent for longer than twice their heartbeat interval (plus slack) are
marked offline, with a ChargerWentOffline event; connection records whose connection API
Gateway says is gone are closed. The rules are in :mod:`csms.services.liveness`.

Cost: one paginated DynamoDB Scan of the connections table per run (every 5 minutes), with a
projection and a filter (:meth:`csms.aws.connections.DynamoConnectionStore.liveness_scan`),
one PostgreSQL query for the suspects' heartbeat intervals, and a consistent GetItem plus a
``GET @connections`` per charger that looks silent."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from csms.jobs.context import JobServices


def run(services: JobServices, now: datetime) -> dict[str, Any]:
    from csms.observability import add_count

    result = services.liveness.run(now)
    add_count("ChargersWentOffline", result["offline"])
    return result
