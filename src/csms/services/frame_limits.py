"""Frames per station (ADR 0023): a station that floods is slowed, then disconnected, and the
others do not notice.

Every frame of a station counts in a fixed window shared by every ``message`` container. To keep
the per-frame path at one DynamoDB read (ADR 0020), a container counts a station's frames in
memory and adds them to the shared counter ``batch`` at a time: a station sending a few frames a
minute never causes a write, a flooding one one write per ``batch`` frames. The shared total can
lag by at most ``batch - 1`` frames per container.

Past ``limit`` frames in the window the station's CALLs are answered with a CALLERROR
(InternalError, "rate limit") without being processed, so it retries later, as it does when the
database is down; past twice the limit its connection is closed (it may reconnect; the
counter is per station, not per connection, so that does not reset it).
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

from csms.domain.limits import Counters, Window

log = logging.getLogger(__name__)


class FrameVerdict(StrEnum):
    ACCEPT = "accept"
    #: Answer a CALL with a CALLERROR, process nothing.
    THROTTLE = "throttle"
    #: Close the connection.
    CLOSE = "close"


class FrameLimiter:
    def __init__(self, counters: Counters, *, window_seconds: int, limit: int, batch: int) -> None:
        self._counters = counters
        self._window = Window(window_seconds)
        self._limit = limit
        self._batch = max(1, batch)
        #: station -> [window index, frames not yet added to the shared counter, shared total]
        self._local: dict[str, list[int]] = {}

    def admit(self, station_id: str, now: datetime) -> FrameVerdict:
        """Count one frame of ``station_id``; what to do with it."""
        index = self._window.index(now)
        entry = self._local.get(station_id)
        if entry is None or entry[0] != index:
            if len(self._local) > 50_000:
                self._local = {k: v for k, v in self._local.items() if v[0] == index}
            entry = self._local[station_id] = [index, 0, 0]
        entry[1] += 1
        if entry[1] >= self._batch:
            try:
                entry[2] = self._counters.add(f"frames:{station_id}", entry[1], self._window.seconds, now)
                entry[1] = 0
            except Exception:
                log.exception("could not count the station's frames")
        total = entry[1] + entry[2]
        if total > 2 * self._limit:
            return FrameVerdict.CLOSE
        if total > self._limit:
            return FrameVerdict.THROTTLE
        return FrameVerdict.ACCEPT
