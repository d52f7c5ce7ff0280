"""Meter housekeeping (the hourly meter-housekeeping job): monthly ``meter_samples`` partitions
ahead of time, the daily energy rollup the energy report reads, and retention of old meter
samples, in that order.

Everything follows from ``now`` (never the wall clock or PostgreSQL's ``now()``), every step
is idempotent, and a run that finds another one in progress does nothing (an advisory lock):
running it twice, concurrently or late is harmless. The PostgreSQL side, and how a month's
partition is created while the default partition holds rows of it, is in
:mod:`csms.data.housekeeping`; the operator's view is in ``docs/operations.md``.

**Partitions.** The current UTC month and ``meter_partitions_ahead`` months after it get a
partition; a month's rows waiting in the default partition move into it. Rows of months
outside that window stay in the default partition (until retention removes them). Skipped
when ``meter_samples`` is a TimescaleDB hypertable.

**Daily energy rollup.** Per tenant, one marker per complete UTC day (before ``now``'s day)
from its first transaction's day on, plus a row per charger with energy or sessions that
day, exactly as the energy report computes them. A run (re)computes:

- days never rolled up (newest first, at most ``meter_rollup_max_days_per_run`` per tenant);
- days whose inputs changed after they were computed: a transaction overlapping the day was
  started or stopped (``started_received_at`` / ``stopped_received_at``), or received a
  counted register reading (``received_at``), at or after the day's ``computed_at`` minus
  ``meter_rollup_settle_seconds`` (a frame is committed a little after it is received, so a
  rollup may not have seen it). New readings change the days from the reading before them
  on; a start or stop, every day of the transaction. Changes are looked for among the inputs
  received since the newest ``computed_at`` minus the settle time, which is the previous
  run's ``now`` whenever that run computed anything;
- the last ``meter_rollup_recheck_days`` complete days, whatever changed (a safety net).

With retention on, days before the retention cutoff are final: they are rolled up once if
they never were, but not recomputed (their raw samples are gone or going).

**Retention** (``meter_retention_days``, 90 days by default, 0 = keep forever). The cutoff is UTC midnight
``meter_retention_days`` days before ``now``'s day, held back to the first day that some
tenant has not rolled up yet (raw samples never go before the rollup has their day). Month
partitions entirely before it are dropped; older rows of the month straddling it and of the
default partition are deleted. Samples at or after the cutoff are never touched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from csms.clock import midnight
from csms.domain.metering import LockTimeout, MeterHousekeepingStore, MeterHousekeepingWork

if TYPE_CHECKING:
    from csms.settings import Settings

log = logging.getLogger(__name__)

#: Days computed by one query (the cost is the data behind them, not the number of days).
CHUNK_DAYS = 92


class MeterHousekeepingService:
    def __init__(self, store: MeterHousekeepingStore, settings: Settings) -> None:
        self._store = store
        self._settings = settings

    def run(self, now: datetime) -> dict[str, Any]:
        """One run as of ``now``: what it did, as counts."""
        return housekeep(self._store, self._settings, now)


def housekeep(store: MeterHousekeepingStore, settings: Settings, now: datetime) -> dict[str, Any]:
    """One run as of ``now``: what it did, as counts."""
    now = now.astimezone(UTC)
    result: dict[str, Any] = {
        "skipped": False,
        "partitions_created": 0,
        "samples_moved": 0,
        "days_rolled_up": 0,
        "days_pending": 0,
        "partitions_dropped": 0,
        "samples_deleted": 0,
        "retention_cutoff": None,
        "lock_timeouts": 0,
    }
    with store.exclusive() as work:
        if work is None:
            log.info("another meter-housekeeping run is in progress")
            return {**result, "skipped": True}
        partitioned = work.is_partitioned()
        if partitioned:
            _partitions(work, settings, now, result)
        pending = _rollup(work, settings, now, result)
        if settings.meter_retention_days:
            _retention(work, settings, now, partitioned, pending, result)
    return result


# --- partitions ------------------------------------------------------------------------------


def add_months(month: date, count: int) -> date:
    """The first day of the month ``count`` months after ``month``'s."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def partition_months(now: datetime, ahead: int) -> list[date]:
    """The months that must have a partition: now's (UTC) and ``ahead`` more."""
    this_month = now.astimezone(UTC).date().replace(day=1)
    return [add_months(this_month, i) for i in range(ahead + 1)]


def _partitions(
    work: MeterHousekeepingWork, settings: Settings, now: datetime, result: dict[str, Any]
) -> None:
    for month in partition_months(now, settings.meter_partitions_ahead):
        name = f"meter_samples_{month:%Y_%m}"
        try:
            moved = work.create_month_partition(name, midnight(month), midnight(add_months(month, 1)))
        except LockTimeout:
            log.warning("no lock to create a meter partition; next run", extra={"partition": name})
            result["lock_timeouts"] += 1
            continue
        if moved is not None:
            log.info("meter partition created", extra={"partition": name, "moved": moved})
            result["partitions_created"] += 1
            result["samples_moved"] += moved


# --- the daily energy rollup -------------------------------------------------------------------


