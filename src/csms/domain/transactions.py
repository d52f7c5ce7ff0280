"""Transactions: charging sessions, from the station's start to its stop, in either protocol.

A transaction has our id (``id``, allocated by the database) and the protocol's
(``transaction_id``, text, unique per station): a 1.6 charge point is given ``str(id)`` (its
integer transactionId), a 2.0.1 station chooses its own string. A 1.6 transaction is recorded
by StartTransaction and StopTransaction; a 2.0.1 one by a series of TransactionEvents
(Started, Updated, Ended) numbered by seqNo, which may arrive out of order and be retried
(:mod:`csms.services.transactions` applies them). Both leave the same row and the same
``transaction_events`` log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, Protocol

from csms.domain.events import DomainEvent, iso, new_event, token_data
from csms.domain.metering import MeterSample
from csms.domain.reservations import UsedReservation
from csms.domain.stations import ChargingState
from csms.domain.tokens import AuthorizationStatus, IdToken

#: OCPP: a stop reason "MAY only be omitted when the Reason is Local" (1.6; 2.0.1 alike).
DEFAULT_STOP_REASON: Final = "Local"


class TransactionEventType(StrEnum):
    STARTED = "Started"
    UPDATED = "Updated"
    ENDED = "Ended"


class FlagReason(StrEnum):
    """Why a transaction was flagged for an operator (set once, never cleared automatically)."""

    #: No meter value or status for too long (stuck-transactions).
    NO_ACTIVITY = "no-activity"
    #: Its station booted after it started and has not stopped it (stuck-transactions).
    CHARGER_REBOOTED = "charger-rebooted"
    #: The CSMS refused its token (start or update) and the station has not stopped it.
    DEAUTHORIZED_NOT_STOPPED = "deauthorized-not-stopped"
    #: Meter values arrived for it after its stop (1.6): the station still counts it as running.
    METER_VALUES_AFTER_STOP = "meter-values-after-stop"
    #: An event with a seqNo above its Ended arrived (2.0.1): the station still counts it running.
    EVENT_AFTER_END = "event-after-end"
    #: It ended with a stop reading below its start (a meter replaced or reset mid-session): its
    #: energy is negative, to be checked before it is billed.
    METER_WENT_BACKWARDS = "meter-went-backwards"


#: The register an event's Transaction.Begin / Transaction.End reading carries.
BEGIN, END = "Transaction.Begin", "Transaction.End"


@dataclass(frozen=True, slots=True)
class TransactionStart:
    """A start reported in one message (1.6 StartTransaction): the CSMS allocates the id."""

    evse_id: int
    connector_id: int
    id_token: IdToken
    meter_start: int
    timestamp: datetime
    reservation_id: int | None = None


@dataclass(frozen=True, slots=True)
class TransactionStop:
    """A stop reported in one message (1.6 StopTransaction), by the protocol's transaction id."""

    transaction_id: str
    meter_stop: int
    timestamp: datetime
    reason: str | None = None
    id_token: IdToken | None = None
    transaction_data: tuple[MeterSample, ...] = ()
    raw_transaction_data: list[Any] | None = None


@dataclass(frozen=True, slots=True)
class TransactionEventIn:
    """One event of a transaction the station numbers (2.0.1 TransactionEventRequest), with
    its meter values normalized (value x 10^multiplier, unit; see
    :func:`csms.domain.metering.scaled`)."""

    event_type: TransactionEventType
    #: The station's id of the transaction (transactionInfo.transactionId).
    transaction_id: str
    timestamp: datetime
    trigger_reason: str
    seq_no: int
    offline: bool = False
    #: Where it happens; usually only in the first event after the EV connected.
    evse_id: int | None = None
    connector_id: int | None = None
    #: Present when authorisation happens in this event (Authorized, StopAuthorized, ...).
    id_token: IdToken | None = None
    charging_state: ChargingState | None = None
    stopped_reason: str | None = None
    remote_start_id: int | None = None
    reservation_id: int | None = None
    meter_values: tuple[MeterSample, ...] = ()

    @property
    def stops(self) -> bool:
        """Its id token is the one that stops the transaction (not the one that authorises it)."""
        return self.event_type is TransactionEventType.ENDED or self.trigger_reason == "StopAuthorized"


