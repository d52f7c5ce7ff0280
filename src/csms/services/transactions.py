"""Transactions functional block: starts, stops, events and meter values, from either protocol.

Every method returns only after its unit of work committed: the protocol adapter
acknowledges a transaction-related message only once it is durable.

Entry points:

- 1.6 reports a transaction in two messages: :meth:`TransactionService.start` (the CSMS
  allocates the id) and :meth:`TransactionService.stop`, with :meth:`meter_values` between.
- 2.0.1 reports it as a series of events the station numbers: :meth:`record_event` applies one
  (any type, in any order, any number of times) and says what to answer. Meter values outside
  transactions (2.0.1 MeterValues) go to :meth:`meter_values` too.

How an event is applied (:func:`changes`):

- the transaction is found by (station, transactionId) or created by whichever event comes
  first; a retried event (the same seqNo, type, time and trigger) changes nothing and gets the
  answer it got the first time;
- "latest" fields follow seqNo order, not arrival: the charging state is the one of the
  highest-numbered event that carries one; ``seq_no`` is the highest applied;
- start data comes from the Started event when there is one (until then the earliest event's
  time stands for the start), the authorising token from the first event carrying one (the
  one an Ended or a StopAuthorized event carries is the stopping token), EVSE and connector
  from the first event naming them, remoteStartId and reservationId from the first carrying
  them;
- meter_start is the Transaction.Begin register reading, else the earliest register reading;
  meter_stop the Transaction.End reading, else the latest (never guessed: no reading, no
  value); energy is meter_stop - meter_start;
- an event numbered above everything applied to an ended transaction is kept and flagged
  (``event-after-end``, one TransactionFlagged event), not applied;
- an event with an id token gets the token's verdict (as Authorize: unknown tokens Unknown,
  expired ones Expired), ConcurrentTx when the token is in another transaction still going
  on; a start or update answered other than Accepted marks the transaction deauthorized.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from csms.domain.events import DomainEvent, iso, new_event, token_data
from csms.domain.metering import UNKNOWN_EVSE, MeterSample
from csms.domain.reservations import ReservationStatus, UsedReservation, reservation_event
from csms.domain.stations import ChargerContext
from csms.domain.storage import Database, UnitOfWork
from csms.domain.tokens import AuthorizationStatus, IdTokenInfo
from csms.domain.transactions import (
    BEGIN,
    END,
    EventReceived,
    FlagReason,
    StoppedTransaction,
    Transaction,
    TransactionChanges,
    TransactionEventIn,
    TransactionEventType,
    TransactionStart,
    TransactionStop,
    flagged_event,
    stopped_data,
    transaction_data,
)
from csms.services.authorization import id_token_info


@dataclass(frozen=True, slots=True)
class StartResult:
    transaction: Transaction
    id_token_info: IdTokenInfo


@dataclass(frozen=True, slots=True)
class StopResult:
    stopped: StoppedTransaction
    id_token_info: IdTokenInfo | None


@dataclass(frozen=True, slots=True)
class TransactionEventResult:
    """What applying a TransactionEvent did, and what the station is to be answered."""

    #: The transaction as it is now.
    transaction: Transaction
    #: The verdict on the event's id token (None when it carried none): 2.0.1 idTokenInfo.
    id_token_info: IdTokenInfo | None
    #: This event created the transaction (the first of its events the CSMS saw).
    created: bool = False
    #: A retried event: nothing changed, and the answer is the first one's.
    duplicate: bool = False
    #: It came after the transaction's end (kept and flagged, not applied).
    after_end: bool = False


class TransactionService:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- 1.6 -------------------------------------------------------------------------------

    def start(self, ctx: ChargerContext, start: TransactionStart, now: datetime) -> StartResult:
        """Record a started transaction and allocate its id (1.6 StartTransaction).

        The station has already started charging (possibly offline), so the transaction is
        recorded whatever the token's status, with the status answered (ConcurrentTx when the
        token is in another transaction still going on); a retried start is answered as the
        first time.
        """

        def work(uow: UnitOfWork) -> StartResult:
            info = id_token_info(uow, ctx.tenant_id, start.id_token, now)
            # One card, one session: checked before the insert, which this start supersedes
            # the transactions of its own EVSE in (see token_in_use).
            if info.status is AuthorizationStatus.ACCEPTED and uow.transactions.token_in_use(
                ctx.tenant_id,
                start.id_token,
                starting_at=(ctx.charge_point_id, start.evse_id, start.timestamp),
            ):
                info = replace(info, status=AuthorizationStatus.CONCURRENT_TX)
            transaction, created = uow.transactions.start(
                ctx.tenant_id, ctx.charge_point_id, start, info.status, now
            )
            if not created and transaction.start_auth_status is not None:
                info = replace(info, status=transaction.start_auth_status)
            used = None
            if start.reservation_id is not None:  # the station used a reservation for it
                used = uow.transactions.use_reservation(
                    ctx.tenant_id,
                    ctx.charge_point_id,
                    start.reservation_id,
                    transaction.id,
                    started_at=start.timestamp,
                    at=now,
                )
            if created:
                uow.events.add(_started_event(ctx, transaction, now))
            if used is not None:
                uow.events.add(_used_event(ctx, used, transaction, now))
            return StartResult(transaction=transaction, id_token_info=info)

        return self._db.run(work)

    def stop(self, ctx: ChargerContext, stop: TransactionStop, now: datetime) -> StopResult:
        """Close a transaction (or record the stop of an unknown one) with its meter data
        (1.6 StopTransaction)."""

        def work(uow: UnitOfWork) -> StopResult:
            stopped = uow.transactions.stop(ctx.tenant_id, ctx.charge_point_id, stop, now)
            if stopped.stopped_now:
                uow.events.add(_stop_event(ctx, stop, stopped, now))
                if stopped.transaction is not None:
                    _flag_if_meter_went_backwards(uow, stopped.transaction, now)
            elif stopped.corrected is not None and stopped.transaction is not None:
                replaced = stopped_data(stopped.corrected, "csms")
                uow.events.add(
                    new_event(
                        "TransactionStopCorrected",
                        ctx.tenant_id,
                        ctx.charge_point_id,
                        now,
                        {
                            **stopped_data(stopped.transaction, "charger"),
                            "previousMeterStop": replaced["meterStop"],
                            "previousStopTimestamp": replaced["stopTimestamp"],
                            "previousEnergyWh": replaced["energyWh"],
                        },
                    )
                )
            if stopped.transaction is not None and stop.transaction_data:
                uow.meter_values.add_samples(
                    ctx.tenant_id,
                    ctx.charge_point_id,
                    _evse(stopped.transaction),
                    stopped.transaction.transaction_id,
                    stop.transaction_data,
                    now,
                )
            info = None
            if stop.id_token is not None:
                info = id_token_info(uow, ctx.tenant_id, stop.id_token, now)
            return StopResult(stopped=stopped, id_token_info=info)

        return self._db.run(work)

    # --- both ----------------------------------------------------------------------------------

    def meter_values(
        self,
        ctx: ChargerContext,
        evse_id: int,
        transaction_id: str | None,
        samples: Sequence[MeterSample],
        now: datetime,
    ) -> int:
        """Store sampled values of an EVSE (0: the station's main meter); returns how many
        were new (retries add none). They belong to the transaction of protocol id
        ``transaction_id`` only if it is one of this station's (1.6 MeterValues; a 2.0.1
        MeterValues names none). Samples taken after their transaction ended are kept, and
        the transaction is flagged ``meter-values-after-stop`` (one TransactionFlagged event):
        the station and the CSMS disagree on whether it runs."""

        def work(uow: UnitOfWork) -> int:
            added = uow.meter_values.add_samples(
                ctx.tenant_id, ctx.charge_point_id, evse_id, transaction_id, samples, now
            )
            if added.new:
                uow.events.add(
                    _samples_event(
                        ctx, evse_id, added.transaction_pk, transaction_id, added.new, samples, now
                    )
                )
            if added.after_stop and added.transaction_pk is not None:
                flagged = uow.transactions.flag(added.transaction_pk, FlagReason.METER_VALUES_AFTER_STOP, now)
                if flagged is not None:
                    uow.events.add(flagged_event(flagged, FlagReason.METER_VALUES_AFTER_STOP, now, now))
            return added.new

        return self._db.run(work)

    # --- 2.0.1 -------------------------------------------------------------------------------

    def record_event(
        self, ctx: ChargerContext, event: TransactionEventIn, now: datetime
    ) -> TransactionEventResult:
        """Apply one TransactionEvent (2.0.1): see the module docstring. Never refuses one: an
        unknown transaction is created, an unknown token answered Unknown (a CALLERROR would
        make the station retry the event until it discards it)."""

        def work(uow: UnitOfWork) -> TransactionEventResult:
            received = uow.transactions.receive_event(ctx.tenant_id, ctx.charge_point_id, event, now)
            before = received.transaction
            info = None
            if event.id_token is not None:
                info = id_token_info(uow, ctx.tenant_id, event.id_token, now)
            if not received.new:
                if info is not None and received.answered is not None:
                    info = replace(info, status=received.answered)
                return TransactionEventResult(before, info, duplicate=True)
            if (
                info is not None
                and not event.stops
                and info.status is AuthorizationStatus.ACCEPTED
                and uow.transactions.token_in_use(ctx.tenant_id, event.id_token, exclude=before.id)  # type: ignore[arg-type]
            ):
                info = replace(info, status=AuthorizationStatus.CONCURRENT_TX)
            added = None
            if event.meter_values:
                evse = before.evse_id if before.evse_id is not None else event.evse_id
                added = uow.meter_values.add_samples(
                    ctx.tenant_id,
                    ctx.charge_point_id,
                    evse if evse is not None else UNKNOWN_EVSE,
                    event.transaction_id,
                    event.meter_values,
                    now,
                )
            update = changes(before, received, event, info, now)
            after = uow.transactions.apply(
                before.id, update, received.event_pk, info.status if info is not None else None
            )
            if before.evse_id is None and after.evse_id is not None and not received.created:
                uow.meter_values.assign_evse(after.id, after.evse_id)
            if received.created:
                uow.events.add(_started_event(ctx, after, now))
            if added is not None and added.new:
                uow.events.add(
                    _samples_event(
                        ctx, _evse(after), after.id, after.transaction_id, added.new, event.meter_values, now
                    )
                )
            if event.reservation_id is not None and before.reservation_id is None and not received.after_end:
                used = uow.transactions.use_reservation(
                    ctx.tenant_id,
                    ctx.charge_point_id,
                    event.reservation_id,
                    after.id,
                    after.start_timestamp,
                    now,
                )
                if used is not None:
                    uow.events.add(_used_event(ctx, used, after, now))
            if after.ended and not before.ended:
                uow.events.add(
                    new_event(
                        "TransactionStopped",
                        ctx.tenant_id,
                        ctx.charge_point_id,
                        now,
                        stopped_data(after, "charger"),
                    )
                )
            if after.ended and not before.ended:
                after = _flag_if_meter_went_backwards(uow, after, now)
            if received.after_end:
                flagged = uow.transactions.flag(after.id, FlagReason.EVENT_AFTER_END, now)
                if flagged is not None:
                    uow.events.add(flagged_event(flagged, FlagReason.EVENT_AFTER_END, now, now))
                    after = flagged
            if after.charging_state is not before.charging_state and after.evse_id is not None:
                self._charging_state_changed(uow, ctx, after, event, now)
            return TransactionEventResult(after, info, created=received.created, after_end=received.after_end)

        return self._db.run(work)

    @staticmethod
    def _charging_state_changed(
        uow: UnitOfWork,
        ctx: ChargerContext,
        transaction: Transaction,
        event: TransactionEventIn,
        now: datetime,
    ) -> None:
        """A 2.0.1 station tells charging apart in its transaction, not in its status: the
        transaction's connector (its EVSE's occupied ones, connector unknown) takes the new
        charging state, with a history row, as a 1.6 status report would have set it."""
        assert transaction.evse_id is not None
        assert transaction.charging_state is not None
        for recorded in uow.connectors.record_charging_state(
            ctx.tenant_id,
            ctx.charge_point_id,
            transaction.evse_id,
            transaction.connector_id,
            transaction.charging_state,
            event.timestamp,
            now,
        ):
            uow.events.add(
                new_event(
                    "ConnectorStatusChanged",
                    ctx.tenant_id,
                    ctx.charge_point_id,
                    now,
                    {
                        "evseId": recorded.status.evse_id,
                        "connectorId": recorded.status.connector_id,
                        "status": recorded.status.status,
                        "state": recorded.status.state.value,
                        "chargingState": transaction.charging_state.value,
                        "errorCode": recorded.status.error_code,
                        "info": recorded.status.info,
                        "vendorId": recorded.status.vendor_id,
                        "vendorErrorCode": recorded.status.vendor_error_code,
                        "statusTimestamp": iso(event.timestamp),
                        "previousStatus": recorded.status.status,
                        "previousState": recorded.status.state.value,
                        "previousChargingState": _value(recorded.previous_charging_state),
                        "previousErrorCode": recorded.status.error_code,
                    },
                )
            )


def changes(
    before: Transaction,
    received: EventReceived,
    event: TransactionEventIn,
    info: IdTokenInfo | None,
    now: datetime,
) -> TransactionChanges:
    """What ``event`` changes on the transaction it belongs to (the rules are in the module
    docstring). An event after the end changes nothing but is kept."""
    if received.after_end:
        return _unchanged(before)
    started = event.event_type is TransactionEventType.STARTED
    ended = event.event_type is TransactionEventType.ENDED
    # The start: the Started event's time, else the earliest event's until one comes.
    start_timestamp = before.start_timestamp
    if (started and not received.started_seen) or (
        not received.started_seen and event.timestamp < before.start_timestamp
    ):
        start_timestamp = event.timestamp
    evse_id, connector_id = before.evse_id, before.connector_id
    if evse_id is None:
        evse_id, connector_id = event.evse_id, event.connector_id
    elif connector_id is None and event.evse_id == evse_id:
        connector_id = event.connector_id
    id_token, auth_status, stop_token = before.id_token, before.start_auth_status, before.stop_id_token
    deauthorized_at = before.deauthorized_at
    if event.id_token is not None and info is not None:
        if event.stops:
            stop_token = stop_token or event.id_token
        else:
            if id_token is None:
                id_token, auth_status = event.id_token, info.status
            if info.status is not AuthorizationStatus.ACCEPTED and deauthorized_at is None:
                deauthorized_at = now
    charging_state = before.charging_state
    if event.charging_state is not None and (
        received.charging_state_seq_no is None or event.seq_no >= received.charging_state_seq_no
    ):
        charging_state = event.charging_state
    meter_start, meter_start_at, meter_start_context = _start_reading(before, event.meter_values)
    meter_stop, meter_stop_at, meter_stop_context = _stop_reading(before, event.meter_values)
    newly_ended = ended and not before.ended
    return TransactionChanges(
        start_timestamp=start_timestamp,
        evse_id=evse_id,
        connector_id=connector_id,
        id_token=id_token,
        start_auth_status=auth_status,
        meter_start=meter_start,
        meter_start_at=meter_start_at,
        meter_start_context=meter_start_context,
        meter_stop=meter_stop,
        meter_stop_at=meter_stop_at,
        meter_stop_context=meter_stop_context,
        stop_timestamp=event.timestamp if newly_ended else before.stop_timestamp,
        stop_reason=event.stopped_reason if newly_ended else before.stop_reason,
        stop_id_token=stop_token,
        charging_state=charging_state,
        seq_no=max(before.seq_no if before.seq_no is not None else -1, event.seq_no),
        remote_start_id=before.remote_start_id
        if before.remote_start_id is not None
        else event.remote_start_id,
        reservation_id=before.reservation_id if before.reservation_id is not None else event.reservation_id,
        deauthorized_at=deauthorized_at,
        offline=before.offline or event.offline,
        started_received_at=now if start_timestamp != before.start_timestamp else None,
        stopped_received_at=now if newly_ended else None,
    )


def _unchanged(before: Transaction) -> TransactionChanges:
    return TransactionChanges(
        start_timestamp=before.start_timestamp,
        evse_id=before.evse_id,
        connector_id=before.connector_id,
        id_token=before.id_token,
        start_auth_status=before.start_auth_status,
        meter_start=before.meter_start,
        meter_start_at=before.meter_start_at,
        meter_start_context=before.meter_start_context,
        meter_stop=before.meter_stop,
        meter_stop_at=before.meter_stop_at,
        meter_stop_context=before.meter_stop_context,
        stop_timestamp=before.stop_timestamp,
        stop_reason=before.stop_reason,
        stop_id_token=before.stop_id_token,
        charging_state=before.charging_state,
        seq_no=before.seq_no,
        remote_start_id=before.remote_start_id,
        reservation_id=before.reservation_id,
        deauthorized_at=before.deauthorized_at,
        offline=before.offline,
        started_received_at=None,
        stopped_received_at=None,
    )


Reading = tuple[int | None, datetime | None, str | None]


def _readings(samples: Sequence[MeterSample]) -> list[tuple[float, MeterSample]]:
    return [(wh, s) for s in samples if (wh := s.register_wh()) is not None]


def _start_reading(before: Transaction, samples: Sequence[MeterSample]) -> Reading:
    """meter_start: the earliest Transaction.Begin reading, else the earliest register reading."""
    current: Reading = (before.meter_start, before.meter_start_at, before.meter_start_context)
    for wh, sample in sorted(_readings(samples), key=lambda r: r[1].timestamp):
        stored_begin = current[2] == BEGIN
        new_begin = sample.context == BEGIN
        if (
            current[0] is None
            or (new_begin and not stored_begin)
            or (new_begin == stored_begin and current[1] is not None and sample.timestamp < current[1])
        ):
            current = (round(wh), sample.timestamp, sample.context)
    return current


def _stop_reading(before: Transaction, samples: Sequence[MeterSample]) -> Reading:
    """meter_stop: the latest Transaction.End reading, else the latest register reading."""
    current: Reading = (before.meter_stop, before.meter_stop_at, before.meter_stop_context)
    for wh, sample in sorted(_readings(samples), key=lambda r: r[1].timestamp):
        stored_end = current[2] == END
        new_end = sample.context == END
        if (
            current[0] is None
            or (new_end and not stored_end)
            or (new_end == stored_end and current[1] is not None and sample.timestamp >= current[1])
        ):
            current = (round(wh), sample.timestamp, sample.context)
    return current


def _flag_if_meter_went_backwards(uow: UnitOfWork, transaction: Transaction, now: datetime) -> Transaction:
    """Flag a transaction that ended with negative energy (its meter replaced or reset while it
    ran): stored as the station said, never corrected, but not billed unseen."""
    energy = transaction.energy_wh
    if energy is None or energy >= 0:
        return transaction
    flagged = uow.transactions.flag(transaction.id, FlagReason.METER_WENT_BACKWARDS, now)
    if flagged is None:
        return transaction
    uow.events.add(flagged_event(flagged, FlagReason.METER_WENT_BACKWARDS, now, now))
    return flagged


def _evse(transaction: Transaction) -> int:
    return transaction.evse_id if transaction.evse_id is not None else UNKNOWN_EVSE


def _value(member: Any) -> Any:
    return member.value if member is not None else None


def sample_data(sample: MeterSample) -> dict[str, Any]:
    return {
        "timestamp": iso(sample.timestamp),
        "measurand": sample.measurand,
        "phase": sample.phase,
        "unit": sample.unit,
        "context": sample.context,
        "location": sample.location,
        "format": sample.format,
        "value": sample.value,
    }


def _samples_event(
    ctx: ChargerContext,
    evse_id: int,
    transaction_pk: int | None,
    transaction_id: str | None,
    new: int,
    samples: Sequence[MeterSample],
    now: datetime,
) -> DomainEvent:
    return new_event(
        "MeterValuesReceived",
        ctx.tenant_id,
        ctx.charge_point_id,
        now,
        {
            "evseId": evse_id,
            "transactionRef": transaction_pk,
            "transactionId": transaction_id if transaction_pk is not None else None,
            "newSamples": new,
            "samples": [sample_data(sample) for sample in samples],
        },
    )


def _started_event(ctx: ChargerContext, transaction: Transaction, now: datetime) -> DomainEvent:
    return new_event(
        "TransactionStarted",
        ctx.tenant_id,
        ctx.charge_point_id,
        now,
        {
            **transaction_data(transaction),
            "authorizationStatus": _value(transaction.start_auth_status),
            "deauthorized": transaction.deauthorized_at is not None,
        },
    )


def _used_event(
    ctx: ChargerContext, used: UsedReservation, transaction: Transaction, now: datetime
) -> DomainEvent:
    return reservation_event(
        ctx.tenant_id,
        ctx.charge_point_id,
        used.reservation_id,
        used.evse_id,
        used.id_token,
        used.expiry_date,
        ReservationStatus.USED,
        transaction.id,
        now,
    )


def _stop_event(
    ctx: ChargerContext, stop: TransactionStop, stopped: StoppedTransaction, now: datetime
) -> DomainEvent:
    if stopped.transaction is not None:
        return new_event(
            "TransactionStopped",
            ctx.tenant_id,
            ctx.charge_point_id,
            now,
            stopped_data(stopped.transaction, "charger"),
        )
    return new_event(
        "UnknownTransactionStopRecorded",
        ctx.tenant_id,
        ctx.charge_point_id,
        now,
        {
            "transactionId": stop.transaction_id,
            "idToken": token_data(stop.id_token),
            "meterStop": stop.meter_stop,
            "stopTimestamp": iso(stop.timestamp),
            "reason": stop.reason,
        },
    )
