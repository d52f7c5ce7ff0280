"""Liveness: chargers that went offline without a ``$disconnect`` saying so.

Every frame a charger sends records ``last_seen`` on its connection (DynamoDB, ADR 0004), and
OCPP makes a station send at least a Heartbeat every heartbeat interval. The liveness job
(every 5 minutes) applies one rule per charger with a current connection:

* **silent**: its last frame is older than ``2 x HeartbeatInterval + slack``. The interval is
  the one the charger was told at boot (``Settings.heartbeat_interval``) unless its device
  model says otherwise: ``OCPPCommCtrlr.HeartbeatInterval``, where a 1.6 charger's
  HeartbeatInterval key is (:meth:`csms.data.liveness.PgHeartbeatIntervals.heartbeat_intervals`).
* Then API Gateway is asked about the connection (``GET @connections/{id}``):

  - **gone** (API Gateway no longer knows it; its ``$disconnect`` was lost): the record is
    closed as ``$disconnect`` would have closed it, the charger is offline, event
    ``ChargerWentOffline`` with reason ``connection-gone``;
  - **still open but silent** (a half-open TCP connection, a hung charger): the record is
    closed first, then the connection is closed server-side (``DELETE @connections/{id}``) so
    a live charger reconnects and registers afresh; event reason ``silent``. Its
    ``$disconnect`` then finds the record closed and reports nothing more.

A charger whose current-connection item names a record that is closed already or gone (a
``$disconnect`` that failed half-way, a record past its TTL) is taken offline the same way,
with reason ``connection-gone``.

Besides, open connection records that are no charger's current connection (a replaced
connection whose ``$disconnect`` never came) are closed when API Gateway says they are gone:
at most ``max_record_checks`` of them per run, oldest first; no event (the charger's own state
did not change).

Safe to run twice, concurrently or late: every decision is re-read consistently and made by
a conditional write (the record must still be open and, for a silent charger, untouched since
it was read), so exactly one run takes a charger offline and emits its one event; a second
run finds nothing left to do. Everything is judged against ``now``, the job's clock. The
event is recorded right after the DynamoDB change (the two stores share no transaction: a
crash in between loses that one event, never duplicates it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from csms.domain.connections import (
    ConnectionProbe,
    ConnectionRecord,
    HeartbeatIntervals,
    LivenessConnections,
    LivenessSnapshot,
)
from csms.domain.events import DomainEvent, iso_or_none, new_event

log = logging.getLogger(__name__)

SILENT = "silent"
CONNECTION_GONE = "connection-gone"


@dataclass(frozen=True, slots=True)
class _Suspect:
    current: ConnectionRecord
    last_seen: datetime


class LivenessService:
    def __init__(
        self,
        connections: LivenessConnections,
        gateway: Callable[[], ConnectionProbe],
        intervals: HeartbeatIntervals,
        emit: Callable[[Sequence[DomainEvent]], object],
        *,
        heartbeat_interval: int,
        slack_seconds: int,
        max_record_checks: int = 200,
    ) -> None:
        self._connections = connections
        self._gateway = gateway
        self._intervals = intervals
        self._emit = emit
        self._default_interval = heartbeat_interval
        self._slack = timedelta(seconds=slack_seconds)
        self._max_record_checks = max_record_checks

    def threshold(self, interval: int) -> timedelta:
        """How long a charger with this heartbeat interval may stay silent."""
        return timedelta(seconds=2 * interval) + self._slack

    def run(self, now: datetime) -> dict[str, Any]:
        snapshot = self._connections.liveness_scan()
        # Cheap first cut, before any lookup: silent for longer than the shortest possible
        # threshold (a configured interval of 1 s). The per-charger interval then decides.
        shortest = self.threshold(1)
        suspects: list[_Suspect] = []
        for current in snapshot.current.values():
            record = snapshot.open.get(current.connection_id)
            # No open record in the snapshot: closed, expired, or written after the scan read
            # its part of the table; the time of connecting stands in until it is re-read.
            seen = (record.last_seen if record else None) or current.last_seen or current.connected_at
            if now - seen > shortest:
                suspects.append(_Suspect(current, seen))
        intervals = self._intervals.heartbeat_intervals([s.current.charge_point_id for s in suspects])
        result = {
            "chargers": len(snapshot.current),
            "silent": 0,
            "connection_gone": 0,
            "records_closed": 0,
            "errors": 0,
        }
        for suspect in suspects:
            interval = intervals.get(suspect.current.charge_point_id, self._default_interval)
            if now - suspect.last_seen <= self.threshold(interval):
                continue
            try:
                reason = self._judge(suspect.current, interval, now)
            except Exception:
                # One charger's failure (throttling, a network error) must not stop the run:
                # nothing was decided for it, and the next run asks again.
                log.exception(
                    "liveness check failed", extra={"charge_point_id": suspect.current.charge_point_id}
                )
                result["errors"] += 1
                continue
            if reason == SILENT:
                result["silent"] += 1
            elif reason == CONNECTION_GONE:
                result["connection_gone"] += 1
        result["records_closed"] = self._close_stale_records(snapshot, now)
        result["offline"] = result["silent"] + result["connection_gone"]
        return result

    def _judge(self, current: ConnectionRecord, interval: int, now: datetime) -> str | None:
        """Take the charger offline if it still is silent; the reason, or None if it was not."""
        charge_point_id, connection_id = current.charge_point_id, current.connection_id
        stored = self._connections.open_connection(connection_id)
        if stored is None or stored.closed:
            # Its current-connection item outlived the record: nothing can reach the charger.
            if self._connections.release(charge_point_id, connection_id):
                last_seen = stored.record.last_seen if stored else None
                self._offline(current, CONNECTION_GONE, last_seen, interval, now)
                return CONNECTION_GONE
            return None
        last_seen = stored.record.last_seen or stored.record.connected_at
        if now - last_seen <= self.threshold(interval):
            return None  # a frame arrived since the scan
        gateway = self._gateway()
        if not gateway.exists(connection_id):
            if self._connections.close_stale(connection_id, now) is None:
                return None  # its $disconnect (or another run) got there first
            if not self._connections.release(charge_point_id, connection_id):
                return None  # it reconnected meanwhile: online on its new connection
            self._offline(current, CONNECTION_GONE, last_seen, interval, now)
            return CONNECTION_GONE
        # Open but silent. The record is closed first, and only if no frame came since it
        # was read; the charger's $disconnect then finds it closed and reports nothing more.
        if self._connections.close_stale(connection_id, now, if_last_seen=stored.record.last_seen) is None:
            return None
        released = self._connections.release(charge_point_id, connection_id)
        if released:
            self._offline(current, SILENT, last_seen, interval, now)
        try:
            gateway.close(connection_id)  # a live charger reconnects and registers afresh
        except Exception:
            # The charger is offline for us already; API Gateway drops the socket when it
            # idles out. One failure must not stop the run for the other chargers.
            log.exception("could not close a silent connection", extra={"connection_id": connection_id})
        return SILENT if released else None

    def _offline(
        self,
        record: ConnectionRecord,
        reason: str,
        last_seen: datetime | None,
        interval: int,
        now: datetime,
    ) -> None:
        log.info(
            "charger went offline",
            extra={
                "charge_point_id": record.charge_point_id,
                "connection_id": record.connection_id,
                "reason": reason,
            },
        )
        self._emit(
            [
                new_event(
                    "ChargerWentOffline",
                    record.tenant_id,
                    record.charge_point_id,
                    now,
                    {
                        "connectionId": record.connection_id,
                        "lastSeen": iso_or_none(last_seen),
                        "reason": reason,
                        "heartbeatInterval": interval,
                    },
                )
            ]
        )

    def _close_stale_records(self, snapshot: LivenessSnapshot, now: datetime) -> int:
        """Close open records that are no charger's current connection and whose connection
        API Gateway says is gone (bounded per run, oldest first)."""
        current_ids = {record.connection_id for record in snapshot.current.values()}
        orphans = sorted(
            (
                record
                for record in snapshot.open.values()
                if record.connection_id not in current_ids
                # A connection registered moments ago may not have its cp# item in the scan.
                and now - (record.last_seen or record.connected_at) > self._slack
            ),
            key=lambda record: record.last_seen or record.connected_at,
        )
        closed = 0
        for record in orphans[: self._max_record_checks]:
            try:
                if self._connections.current_connection(record.charge_point_id) == record.connection_id:
                    continue  # it is current after all: the rule above looks after it next run
                if self._gateway().exists(record.connection_id):
                    continue  # still open (a superseded socket): its $disconnect will come
                if self._connections.close_stale(record.connection_id, now) is not None:
                    closed += 1
            except Exception:
                log.exception("stale record check failed", extra={"connection_id": record.connection_id})
        return closed
