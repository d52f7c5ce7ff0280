"""Transactions: charging sessions, from the charger's start to its stop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from csms.domain.metering import MeterSample
from csms.domain.reservations import UsedReservation
from csms.domain.tokens import AuthorizationStatus


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
