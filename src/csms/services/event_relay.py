"""Publishing domain events after their transaction committed (the outbox relay).

:class:`EventRelay` receives each committed transaction's events from the database
(``PgDatabase.on_commit``) and publishes them when the request is done (:meth:`flush`: the
charger has its answer by then). What cannot be published stays unpublished in
``domain_events``; the ``event-delivery`` job retries it (:meth:`redeliver`) and, after
``max_attempts``, dead-letters it (an SQS queue with an alarm on AWS). Nothing here raises
into a request: a publishing failure never fails the change that produced the event.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from csms.domain.events import EventLog, EventPublisher, StoredEvent

log = logging.getLogger(__name__)


#: Receives each published event's envelope (``csms dev --events``).
Tap = Callable[[dict[str, Any]], None]
#: Receives events that will never be published (the dead-letter queue).
DeadLetter = Callable[[Sequence[StoredEvent]], None]


#: How long one event-delivery run publishes before leaving the rest to the next one (the
#: scheduled function's timeout is 60 s; pruning and the backlog gauge come after).
REDELIVERY_BUDGET_SECONDS = 30.0


def _stopwatch() -> Callable[[], float]:
    """Seconds since this call."""
    started = time.monotonic()
    return lambda: time.monotonic() - started


class EventRelay:
    def __init__(
        self,
        events: EventLog,
        publisher: EventPublisher | None,
        now: Callable[[], datetime],
        *,
        max_attempts: int = 10,
        dead_letter: DeadLetter | None = None,
        taps: Sequence[Tap] = (),
        retention: timedelta | None = None,
    ) -> None:
        self._log = events
        self._publisher = publisher
        self._now = now
        self._max_attempts = max_attempts
        self._dead_letter = dead_letter
        self._taps = tuple(taps)
        self._retention = retention
        self._pending: list[StoredEvent] = []
        self._lock = threading.Lock()

    def committed(self, events: Sequence[StoredEvent]) -> None:
        """The database's on_commit: these events are durable; publish them at the next flush."""
        with self._lock:
            self._pending.extend(events)

    def flush(self) -> dict[str, int]:
        """Publish what committed since the last flush. Never raises."""
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return {"published": 0, "failed": 0}
        try:
            return self._publish(batch, dead_letter=False)
        except Exception:
            # The rows are durable and unpublished: the event-delivery job will get them.
            log.exception("could not publish domain events", extra={"events": len(batch)})
            return {"published": 0, "failed": len(batch)}

    def redeliver(
        self,
        now: datetime,
        *,
        grace: timedelta = timedelta(seconds=60),
        limit: int = 500,
        budget_seconds: float = REDELIVERY_BUDGET_SECONDS,
        elapsed: Callable[[], float] | None = None,
    ) -> dict[str, int]:
        """The event-delivery job: publish events a request could not (older than ``grace``,
        so requests in flight publish their own), dead-letter those out of attempts, prune
        what is older than the retention period.

        Batches stop after ``budget_seconds``: a backlog (after an EventBridge outage) is
        worked off over several runs instead of running into the function's timeout, which
        would kill the run mid-batch (publishing that batch again next time) before pruning
        and the backlog gauge."""
        clock = elapsed or _stopwatch()
        totals = {"published": 0, "failed": 0, "dead_lettered": 0, "pruned": 0}
        try:
            while self._publisher is not None:
                batch = self._log.unpublished(now - grace, limit)
                if not batch:
                    break
                outcome = self._publish(batch, dead_letter=True)
                for key, value in outcome.items():
                    totals[key] = totals.get(key, 0) + value
                if outcome["failed"] or len(batch) < limit:
                    break  # the bus is unhappy: try again next run rather than spin
                if clock() >= budget_seconds:
                    totals["budget_exhausted"] = 1  # the rest next run
                    break
        except Exception:
            # (the dead-letter queue unreachable, the database gone): the rows stay, next run
            log.exception("redelivering domain events failed")
            totals["errors"] = 1
        if self._retention is not None:
            totals["pruned"] = self._log.prune(now - self._retention)
        totals["backlog"] = self._log.backlog()
        return totals

    def _publish(self, batch: Sequence[StoredEvent], *, dead_letter: bool) -> dict[str, int]:
        for stored in batch:
            self._tap(stored)
        if self._publisher is None:
            return {"published": 0, "failed": 0}
        try:
            failures = self._publisher.publish(batch)
        except Exception as exc:
            log.warning("publishing domain events failed", extra={"error": repr(exc)})
            failures = {stored.sequence: repr(exc) for stored in batch}
        at = self._now()
        self._log.mark_published([s.sequence for s in batch if s.sequence not in failures], at)
        outcome = {"published": len(batch) - len(failures), "failed": len(failures)}
        if failures:
            log.warning("domain events not published", extra={"failures": failures})
            exhausted = self._log.mark_failed(failures, at, self._max_attempts if dead_letter else 1 << 30)
            if exhausted:
                doomed = [s for s in batch if s.sequence in set(exhausted)]
                self._dead_letter_events(doomed, at)
                outcome["dead_lettered"] = len(doomed)
        return outcome

    def _dead_letter_events(self, doomed: Sequence[StoredEvent], at: datetime) -> None:
        log.error(
            "domain events dead-lettered after repeated publishing failures",
            extra={"sequences": [s.sequence for s in doomed], "types": [s.event.type for s in doomed]},
        )
        if self._dead_letter is not None:
            self._dead_letter(doomed)  # raises if the queue is unreachable: retried next run
        self._log.mark_dead([s.sequence for s in doomed], at)

    def _tap(self, stored: StoredEvent) -> None:
        for tap in self._taps:
            try:
                tap(stored.event.envelope(stored.sequence))
            except Exception:
                log.exception("event tap failed")


def echo_tap(destination: str) -> Tap:
    """``-``: print each event as one JSON line on stdout; else append to that file."""
    import sys

    lock = threading.Lock()

    def tap(envelope: dict[str, Any]) -> None:
        line = json.dumps(envelope, separators=(",", ":"), default=str)
        with lock:
            if destination == "-":
                print(line, file=sys.stdout, flush=True)
            else:
                with open(destination, "a", encoding="utf-8") as out:
                    out.write(line + "\n")

    return tap
