"""Events that could not be recorded when they happened, recorded once PostgreSQL is back.

A WebSocket that closes during a PostgreSQL outage has closed all the same: its
ChargerDisconnected cannot wait for the database, and there is no transaction to roll back.
``csms.app.wiring.emit`` parks such events (an SQS queue on AWS) instead of dropping them
(issue 13: 93 recorded for 101 disconnects during an outage); the ``event-delivery`` job takes
them back every minute and records each exactly once (by its id), after which they are
published like any other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from csms.domain.events import DomainEvent, EventParking
from csms.errors import StorageUnavailable

log = logging.getLogger(__name__)

#: Parked events one run records at most (the rest wait for the next run).
RECOVERY_BATCH = 500


class ParkedEvents:
    def __init__(self, parking: EventParking, record_once: Callable[[Sequence[DomainEvent]], int]) -> None:
        self._parking = parking
        self._record_once = record_once

    def recover(self, limit: int = RECOVERY_BATCH) -> dict[str, int]:
        """Record parked events (each once, whatever happened before) and forget them. A
        database still down leaves them parked: they come back at the next run."""
        taken = self._parking.take(limit)
        if not taken:
            return {"recovered": 0, "duplicates": 0}
        events = [event for _, event in taken]
        handles = [handle for handle, _ in taken]
        try:
            recorded = self._record_once(events)
        except StorageUnavailable:
            self._parking.give_back(handles)  # still down: the next run tries again
            log.warning("parked events wait for the database", extra={"events": len(events)})
            return {"recovered": 0, "duplicates": 0}
        self._parking.release(handles)
        return {"recovered": recorded, "duplicates": len(events) - recorded}