@dataclass(frozen=True, slots=True)
class Transaction:
    """A charging session."""

    #: Ours (the database's); for 1.6 also the protocol's, as a number.
    id: int
    #: The protocol's (1.6: ``str(id)``; 2.0.1: the station's).
    transaction_id: str
    tenant_id: str
    charge_point_id: str
    start_timestamp: datetime
    protocol: str = "ocpp1.6"
    #: None until an event names them (2.0.1 sends the EVSE in its first event after plug-in).
    evse_id: int | None = None
    connector_id: int | None = None
    #: The token that authorised it; None until one did (2.0.1 may start without).
    id_token: IdToken | None = None
    #: What the CSMS answered for that token.
    start_auth_status: AuthorizationStatus | None = None
    #: Wh; None until a register reading says (never assumed 0).
    meter_start: int | None = None
    reservation_id: int | None = None
    meter_stop: int | None = None
    stop_timestamp: datetime | None = None
    stop_reason: str | None = None
    stop_id_token: IdToken | None = None
    charging_state: ChargingState | None = None
    #: The highest seqNo applied (2.0.1).
    seq_no: int | None = None
    remote_start_id: int | None = None
    #: When the CSMS answered its start or an update with a status other than Accepted.
    deauthorized_at: datetime | None = None
    #: Any of its events happened while the station was offline.
    offline: bool = False
    meter_start_at: datetime | None = None
    meter_start_context: str | None = None
    meter_stop_at: datetime | None = None
    meter_stop_context: str | None = None
    flagged_at: datetime | None = None
    flag_reason: str | None = None
    closed_by: str | None = None

    @property
    def ended(self) -> bool:
        return self.stop_timestamp is not None

    @property
    def energy_wh(self) -> int | None:
        """meterStop - meterStart once ended and both are known."""
        if not self.ended or self.meter_stop is None or self.meter_start is None:
            return None
        return self.meter_stop - self.meter_start


@dataclass(frozen=True, slots=True)
class StoppedTransaction:
    """Outcome of recording a stop (1.6 StopTransaction)."""

    transaction: Transaction | None
    #: True when no transaction with that id exists for the charger; the stop was recorded
    #: for an operator instead.
    unknown: bool = False
    #: True when this call recorded the stop (False for a retried frame).
    stopped_now: bool = False
    #: The CSMS's own close this stop replaced (stuck-transactions closed it first).
    corrected: Transaction | None = None


@dataclass(frozen=True, slots=True)
class EventReceived:
    """What storing one TransactionEvent found (before its effects are applied)."""

    #: The transaction as it was before this event (just created from it, if ``created``).
    transaction: Transaction
    created: bool
    #: False for a retried event (already stored: it changes nothing).
    new: bool
    #: The stored event (None for a retry).
    event_pk: int | None = None
    #: Its seqNo is above every one applied to a transaction already ended: kept, not applied.
    after_end: bool = False
    #: A Started event was stored before this one.
    started_seen: bool = False
    #: The seqNo of the event that set the stored charging state (None: none did).
    charging_state_seq_no: int | None = None
    #: For a retried event: what its id token was answered the first time.
    answered: AuthorizationStatus | None = None


@dataclass(frozen=True, slots=True)
class TransactionChanges:
    """The fields an event changes on its transaction: every one, computed by the service."""

    start_timestamp: datetime
    evse_id: int | None
    connector_id: int | None
    id_token: IdToken | None
    start_auth_status: AuthorizationStatus | None
    meter_start: int | None
    meter_start_at: datetime | None
    meter_start_context: str | None
    meter_stop: int | None
    meter_stop_at: datetime | None
    meter_stop_context: str | None
    stop_timestamp: datetime | None
    stop_reason: str | None
    stop_id_token: IdToken | None
    charging_state: ChargingState | None
    seq_no: int | None
    remote_start_id: int | None
    reservation_id: int | None
    deauthorized_at: datetime | None
    offline: bool
    started_received_at: datetime | None
    stopped_received_at: datetime | None


