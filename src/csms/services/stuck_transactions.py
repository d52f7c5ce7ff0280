"""Stuck transactions: open transactions that will probably never be stopped by their charger.

A transaction stays open until its charger's StopTransaction arrives. Some never do (a charger
that lost its queue, rebooted, or was replaced), and an open transaction blocks its id tag
(ConcurrentTx; a superseded one, rule 1, no longer does, even before it is closed) and
distorts reports. The stuck-transactions job (every 15 minutes) applies
four rules, in this order, and **never deletes anything**:

1. **Superseded: closed.** (1.6 transactions only: 2.0.1 events may arrive out of order.)
   If the same charger has since started a newer transaction on the same connector (a higher
   transactionId, allocated later, that did not start earlier), the old one has ended, and
   its StopTransaction is not coming any more: OCPP 1.6 delivers a charger's transaction
   messages in order, one CALL at a time, so the older transaction's stop would have been
   delivered before the newer start (a charger only gives up on it after
   its TransactionMessageAttempts). The CSMS closes it: ``stop_timestamp`` = the newer
   transaction's start, ``meter_stop`` = the highest Energy.Active.Import.Register reading of
   the transaction in Wh (else its ``meter_start``), stop reason ``Other``, ``closed_by =
   'csms'``, event ``TransactionStopped`` with ``closedBy: "csms"``. Should the charger's own
   StopTransaction arrive after all, its values replace ours (the charger knows best).
2. **Left open by a reboot: flagged.** The charger sent a BootNotification after the CSMS
   recorded the transaction's start, ``reboot_grace_minutes`` have passed since that boot
   (time for the charger to deliver its queued StopTransactions) and no meter value of the
   transaction arrived after the boot (some chargers resume a transaction across a reboot).
   Flag reason ``charger-rebooted``.
3. **Deauthorized, not stopped: flagged.** The CSMS answered its start (or, 2.0.1, an update)
   with a status other than Accepted more than ``deauthorized_grace_minutes`` ago, and the
   station has not stopped it: it should have (1.6 StopTransactionOnInvalidId, 2.0.1
   TxStopPoint Authorized), or it charges on a token the CSMS refused. Flag reason
   ``deauthorized-not-stopped``. Its stop, when it comes (reason DeAuthorized), closes it as
   any other; such a transaction is never a charging session in the reports.
4. **No activity: flagged.** Nothing about the transaction for ``stuck_transaction_idle_hours``:
   its start (charger time and receipt), the receipt of its latest meter value and of its
   connector's latest status report are all older. Flag reason ``no-activity``.

A flag (``flagged_at``, ``flag_reason``) is set once, with one ``TransactionFlagged`` event;
it is for an operator (``GET /api/v1/transactions?flagged=true``) and is never cleared
automatically: a flagged transaction the charger stops later keeps its flag as history.
Flagging does not close: only the charger (or an operator's RemoteStopTransaction) knows the
end of such a transaction.

Everything is judged against ``now``, the job's clock; each change is a conditional update
made in the same database transaction as its event, so a second or concurrent run changes
nothing more.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from csms.domain.transactions import FlagReason, StuckTransactionStore

log = logging.getLogger(__name__)

NO_ACTIVITY = FlagReason.NO_ACTIVITY.value
CHARGER_REBOOTED = FlagReason.CHARGER_REBOOTED.value
DEAUTHORIZED_NOT_STOPPED = FlagReason.DEAUTHORIZED_NOT_STOPPED.value


@dataclass(frozen=True, slots=True)
class StuckTransactionPolicy:
    idle: timedelta
    reboot_grace: timedelta
    deauthorized_grace: timedelta = timedelta(minutes=15)
    #: Most transactions closed, and flagged per rule, in one run (the next run goes on).
    batch: int = 500


class StuckTransactionService:
    def __init__(self, store: StuckTransactionStore, policy: StuckTransactionPolicy) -> None:
        self._store = store
        self._policy = policy

    def run(self, now: datetime) -> dict[str, Any]:
        policy = self._policy
        closed = errors = 0
        for candidate in self._store.superseded(policy.batch):
            try:
                if self._store.close(candidate, now) is not None:
                    closed += 1
            except Exception:
                # One transaction that cannot be closed must not stop the run for the others
                # (nor the flagging rules): it stays open, and the next run tries again.
                log.exception(
                    "could not close a superseded transaction", extra={"candidate": repr(candidate)}
                )
                errors += 1
        rebooted = self._store.flag_rebooted(now - policy.reboot_grace, now, CHARGER_REBOOTED, policy.batch)
        deauthorized = self._store.flag_deauthorized(
            now - policy.deauthorized_grace, now, DEAUTHORIZED_NOT_STOPPED, policy.batch
        )
        idle = self._store.flag_idle(now - policy.idle, now, NO_ACTIVITY, policy.batch)
        result = {
            "closed": closed,
            "flagged_rebooted": len(rebooted),
            "flagged_deauthorized": len(deauthorized),
            "flagged_idle": len(idle),
            "errors": errors,
        }
        if any(result.values()):
            log.info("stuck transactions", extra=result)
        return result
