"""fleet-gauges: the ChargersOnline and OpenTransactions metrics the dashboard shows."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def run(now: datetime) -> dict[str, Any]:
    from aws_lambda_powertools.metrics import MetricUnit

    from csms.app import wiring
    from csms.observability import metrics

    online = wiring.connections().count_connected()
    open_transactions = wiring.database().count_open_transactions()
    metrics.add_metric(name="ChargersOnline", unit=MetricUnit.Count, value=online)
    metrics.add_metric(name="OpenTransactions", unit=MetricUnit.Count, value=open_transactions)
    return {"chargers_online": online, "open_transactions": open_transactions}
