"""The deep health check: can this function reach PostgreSQL and DynamoDB, within a bound.

Each dependency is asked in a thread of its own and waited for at most ``timeout`` seconds
together; one that has not answered by then counts as unreachable (a stalled PostgreSQL made
the old check hang for the whole stall). A probe left running ends by itself: the database
ping has the unit-of-work bound, the DynamoDB client its socket timeouts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Final

from csms.api.context import Dependencies

#: The whole check answers within this (well under API Gateway's 29 s and a probe's patience).
DEEP_CHECK_SECONDS: Final = 3.0


def probe(checks: dict[str, Callable[[], bool]], timeout: float) -> dict[str, bool]:
    """Run every check at once; each one's answer, False if it failed or did not answer in time."""
    answers: dict[str, bool] = {}

    def run(name: str, check: Callable[[], bool]) -> None:
        try:
            answers[name] = bool(check())
        except Exception:
            answers[name] = False

    threads = [
        threading.Thread(target=run, args=item, name=f"health-{item[0]}", daemon=True)
        for item in checks.items()
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return {name: answers.get(name, False) for name in checks}


def dependencies(timeout: float = DEEP_CHECK_SECONDS) -> Dependencies:
    """Whether the database and the connections table answer, within ``timeout`` seconds."""
    from csms.app import wiring

    found = probe(
        {"database": lambda: wiring.database().ping(), "dynamodb": lambda: wiring.connections().ping()},
        timeout,
    )
    return Dependencies(database=found["database"], dynamodb=found["dynamodb"])
