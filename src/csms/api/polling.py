"""Waiting inside a request without hammering PostgreSQL: a poll that backs off.

The event feed's long poll and the commands' ``?wait=`` used to query every 0.5 s and 0.1 s:
a dashboard and a script waiting on commands cost up to 10 queries a second each, and a few
dozen of them loaded the database that chargers need (issue 13). A wait now asks again after
0.1 s, then twice as long each time, never more than 2 s apart: an answer that is already
there (most commands finish in well under a second) is seen as fast as before, and a 20 s
idle long poll makes 15 queries instead of 41.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Final

FIRST_INTERVAL_SECONDS: Final = 0.1
MAX_INTERVAL_SECONDS: Final = 2.0


def pauses(seconds: float, *, clock: Callable[[], float] = time.monotonic) -> Iterator[float]:
    """The pauses between the checks of a wait of at most ``seconds``: 0.1, 0.2, 0.4, ... at
    most 2 s, the last one cut to end at the deadline. Nothing when the time is up."""
    deadline = clock() + seconds
    interval = FIRST_INTERVAL_SECONDS
    while (remaining := deadline - clock()) > 0:
        yield min(interval, remaining)
        interval = min(interval * 2, MAX_INTERVAL_SECONDS)


def wait_until(
    done: Callable[[], bool],
    seconds: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """Check ``done`` now and then with growing pauses until it holds or ``seconds`` passed;
    returns its last answer."""
    if done():
        return True
    for pause in pauses(seconds, clock=clock):
        sleep(pause)
        if done():
            return True
    return False