def plan_rollup(
    *,
    today: date,
    first_days: dict[str, date],
    missing: dict[str, list[date]],
    dirty: dict[str, list[date]],
    recheck_days: int,
    max_missing: int,
    final_before: date | None,
) -> tuple[dict[str, list[date]], dict[str, list[date]]]:
    """Per tenant, the days to compute this run (sorted), and the missing days left for later.

    Every ``dirty`` day (a change seen now would not be seen by the next run; the query
    already leaves out the final days), the ``max_missing`` most recent ``missing`` days, and
    the last ``recheck_days`` complete days from the tenant's first, unless before
    ``final_before``.
    """
    last = today - timedelta(days=1)
    plan: dict[str, list[date]] = {}
    left: dict[str, list[date]] = {}
    for tenant, first in first_days.items():
        days = set(dirty.get(tenant, ()))
        newest_first = sorted(missing.get(tenant, ()), reverse=True)
        days.update(newest_first[:max_missing])
        if newest_first[max_missing:]:
            left[tenant] = sorted(newest_first[max_missing:])
        for back in range(1, recheck_days + 1):
            day = today - timedelta(days=back)
            if first <= day <= last and (final_before is None or day >= final_before):
                days.add(day)
        if days:
            plan[tenant] = sorted(days)
    return plan, left


def chunks(days: Iterable[date], size: int = CHUNK_DAYS) -> list[tuple[date, date]]:
    """Sorted days as [first, stop) ranges of consecutive days, each at most ``size`` long."""
    ranges: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if ranges and ranges[-1][1] == day and (day - ranges[-1][0]).days < size:
            ranges[-1] = (ranges[-1][0], day + timedelta(days=1))
        else:
            ranges.append((day, day + timedelta(days=1)))
    return ranges


def _final_before(settings: Settings, today: date) -> date | None:
    """The retention cutoff's day (days before it are final), if retention is on."""
    if not settings.meter_retention_days:
        return None
    return today - timedelta(days=settings.meter_retention_days)


def _rollup(
    work: MeterHousekeepingWork, settings: Settings, now: datetime, result: dict[str, Any]
) -> dict[str, list[date]]:
    """Bring the rollup up to date; the missing days left for later runs, per tenant."""
    today = now.date()
    final_before = _final_before(settings, today)
    first_days = work.first_days()
    if not first_days:
        return {}
    missing = work.missing_days(today - timedelta(days=1))
    dirty: dict[str, list[date]] = {}
    watermark = work.watermark()
    if watermark is not None:
        settle = timedelta(seconds=settings.meter_rollup_settle_seconds)
        dirty = work.dirty_days(watermark - settle, settle, final_before or date.min)
    plan, left = plan_rollup(
        today=today,
        first_days=first_days,
        missing=missing,
        dirty=dirty,
        recheck_days=settings.meter_rollup_recheck_days,
        max_missing=settings.meter_rollup_max_days_per_run,
        final_before=final_before,
    )
    for tenant, days in plan.items():
        for first, stop in chunks(days):
            work.roll_up(tenant, first, stop, now)
            result["days_rolled_up"] += (stop - first).days
    result["days_pending"] = sum(len(days) for days in left.values())
    return left


# --- retention ---------------------------------------------------------------------------------


def retention_cutoff(settings: Settings, today: date, pending: dict[str, list[date]]) -> datetime | None:
    """Samples before this go: UTC midnight ``meter_retention_days`` before ``today``, but not
    past the first day some tenant still has to roll up."""
    day = _final_before(settings, today)
    if day is None:
        return None
    waiting = [min(days) for days in pending.values() if days]
    return midnight(min([day, *waiting]))


def _retention(
    work: MeterHousekeepingWork,
    settings: Settings,
    now: datetime,
    partitioned: bool,
    pending: dict[str, list[date]],
    result: dict[str, Any],
) -> None:
    cutoff = retention_cutoff(settings, now.date(), pending)
    if cutoff is None:
        return
    result["retention_cutoff"] = cutoff.isoformat()
    if not partitioned:
        # A TimescaleDB hypertable: whole chunks first, then what is left before the cutoff.
        work.drop_hypertable_chunks_before(cutoff)
        result["samples_deleted"] += work.delete_samples_before(cutoff)
        return
    # Whole months before the cutoff: dropped (a month whose lock was not granted waits for
    # the next run rather than being deleted row by row).
    kept: set[str] = set()
    for partition in work.partitions():
        if partition.is_default or partition.upper is None or partition.upper > cutoff:
            continue
        try:
            work.drop_partition(partition.name)
        except LockTimeout:
            log.warning("no lock to drop a meter partition; next run", extra={"partition": partition.name})
            result["lock_timeouts"] += 1
            kept.add(partition.name)
            continue
        log.info("meter partition dropped", extra={"partition": partition.name})
        result["partitions_dropped"] += 1
    # The month straddling the cutoff (and anything unbounded below), and the default partition.
    for partition in work.partitions():
        if partition.name in kept:
            continue
        if partition.is_default or partition.lower is None or partition.lower < cutoff:
            result["samples_deleted"] += work.delete_samples_before(cutoff, partition.name)
