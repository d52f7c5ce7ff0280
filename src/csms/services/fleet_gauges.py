"""The fleet gauges the dashboard shows: chargers online and open transactions, all tenants."""

from __future__ import annotations

from csms.domain.connections import ConnectionCensus
from csms.domain.transactions import OpenTransactionCensus


class FleetGauges:
    def __init__(self, connections: ConnectionCensus, transactions: OpenTransactionCensus) -> None:
        self._connections = connections
        self._transactions = transactions

    def read(self) -> dict[str, int]:
        return {
            "chargers_online": self._connections.count_connected(),
            "open_transactions": self._transactions.count_open_transactions(),
        }
