"""stuck-transactions: open transactions superseded by a newer one on the same connector are
closed (closedBy csms); those left open by a charger reboot or without activity for too long
are flagged for an operator. Nothing is deleted. The rules are in
:mod:`csms.services.stuck_transactions`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from csms.jobs.context import JobServices


def run(services: JobServices, now: datetime) -> dict[str, Any]:
    from csms.observability import add_count

    result = services.stuck_transactions.run(now)
    add_count("TransactionsClosedByCsms", result["closed"])
    add_count(
        "TransactionsFlagged",
        result["flagged_rebooted"] + result["flagged_deauthorized"] + result["flagged_idle"],
    )
    return result
