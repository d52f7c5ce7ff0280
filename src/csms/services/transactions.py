"""Transactions functional block: start, stop and meter values.

Every method returns only after its unit of work committed: the protocol adapter
acknowledges a transaction-related message only once it is durable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from csms.domain import (
    AuthorizationStatus,
    ChargerContext,
    IdTagInfo,
    MeterSample,
    StoppedTransaction,
    Transaction,
    TransactionStart,
    TransactionStop,
)
from csms.ports import Database, UnitOfWork
from csms.services.authorization import id_tag_info


@dataclass(frozen=True, slots=True)
class StartResult:
    transaction: Transaction
    id_tag_info: IdTagInfo


@dataclass(frozen=True, slots=True)
class StopResult:
    stopped: StoppedTransaction
    id_tag_info: IdTagInfo | None


class TransactionService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def start(self, ctx: ChargerContext, start: TransactionStart, now: datetime) -> StartResult:
        """Record a started transaction and allocate its id.

        The charger has already started charging (possibly offline), so the transaction is
        recorded whatever the tag's status; the answer tells the charger whether to go on.
        """

        def work(uow: UnitOfWork) -> StartResult:
            info = id_tag_info(uow, ctx.tenant_id, start.id_tag, now)
            transaction = uow.transactions.start(ctx.tenant_id, ctx.charge_point_id, start, info.status, now)
            if start.reservation_id is not None:  # the charger used a reservation for it
                uow.transactions.use_reservation(
                    ctx.tenant_id,
                    ctx.charge_point_id,
                    start.reservation_id,
                    transaction.id,
                    started_at=start.timestamp,
                    at=now,
                )
            # One card, one session: another open transaction makes this one ConcurrentTx
            # (checked after the insert so a retried start does not count itself).
            if info.status is AuthorizationStatus.ACCEPTED and uow.transactions.has_open_transaction(
                ctx.tenant_id, start.id_tag, excluding_id=transaction.id
            ):
                info = replace(info, status=AuthorizationStatus.CONCURRENT_TX)
            return StartResult(transaction=transaction, id_tag_info=info)

        return self._db.run(work)

    def stop(self, ctx: ChargerContext, stop: TransactionStop, now: datetime) -> StopResult:
        """Close a transaction (or record the stop of an unknown one) with its meter data."""

        def work(uow: UnitOfWork) -> StopResult:
            stopped = uow.transactions.stop(ctx.tenant_id, ctx.charge_point_id, stop, now)
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
                info = id_tag_info(uow, ctx.tenant_id, stop.id_tag, now)
            return StopResult(stopped=stopped, id_tag_info=info)

        return self._db.run(work)

    def meter_values(
        self,
        ctx: ChargerContext,
        connector_id: int,
        transaction_id: int | None,
        samples: Sequence[MeterSample],
        now: datetime,
    ) -> int:
        """Store sampled values; returns how many were new (retries add none)."""
        return self._db.run(
            lambda uow: uow.meter_values.add_samples(
                ctx.tenant_id, ctx.charge_point_id, connector_id, transaction_id, samples, now
            )
        )