class TransactionRepository(Protocol):
    def start(
        self,
        tenant_id: str,
        charge_point_id: str,
        start: TransactionStart,
        auth_status: AuthorizationStatus,
        received_at: datetime,
    ) -> tuple[Transaction, bool]:
        """Record a start, allocate its id, and log its Started event. Idempotent: the same
        start (station, EVSE, token, meterStart, timestamp) returns the same transaction. The
        flag says whether this call created it."""
        ...

    def token_in_use(
        self,
        tenant_id: str,
        token: IdToken,
        *,
        exclude: int | None = None,
        starting_at: tuple[str, int | None, datetime] | None = None,
    ) -> bool:
        """Whether the token is in another of the tenant's transactions that is still going
        on: open, started Accepted and not deauthorized since, and not superseded (a newer
        transaction on its EVSE; OCPP delivers a station's transaction messages in order).
        ``exclude`` is a transaction to leave out (the one asking); ``starting_at`` (station,
        EVSE, start) is a start about to be recorded, which supersedes the transactions of its
        EVSE begun at or before it."""
        ...

    def open_transaction_ids(self, charge_point_id: str) -> list[int]:
        """The charger's transactions without a stop (ours)."""
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
        """Mark the charger's reservation used by the transaction (ours): an open one, or an
        expired one the transaction started before it expired. None if none was (a retry, an
        unknown id)."""
        ...

    def stop(
        self, tenant_id: str, charge_point_id: str, stop: TransactionStop, received_at: datetime
    ) -> StoppedTransaction:
        """Close the transaction and log its Ended event; a repeat is harmless. An id unknown for
        this charger is recorded as an unknown-transaction stop."""
        ...

    def receive_event(
        self, tenant_id: str, charge_point_id: str, event: TransactionEventIn, received_at: datetime
    ) -> EventReceived:
        """Find or create the transaction (station, transactionId) and store the event in its
        log, unless it is stored already (a retry). Holds the transaction's row until the unit
        of work ends, so two events of one transaction are applied one after the other."""
        ...

    def apply(
        self,
        transaction_pk: int,
        changes: TransactionChanges,
        event_pk: int | None = None,
        answered: AuthorizationStatus | None = None,
    ) -> Transaction:
        """Write what an event changed, and what its id token was answered (kept for its
        retries); the transaction as it is now."""
        ...

    def flag(self, transaction_pk: int, reason: FlagReason, at: datetime) -> Transaction | None:
        """Flag the transaction for an operator unless it is flagged already; None then."""
        ...


class OpenTransactionCensus(Protocol):
    def count_open_transactions(self) -> int:
        """Transactions without a stop, all tenants."""
        ...


# --- events ---------------------------------------------------------------------------------


def transaction_data(transaction: Transaction) -> dict[str, Any]:
    """The fields every transaction event carries."""
    return {
        "transactionRef": transaction.id,
        "transactionId": transaction.transaction_id,
        "protocol": transaction.protocol,
        "evseId": transaction.evse_id,
        "connectorId": transaction.connector_id,
        "idToken": token_data(transaction.id_token),
        "meterStart": transaction.meter_start,
        "startTimestamp": iso(transaction.start_timestamp),
        "reservationId": transaction.reservation_id,
        "remoteStartId": transaction.remote_start_id,
    }


def stopped_data(transaction: Transaction, closed_by: str) -> dict[str, Any]:
    """TransactionStopped's data for a transaction with its stop recorded."""
    assert transaction.stop_timestamp is not None
    return {
        **transaction_data(transaction),
        "meterStop": transaction.meter_stop,
        "stopTimestamp": iso(transaction.stop_timestamp),
        "reason": transaction.stop_reason,
        "stopIdToken": token_data(transaction.stop_id_token),
        "energyWh": transaction.energy_wh,
        "closedBy": closed_by,
        "deauthorized": transaction.deauthorized_at is not None,
    }


