"""Charging sessions as operators read them: transactions with energy and duration, and the
stops of transactions the CSMS did not know (recorded by the Core StopTransaction handler).

Energy of a transaction, in Wh:

* closed: ``meterStop - meterStart`` (None when either is unknown: a 2.0.1 transaction without
  register readings);
* open: the latest ``Energy.Active.Import.Register`` sample of the transaction (no phase,
  unit Wh or kWh, taken at or after the start) minus ``meterStart``, rounded to the Wh;
  None while the station has sent no such sample.

Both are reported as they are, even when negative (a replaced or reset meter): the API does
not hide what the charger said.
"""

from __future__ import annotations

from datetime import datetime

from csms.clock import Clock
from csms.domain.tenancy import TenantScope
from csms.domain.transactions import (
    SessionQueries,
    TransactionEventRecord,
    TransactionQuery,
    TransactionRecord,
    UnknownStop,
    UnknownStopQuery,
)
from csms.errors import InvalidInput, NotFound


def _check_range(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and start >= end:
        raise InvalidInput("from must be before to")


class SessionService:
    def __init__(self, queries: SessionQueries, clock: Clock) -> None:
        self._queries = queries
        self._clock = clock

    def now(self) -> datetime:
        return self._clock.now()

    def search(self, scope: TenantScope, query: TransactionQuery) -> tuple[list[TransactionRecord], int]:
        _check_range(query.start, query.end)
        return self._queries.search(scope.tenant_id, query)

    def get(self, scope: TenantScope, transaction_pk: int) -> TransactionRecord:
        """A transaction by our id."""
        found = self._queries.get(scope.tenant_id, transaction_pk)
        if found is None:
            raise NotFound(f"no transaction {transaction_pk}")
        return found

    def events(self, scope: TenantScope, transaction_pk: int) -> list[TransactionEventRecord]:
        """A transaction's events, in seqNo order (a 1.6 one has its Started and its Ended)."""
        self.get(scope, transaction_pk)
        return self._queries.events(scope.tenant_id, transaction_pk)

    def unknown_stops(self, scope: TenantScope, query: UnknownStopQuery) -> tuple[list[UnknownStop], int]:
        _check_range(query.start, query.end)
        return self._queries.unknown_stops(scope.tenant_id, query)
