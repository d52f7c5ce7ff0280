"""Transactions: charging sessions, from the charger's start to its stop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from csms.domain.events import DomainEvent, iso
from csms.domain.metering import MeterSample
from csms.domain.reservations import UsedReservation
from csms.domain.tokens import AuthorizationStatus

#: OCPP 1.6: StopTransaction.reason "MAY only be omitted when the Reason is Local".
DEFAULT_STOP_REASON = "Local"


@dataclass(frozen=True, slots=True)
class TransactionStart:
    """A StartTransaction as reported by a charge point."""

    connector_id: int
    id_tag: str
    meter_start: int
    timestamp: datetime
    reservation_id: int | None = None


@dataclass(frozen=True, slots=True)
class TransactionStop:
    """A StopTransaction as reported by a charge point."""

    transaction_id: int
    meter_stop: int
    timestamp: datetime
    reason: str | None = None
    id_tag: str | None = None
    transaction_data: tuple[MeterSample, ...] = ()
    raw_transaction_data: list[Any] | None = None


@dataclass(frozen=True, slots=True)
class Transaction:
    """A charging session."""

    id: int
    tenant_id: str
    charge_point_id: str
    connector_id: int
    id_tag: str
    meter_start: int
    start_timestamp: datetime
    reservation_id: int | None = None
    meter_stop: int | None = None
    stop_timestamp: datetime | None = None
    stop_reason: str | None = None
    stop_id_tag: str | None = None


@dataclass(frozen=True, slots=True)
class StoppedTransaction:
    """Outcome of recording a StopTransaction."""

    transaction: Transaction | None
    #: True when no transaction with that id exists for the charger; the stop was recorded
    #: for an operator instead.
    unknown: bool = False
    #: True when this call recorded the stop (False for a retried frame).
    stopped_now: bool = False
    #: The CSMS's own close this stop replaced (stuck-transactions closed it first).
    corrected: Transaction | None = None


class TransactionRepository(Protocol):
    def start(
        self,
        tenant_id: str,
        charge_point_id: str,
        start: TransactionStart,
        auth_status: AuthorizationStatus,
        received_at: datetime,
    ) -> tuple[Transaction, bool]:
        """Record a start and allocate its transaction id. Idempotent: the same start
        (charger, connector, tag, meterStart, timestamp) returns the same transaction.
        The flag says whether this call created it."""
        ...

    def open_transaction_ids(self, charge_point_id: str) -> list[int]:
        """The charger's transactions without a stop."""
        ...

    def is_concurrent(self, transaction: Transaction) -> bool:
        """Whether the transaction's tag was already in another of the tenant's open
        transactions: one allocated before it (a retried start is answered as the first time)
        that no newer transaction on its own connector has superseded (OCPP delivers a
        charger's transaction messages in order, so that one has ended; see
        :mod:`csms.services.stuck_transactions`)."""
        ...

    def use_reservation(
        self,
        tenant_id: str,
        charge_point_id: str,
        reservation_id: int,
        transaction_id: int,
        started_at: datetime,
        at: datetime,
    ) -> UsedReservation | None:
        """Mark the charger's reservation used by the transaction: an open one, or an expired
        one the transaction started before it expired. None if none was (a retry, unknown id)."""
        ...

    def stop(
        self, tenant_id: str, charge_point_id: str, stop: TransactionStop, received_at: datetime
    ) -> StoppedTransaction:
        """Close the transaction; a repeat is harmless. An id unknown for this charger is
        recorded as an unknown-transaction stop."""
        ...


class OpenTransactionCensus(Protocol):
    def count_open_transactions(self) -> int:
        """Transactions without a stop, all tenants."""
        ...


def transaction_data(transaction: Transaction) -> dict[str, Any]:
    """The fields every transaction event carries."""
    return {
        "transactionId": transaction.id,
        "connectorId": transaction.connector_id,
        "idTag": transaction.id_tag,
        "meterStart": transaction.meter_start,
        "startTimestamp": iso(transaction.start_timestamp),
        "reservationId": transaction.reservation_id,
    }


def stopped_data(transaction: Transaction, closed_by: str) -> dict[str, Any]:
    """TransactionStopped's data for a transaction with its stop recorded."""
    assert transaction.meter_stop is not None
    assert transaction.stop_timestamp is not None
    return {
        **transaction_data(transaction),
        "meterStop": transaction.meter_stop,
        "stopTimestamp": iso(transaction.stop_timestamp),
        "reason": transaction.stop_reason,
        "stopIdTag": transaction.stop_id_tag,
        "energyWh": transaction.meter_stop - transaction.meter_start,
        "closedBy": closed_by,
    }


# --- the operators' view (csms.services.sessions) ---------------------------------------------


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


# --- transactions their charger will probably never stop (csms.services.stuck_transactions) ----


@dataclass(frozen=True, slots=True)
class Superseded:
    """An open transaction whose charger has since started a newer one on the same connector."""

    transaction_id: int
    successor_id: int
    successor_start: datetime


class StuckTransactionStore(Protocol):
    """The stuck-transactions job's reads and conditional changes, each made with its event."""

    def superseded(self, limit: int) -> list[Superseded]: ...

    def close(self, candidate: Superseded, now: datetime) -> DomainEvent | None: ...

    def flag_idle(self, cutoff: datetime, now: datetime, reason: str, limit: int) -> list[DomainEvent]: ...

    def flag_rebooted(
        self, booted_before: datetime, now: datetime, reason: str, limit: int
    ) -> list[DomainEvent]: ...
