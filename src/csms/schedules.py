"""Scheduled jobs, defined once: the CDK app creates an EventBridge Scheduler schedule per
entry (invoking ``functions/scheduled`` with ``{"job": name}``), and ``csms dev`` fires the
same jobs locally at the same rate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Schedule:
    name: str
    #: An EventBridge Scheduler expression.
    expression: str
    #: The same cadence in seconds, for the local stack.
    every_seconds: int
    description: str


SCHEDULES: Final = (
    Schedule(
        "command-timeouts",
        "rate(1 minute)",
        60,
        "time out server CALLs past their deadline, free the chargers' slots, send what is queued",
    ),
    Schedule(
        "fleet-gauges",
        "rate(1 minute)",
        60,
        "publish the ChargersOnline and OpenTransactions gauges the dashboard shows",
    ),
    Schedule(
        "reservation-expiry",
        "rate(1 minute)",
        60,
        "mark reservations past their expiry date expired",
    ),
)