def flagged_event(
    transaction: Transaction, reason: str, last_activity: datetime, at: datetime
) -> DomainEvent:
    """TransactionFlagged: the transaction was flagged for an operator, and why."""
    return new_event(
        "TransactionFlagged",
        transaction.tenant_id,
        transaction.charge_point_id,
        at,
        {
            "transactionRef": transaction.id,
            "transactionId": transaction.transaction_id,
            "evseId": transaction.evse_id,
            "connectorId": transaction.connector_id,
            "idToken": token_data(transaction.id_token),
            "startTimestamp": iso(transaction.start_timestamp),
            "reason": reason,
            "lastActivityAt": iso(last_activity),
        },
    )


# --- the operators' view (csms.services.sessions) ---------------------------------------------


@dataclass(frozen=True, slots=True)
class TransactionRecord:
    """A transaction with the energy the database computed for it (see the module docstring
    of :mod:`csms.services.sessions`)."""

    transaction: Transaction
    energy_wh: int | None = None
    #: When the energy figure was measured: the stop, or the latest register sample.
    energy_measured_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.transaction.stop_timestamp is None

    @property
    def effective_closed_by(self) -> str | None:
        """Who closed it: ``charger`` (its stop) or ``csms``; None while open."""
        if self.open:
            return None
        return self.transaction.closed_by or "charger"

    def duration_seconds(self, now: datetime) -> int:
        """Seconds from start to stop, or to ``now`` while open (never negative)."""
        t = self.transaction
        end = t.stop_timestamp if t.stop_timestamp is not None else now
        return max(0, int((end - t.start_timestamp).total_seconds()))

    @property
    def effective_stop_reason(self) -> str | None:
        if self.open:
            return None
        return self.transaction.stop_reason or DEFAULT_STOP_REASON


@dataclass(frozen=True, slots=True)
class TransactionQuery:
    charge_point_id: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    #: The station's id of the transaction.
    transaction_id: str | None = None
    #: The authorising token's value (case-insensitive, any type).
    id_token: str | None = None
    #: On the start time: ``start <= started_at < end``.
    start: datetime | None = None
    end: datetime | None = None
    #: True: only open; False: only closed; None: both.
    open: bool | None = None
    #: True: only those flagged for an operator; False: only unflagged; None: both.
    flagged: bool | None = None
    #: True: only those the CSMS deauthorized; False: only the others.
    deauthorized: bool | None = None
    #: ``charger`` or ``csms``: only closed transactions closed by it.
    closed_by: str | None = None
    protocol: str | None = None
    sort: str = "startedAt"  # startedAt | stoppedAt | energyWh
    descending: bool = True
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class TransactionEventRecord:
    """One event of a transaction, as received (1.6 starts and stops log one each)."""

    seq_no: int | None
    event_type: TransactionEventType
    trigger_reason: str | None
    timestamp: datetime
    offline: bool
    received_at: datetime
    evse_id: int | None = None
    connector_id: int | None = None
    charging_state: str | None = None
    stopped_reason: str | None = None
    id_token: IdToken | None = None
    id_token_status: str | None = None
    remote_start_id: int | None = None
    reservation_id: int | None = None
    meter_values: int = 0
    after_end: bool = False


@dataclass(frozen=True, slots=True)
class UnknownStop:
    """A 1.6 StopTransaction for a transactionId the charger's tenant never had."""

    id: int
    charge_point_id: str
    transaction_id: str
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

    def get(self, tenant_id: str, transaction_pk: int) -> TransactionRecord | None: ...

    def events(self, tenant_id: str, transaction_pk: int) -> list[TransactionEventRecord]:
        """The transaction's events in seqNo order (then time, then arrival)."""
        ...

    def unknown_stops(self, tenant_id: str, query: UnknownStopQuery) -> tuple[list[UnknownStop], int]: ...


# --- transactions their charger will probably never stop (csms.services.stuck_transactions) ----


@dataclass(frozen=True, slots=True)
class Superseded:
    """An open transaction whose charger has since started a newer one on the same EVSE."""

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

    def flag_deauthorized(
        self, deauthorized_before: datetime, now: datetime, reason: str, limit: int
    ) -> list[DomainEvent]: ...
