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
        "liveness",
        "rate(5 minutes)",
        300,
        "mark chargers silent for over twice their heartbeat interval offline; clean stale connections",
    ),
    Schedule(
        "command-timeouts",
        "rate(1 minute)",
        60,
        "time out server CALLs past their deadline, free the chargers' slots, send what is queued",
    ),
    Schedule(
        "reservations",
        "rate(1 minute)",
        60,
        "expire reservations past their expiry date",
    ),
    Schedule(
        "stuck-transactions",
        "rate(15 minutes)",
        900,
        "flag open transactions without activity or left open by a reboot; close superseded ones",
    ),
    Schedule(
        "meter-housekeeping",
        "rate(1 hour)",
        3600,
        "create meter partitions ahead, apply retention, maintain the daily energy rollup",
    ),
    Schedule(
        "event-delivery",
        "rate(1 minute)",
        60,
        "publish domain events the per-request relay could not, dead-letter the hopeless, prune old ones",
    ),
    Schedule(
        "fleet-gauges",
        "rate(1 minute)",
        60,
        "publish the ChargersOnline and OpenTransactions gauges the dashboard shows",
    ),
    Schedule(
        "load-allocation",
        "rate(1 minute)",
        60,
        "reallocate the current of every site's EVSEs under its electrical tree's limits (ADR 0024)",
    ),
)

#: The names ``csms run-job`` accepts, in schedule order.
JOB_NAMES: Final = tuple(schedule.name for schedule in SCHEDULES)
