"""stuck-transactions: open transactions superseded by a newer one on the same connector are
closed (closedBy csms); those left open by a charger reboot or without activity for too long
are flagged for an operator. Nothing is deleted. The rules are in
:mod:`csms.services.stuck_transactions`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any


def run(now: datetime) -> dict[str, Any]:
    from csms.app import wiring
    from csms.data.stuck_transactions import PgStuckTransactions
    from csms.observability import add_count
    from csms.services.stuck_transactions import StuckTransactionPolicy, StuckTransactionService

    settings = wiring.settings()
    service = StuckTransactionService(
        PgStuckTransactions(wiring.database()),
        StuckTransactionPolicy(
            idle=timedelta(hours=settings.stuck_transaction_idle_hours),
            reboot_grace=timedelta(minutes=settings.reboot_grace_minutes),
        ),
    )
    result = service.run(now)
    add_count("TransactionsClosedByCsms", result["closed"])
    add_count("TransactionsFlagged", result["flagged_rebooted"] + result["flagged_idle"])
    return result
