"""Charging sessions as operators read them: transactions with energy and duration, and the
stops of transactions the CSMS did not know (recorded by the Core StopTransaction handler).

Energy of a transaction, in Wh:

* closed: ``meterStop - meterStart``;
* open: the latest ``Energy.Active.Import.Register`` sample of the transaction (no phase,
  unit Wh or kWh, taken at or after the start) minus ``meterStart``, rounded to the Wh;
  None while the charger has sent no such sample.

Both are reported as they are, even when negative (a replaced or reset meter): the API does
not hide what the charger said.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from csms.clock import Clock
from csms.errors import InvalidInput, NotFound

#: OCPP 1.6: StopTransaction.reason "MAY only be omitted when the Reason is Local".
DEFAULT_STOP_REASON = "Local"


@dataclass(frozen=True, slots=True)
class TransactionRecord:
    """A transaction with the energy the database computed for it (see the module docstring)."""

    id: int
    charge_point_id: str
    connector_id: int
    id_tag: str
    start_auth_status: str
    meter_start: int
    started_at: datetime
    reservation_id: int | None = None
    meter_stop: int | None = None
    stopped_at: datetime | None = None
    stop_reason: str | None = None
    stop_id_tag: str | None = None
    energy_wh: int | None = None
    #: When the energy figure was measured: the stop, or the latest register sample.
    energy_measured_at: datetime | None = None
    #: Set once by the stuck-transactions job (csms.services.stuck_transactions).
    flagged_at: datetime | None = None
    flag_reason: str | None = None
    #: 'csms' when the CSMS closed it (a newer transaction superseded it); None otherwise.
    closed_by: str | None = None

    @property
    def open(self) -> bool:
        return self.stopped_at is None

    @property
    def effective_closed_by(self) -> str | None:
        """Who closed it: ``charger`` (its StopTransaction) or ``csms``; None while open."""
        if self.open:
            return None
        return self.closed_by or "charger"

    def duration_seconds(self, now: datetime) -> int:
        """Seconds from start to stop, or to ``now`` while open (never negative)."""
        end = self.stopped_at if self.stopped_at is not None else now
        return max(0, int((end - self.started_at).total_seconds()))

    @property
    def effective_stop_reason(self) -> str | None:
        if self.open:
            return None
        return self.stop_reason or DEFAULT_STOP_REASON


@dataclass(frozen=True, slots=True)
class TransactionQuery:
    charge_point_id: str | None = None
    connector_id: int | None = None
    id_tag: str | None = None
    #: On the start time: ``start <= started_at < end``.
    start: datetime | None = None
    end: datetime | None = None
    #: True: only open; False: only closed; None: both.
    open: bool | None = None
    #: True: only those flagged for an operator; False: only unflagged; None: both.
    flagged: bool | None = None
    #: ``charger`` or ``csms``: only closed transactions closed by it.
    closed_by: str | None = None
    sort: str = "startedAt"  # startedAt | stoppedAt | energyWh
    descending: bool = True
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class UnknownStop:
    """A StopTransaction for a transactionId the charger's tenant never had."""

    id: int
    charge_point_id: str
    transaction_id: int
    meter_stop: int
    stopped_at: datetime
    received_at: datetime
    id_tag: str | None = None
    reason: str | None = None
    transaction_data: list[Any] | None = None


@dataclass(frozen=True, slots=True)
class UnknownStopQuery:
    charge_point_id: str | None = None
    #: On the time the stop was received: ``start <= received_at < end``.
    start: datetime | None = None
    end: datetime | None = None
    descending: bool = True
    limit: int = 50
    offset: int = 0


class SessionQueries(Protocol):
    def search(self, tenant_id: str, query: TransactionQuery) -> tuple[list[TransactionRecord], int]:
        """One page of the tenant's matching transactions and the number of all matches."""
        ...

    def get(self, tenant_id: str, transaction_id: int) -> TransactionRecord | None: ...

    def unknown_stops(self, tenant_id: str, query: UnknownStopQuery) -> tuple[list[UnknownStop], int]: ...


def _check_range(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and start >= end:
        raise InvalidInput("from must be before to")


class SessionService:
    def __init__(self, queries: SessionQueries, clock: Clock) -> None:
        self._queries = queries
        self._clock = clock

    def now(self) -> datetime:
        return self._clock.now()

    def search(self, tenant_id: str, query: TransactionQuery) -> tuple[list[TransactionRecord], int]:
        _check_range(query.start, query.end)
        return self._queries.search(tenant_id, query)

    def get(self, tenant_id: str, transaction_id: int) -> TransactionRecord:
        found = self._queries.get(tenant_id, transaction_id)
        if found is None:
            raise NotFound(f"no transaction {transaction_id}")
        return found

    def unknown_stops(self, tenant_id: str, query: UnknownStopQuery) -> tuple[list[UnknownStop], int]:
        _check_range(query.start, query.end)
        return self._queries.unknown_stops(tenant_id, query)
