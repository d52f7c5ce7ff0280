"""Transactions functional block: start, stop and meter values.

Every method returns only after its unit of work committed: the protocol adapter
acknowledges a transaction-related message only once it is durable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from csms.domain.events import DomainEvent, iso, new_event
from csms.domain.metering import MeterSample
from csms.domain.reservations import ReservationStatus, reservation_event
from csms.domain.stations import ChargerContext
from csms.domain.storage import Database, UnitOfWork
from csms.domain.tokens import AuthorizationStatus, IdToken, IdTokenInfo
from csms.domain.transactions import (
    StoppedTransaction,
    Transaction,
    TransactionStart,
    TransactionStop,
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


class TransactionService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def start(self, ctx: ChargerContext, start: TransactionStart, now: datetime) -> StartResult:
        """Record a started transaction and allocate its id.

        The charger has already started charging (possibly offline), so the transaction is
        recorded whatever the tag's status; the answer tells the charger whether to go on.
        """

        def work(uow: UnitOfWork) -> StartResult:
            info = id_token_info(uow, ctx.tenant_id, IdToken(start.id_tag), now)
            transaction, created = uow.transactions.start(
                ctx.tenant_id, ctx.charge_point_id, start, info.status, now
            )
            used = None
            if start.reservation_id is not None:  # the charger used a reservation for it
                used = uow.transactions.use_reservation(
                    ctx.tenant_id,
                    ctx.charge_point_id,
                    start.reservation_id,
                    transaction.id,
                    started_at=start.timestamp,
                    at=now,
                )
            # One card, one session: an earlier open transaction of the tag makes this one
            # ConcurrentTx (checked after the insert, which supersedes a transaction left open
            # on the same connector).
            if info.status is AuthorizationStatus.ACCEPTED and uow.transactions.is_concurrent(transaction):
                info = replace(info, status=AuthorizationStatus.CONCURRENT_TX)
            if created:
                uow.events.add(
                    new_event(
                        "TransactionStarted",
                        ctx.tenant_id,
                        ctx.charge_point_id,
                        now,
                        {**transaction_data(transaction), "authorizationStatus": info.status.value},
                    )
                )
            if used is not None:
                uow.events.add(
                    reservation_event(
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
                )
            return StartResult(transaction=transaction, id_token_info=info)

        return self._db.run(work)

    def stop(self, ctx: ChargerContext, stop: TransactionStop, now: datetime) -> StopResult:
        """Close a transaction (or record the stop of an unknown one) with its meter data."""

        def work(uow: UnitOfWork) -> StopResult:
            stopped = uow.transactions.stop(ctx.tenant_id, ctx.charge_point_id, stop, now)
            if stopped.stopped_now:
                uow.events.add(_stop_event(ctx, stop, stopped, now))
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
                    stopped.transaction.connector_id,
                    stopped.transaction.id,
                    stop.transaction_data,
                    now,
                )
            info = None
            if stop.id_tag is not None:
                info = id_token_info(uow, ctx.tenant_id, IdToken(stop.id_tag), now)
            return StopResult(stopped=stopped, id_token_info=info)

        return self._db.run(work)

    def meter_values(
        self,
        ctx: ChargerContext,
        connector_id: int,
        transaction_id: int | None,
        samples: Sequence[MeterSample],
        now: datetime,
    ) -> int:
        """Store sampled values; returns how many were new (retries add none). They belong to
        ``transaction_id`` only if it is one of this charger's transactions."""

        def work(uow: UnitOfWork) -> int:
            added = uow.meter_values.add_samples(
                ctx.tenant_id, ctx.charge_point_id, connector_id, transaction_id, samples, now
            )
            if added.new:
                uow.events.add(
                    new_event(
                        "MeterValuesReceived",
                        ctx.tenant_id,
                        ctx.charge_point_id,
                        now,
                        {
                            "connectorId": connector_id,
                            "transactionId": added.transaction_id,
                            "newSamples": added.new,
                            "samples": [sample_data(sample) for sample in samples],
                        },
                    )
                )
            return added.new

        return self._db.run(work)


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
            "idTag": stop.id_tag,
            "meterStop": stop.meter_stop,
            "stopTimestamp": iso(stop.timestamp),
            "reason": stop.reason,
        },
    )
