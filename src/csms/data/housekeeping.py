"""The meter-housekeeping job's PostgreSQL work (its rules:
:mod:`csms.services.meter_housekeeping`).

Everything runs on one connection (a Lambda container's pool holds one), which holds the
job's session-level advisory lock for the whole run: a second run started meanwhile finds the
lock taken and does nothing. Each step is its own short transaction, so the row and table
locks are held briefly, and DDL waits at most :data:`LOCK_TIMEOUT` for a lock (a step that
cannot get one is left for the next run instead of queueing every writer behind it).

**Creating a month's partition** (:meth:`MeterHousekeeping.create_month_partition`), in one
transaction:

1. lock the DEFAULT partition (ACCESS EXCLUSIVE: ATTACH PARTITION takes that lock anyway);
   inserts for months that have a partition go on, reads of the default partition wait;
2. create the month's table as a standalone table shaped like ``meter_samples``;
3. move the month's rows out of the default partition into it (``DELETE ... RETURNING``
   feeding an ``INSERT``: nothing is lost, nothing is copied twice);
4. ``ATTACH PARTITION`` it (the parent only takes SHARE UPDATE EXCLUSIVE, so writers of the
   other partitions never wait; PostgreSQL builds the partitioned indexes on the new table and
   checks that the default partition holds nothing of the month, which step 3 made true).

Either all of it commits or none of it. ``CREATE TABLE ... PARTITION OF`` (what
``csms_ensure_meter_partitions()`` does) would fail as soon as the default partition holds a
row of the month, and would lock the whole parent table; detaching the default partition
instead would leave rows of unprepared months nowhere to go while it is detached. A row of
the month inserted concurrently waits for the lock and is then refused by PostgreSQL's
partition check (the charger gets an error and retries the frame, which lands in the new
partition).

Where ``meter_samples`` is a TimescaleDB hypertable (not a partitioned table) there is no
partition work: chunks are created on demand; retention uses ``drop_chunks``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, text
from sqlalchemy.dialects.postgresql import ARRAY, TEXT
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import OperationalError

from csms.clock import midnight
from csms.data.database import PgDatabase
from csms.data.reports import (
    REGISTER_LOCATION,
    REGISTER_PHASE,
    REGISTER_UNITS,
    live_energy_cells,
)
from csms.data.tables import energy_rollup, energy_rollup_days, meter_samples
from csms.domain.metering import ENERGY_REGISTER, LockTimeout, Partition
from csms.domain.reports import ReportFilter

log = logging.getLogger(__name__)

#: The longest a DDL step waits for a table lock before giving up until the next run.
LOCK_TIMEOUT = "10s"
_LOCK_NOT_AVAILABLE = "55P03"
_JOB_LOCK = "csms:meter-housekeeping"
_COLUMNS = ", ".join(f'"{c.name}"' for c in meter_samples.c)


def _lock_timeout(exc: OperationalError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE


_PARTITIONS = text(
    r"""
    SELECT c.relname AS name,
           c.oid = pt.partdefid AS is_default,
           CASE WHEN b.bound ~ 'FROM \(''' THEN substring(b.bound FROM 'FROM \(''([^'']*)''\)')::timestamptz
           END AS lower,
           CASE WHEN b.bound ~ 'TO \(''' THEN substring(b.bound FROM 'TO \(''([^'']*)''\)')::timestamptz
           END AS upper
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_partitioned_table pt ON pt.partrelid = i.inhparent
    CROSS JOIN LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS bound) b
    WHERE i.inhparent = 'meter_samples'::regclass
    ORDER BY lower NULLS FIRST, name
    """
)

#: Per tenant, the UTC day of its first transaction.
_FIRST_DAYS = text(
    """
    SELECT t.id AS tenant_id, (f.first AT TIME ZONE 'UTC')::date AS first_day
    FROM tenants t
    CROSS JOIN LATERAL (SELECT min(x.start_timestamp) AS first FROM transactions x WHERE x.tenant_id = t.id) f
    WHERE f.first IS NOT NULL
    """
)

#: Per tenant, the days from its first transaction's to :last that are not rolled up.
_MISSING_DAYS = text(
    """
    WITH firsts AS (
        SELECT t.id AS tenant_id, (f.first AT TIME ZONE 'UTC')::date AS first_day
        FROM tenants t
        CROSS JOIN LATERAL (
            SELECT min(x.start_timestamp) AS first FROM transactions x WHERE x.tenant_id = t.id
        ) f
        WHERE f.first IS NOT NULL
    )
    SELECT firsts.tenant_id, g.day::date AS day
    FROM firsts
    CROSS JOIN LATERAL generate_series(
        firsts.first_day::timestamp, CAST(:last AS date)::timestamp, INTERVAL '1 day'
    ) AS g(day)
    WHERE NOT EXISTS (
        SELECT 1 FROM energy_rollup_days r WHERE r.tenant_id = firsts.tenant_id AND r.day = g.day::date
    )
    ORDER BY 1, 2
    """
)

#: Rolled-up days whose inputs changed since they were computed. An input is a transaction
#: that started or stopped, or a counted reading of one, received at or after :since (the
#: newest computed_at minus the settle time). It can change the days from ``affected_from``
#: (a start or stop: the transaction's start; new readings: the last older reading, where the
#: register curve they bend begins) to the transaction's stop (open: any later day), of
#: rollups computed less than the settle time after it was received.
_DIRTY_DAYS = text(
    """
    WITH fresh AS (
        SELECT s.transaction_id, min(s."timestamp") AS earliest, max(s.received_at) AS received_at
        FROM meter_samples s
        WHERE s.received_at >= :since AND s.transaction_id IS NOT NULL
          -- a register reading the energy report counts (csms.data.reports)
          AND s.measurand = :register AND s.phase = :phase AND s.location = :location
          AND s.unit = ANY(:units) AND s.numeric_value IS NOT NULL
        GROUP BY s.transaction_id
    ), changes AS (
        SELECT t.tenant_id, t.start_timestamp AS affected_from, t.stop_timestamp,
               greatest(t.started_received_at, t.stopped_received_at) AS received_at
        FROM transactions t
        WHERE greatest(t.started_received_at, t.stopped_received_at) >= :since
        UNION ALL
        SELECT t.tenant_id,
               coalesce(
                   (SELECT max(p."timestamp") FROM meter_samples p
                    WHERE p.transaction_id = t.id AND p.tenant_id = t.tenant_id
                      AND p.charge_point_id = t.charge_point_id
                      AND p.measurand = :register AND p.phase = :phase AND p.location = :location
                      AND p.unit = ANY(:units) AND p.numeric_value IS NOT NULL
                      AND p."timestamp" > t.start_timestamp AND p."timestamp" < fresh.earliest),
                   t.start_timestamp),
               t.stop_timestamp, fresh.received_at
        FROM fresh JOIN transactions t ON t.id = fresh.transaction_id
    )
    SELECT DISTINCT r.tenant_id, r.day
    FROM changes c
    JOIN energy_rollup_days r
      ON r.tenant_id = c.tenant_id
     AND r.day >= (c.affected_from AT TIME ZONE 'UTC')::date
     AND (c.stop_timestamp IS NULL OR r.day <= (c.stop_timestamp AT TIME ZONE 'UTC')::date)
    WHERE r.computed_at <= c.received_at + make_interval(secs => :settle)
      AND r.day >= :not_before
    ORDER BY 1, 2
    """
).bindparams(bindparam("units", type_=ARRAY(TEXT)))

_COUNTED_PARAMS: dict[str, Any] = {
    "register": ENERGY_REGISTER,
    "phase": REGISTER_PHASE,
    "location": REGISTER_LOCATION,
    "units": list(REGISTER_UNITS),
}


class PgMeterHousekeeping:
    """The production :class:`csms.domain.metering.MeterHousekeepingStore`."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    @contextmanager
    def exclusive(self) -> Iterator[MeterHousekeeping | None]:
        """The housekeeping operations on one connection holding the job's advisory lock, or
        None when another run holds it."""
        with self._db.connect() as conn:
            with conn.begin():
                locked = conn.execute(
                    text("SELECT pg_try_advisory_lock(hashtext(:key))"), {"key": _JOB_LOCK}
                ).scalar()
            if not locked:
                yield None
                return
            try:
                yield MeterHousekeeping(conn)
            finally:
                try:
                    if conn.in_transaction():
                        conn.rollback()
                    with conn.begin():
                        conn.execute(text("SELECT pg_advisory_unlock(hashtext(:key))"), {"key": _JOB_LOCK})
                except Exception:
                    # Never hand a connection that may still hold the lock back to the pool.
                    log.warning("could not release the meter-housekeeping lock", exc_info=True)
                    conn.invalidate()


class MeterHousekeeping:
    """The operations, on the connection that holds the job's lock (the production
    :class:`csms.domain.metering.MeterHousekeepingWork`)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._quote = conn.dialect.identifier_preparer.quote

    # --- partitions ------------------------------------------------------------------------

    def is_partitioned(self) -> bool:
        """Whether meter_samples is natively partitioned (else a TimescaleDB hypertable)."""
        with self._conn.begin():
            kind = self._conn.execute(
                text("SELECT relkind FROM pg_class WHERE oid = 'meter_samples'::regclass")
            ).scalar()
        return bool(kind == "p")

    def partitions(self) -> list[Partition]:
        with self._conn.begin():
            return self._partitions()

    def _partitions(self) -> list[Partition]:
        return [
            Partition(r.name, bool(r.is_default), r.lower, r.upper) for r in self._conn.execute(_PARTITIONS)
        ]

    def create_month_partition(self, name: str, lower: datetime, upper: datetime) -> int | None:
        """Create partition ``name`` for [lower, upper), moving its rows out of the default
        partition (see the module docstring); the number of rows moved, or None when a
        partition already covers (part of) the range. LockTimeout if a lock was not granted."""
        conn = self._conn
        try:
            with conn.begin():
                conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
                default = next((p.name for p in self._partitions() if p.is_default), None)
                if default is not None:
                    conn.execute(text(f"LOCK TABLE {self._quote(default)} IN ACCESS EXCLUSIVE MODE"))
                # Checked under the lock: whoever created partitions before us is done.
                covering = [p.name for p in self._partitions() if p.overlaps(lower, upper)]
                if covering:
                    return None
                if conn.execute(text("SELECT to_regclass(:name)"), {"name": name}).scalar() is not None:
                    raise RuntimeError(f"table {name} exists but is not a partition of meter_samples")
                table = self._quote(name)
                conn.execute(
                    text(
                        f"CREATE TABLE {table} (LIKE meter_samples INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
                    )
                )
                moved = 0
                if default is not None:
                    moved = conn.execute(
                        text(
                            # Quoted identifiers and bound values only.
                            f"WITH moved AS (DELETE FROM {self._quote(default)} "  # noqa: S608
                            f'WHERE "timestamp" >= :lower AND "timestamp" < :upper RETURNING {_COLUMNS}) '
                            f"INSERT INTO {table} ({_COLUMNS}) SELECT {_COLUMNS} FROM moved"
                        ),
                        {"lower": lower, "upper": upper},
                    ).rowcount
                conn.execute(
                    text(
                        f"ALTER TABLE meter_samples ATTACH PARTITION {table} "
                        f"FOR VALUES FROM ('{lower.isoformat()}') TO ('{upper.isoformat()}')"
                    )
                )
                return int(moved)
        except OperationalError as exc:
            if _lock_timeout(exc):
                raise LockTimeout(f"creating {name}") from exc
            raise

    def drop_partition(self, name: str) -> None:
        """Drop a (month) partition with its rows. LockTimeout if the lock was not granted."""
        try:
            with self._conn.begin():
                self._conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
                self._conn.execute(text(f"DROP TABLE {self._quote(name)}"))
        except OperationalError as exc:
            if _lock_timeout(exc):
                raise LockTimeout(f"dropping {name}") from exc
            raise

    def delete_samples_before(self, cutoff: datetime, partition: str | None = None) -> int:
        """Delete the samples older than ``cutoff`` from one partition (default: the whole
        table); the number deleted. Rows are never updated, so this blocks no writer."""
        table = "meter_samples" if partition is None else self._quote(partition)
        with self._conn.begin():
            deleted = self._conn.execute(
                text(f'DELETE FROM {table} WHERE "timestamp" < :cutoff'),  # noqa: S608 (quoted name)
                {"cutoff": cutoff},
            ).rowcount
        return int(deleted)

    def drop_hypertable_chunks_before(self, cutoff: datetime) -> None:
        """TimescaleDB: drop the chunks entirely older than ``cutoff`` (the cheap part of
        retention on a hypertable; the rows left before it go by :meth:`delete_samples_before`)."""
        with self._conn.begin():
            if self._conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")).first():
                self._conn.execute(
                    text("SELECT drop_chunks('meter_samples', older_than => CAST(:cutoff AS timestamptz))"),
                    {"cutoff": cutoff},
                )

    # --- the daily energy rollup -----------------------------------------------------------

    def watermark(self) -> datetime | None:
        """When the newest rollup was computed (None: nothing is rolled up)."""
        with self._conn.begin():
            value: datetime | None = self._conn.execute(
                select(energy_rollup_days.c.computed_at)
                .order_by(energy_rollup_days.c.computed_at.desc())
                .limit(1)
            ).scalar()
        return value

    def first_days(self) -> dict[str, date]:
        """Per tenant with transactions, the UTC day of its first one."""
        with self._conn.begin():
            return {r.tenant_id: r.first_day for r in self._conn.execute(_FIRST_DAYS)}

    def missing_days(self, last: date) -> dict[str, list[date]]:
        """Per tenant, the days up to ``last`` (from its first transaction's) not rolled up yet."""
        missing: dict[str, list[date]] = defaultdict(list)
        with self._conn.begin():
            for r in self._conn.execute(_MISSING_DAYS, {"last": last}):
                missing[r.tenant_id].append(r.day)
        return dict(missing)

    def dirty_days(self, since: datetime, settle: timedelta, not_before: date) -> dict[str, list[date]]:
        """Per tenant, the rolled-up days from ``not_before`` on whose inputs changed since
        they were computed (see _DIRTY_DAYS)."""
        dirty: dict[str, list[date]] = defaultdict(list)
        with self._conn.begin():
            for r in self._conn.execute(
                _DIRTY_DAYS,
                {
                    "since": since,
                    "settle": settle.total_seconds(),
                    "not_before": not_before,
                    **_COUNTED_PARAMS,
                },
            ):
                dirty[r.tenant_id].append(r.day)
        return dict(dirty)

    def roll_up(self, tenant_id: str, first: date, stop: date, computed_at: datetime) -> int:
        """(Re)compute the tenant's days [first, stop) from the raw data, exactly as the energy
        report does, and mark them rolled up as of ``computed_at``; in one transaction, so a
        reader sees a day's old rollup or its new one. The number of rows written."""
        conn = self._conn
        with conn.begin():
            cells = live_energy_cells(conn, tenant_id, midnight(first), midnight(stop), ReportFilter())
            r = energy_rollup
            conn.execute(delete(r).where(r.c.tenant_id == tenant_id, r.c.day >= first, r.c.day < stop))
            if cells:
                conn.execute(
                    insert(r),
                    [
                        {
                            "tenant_id": tenant_id,
                            "charge_point_id": c.charge_point_id,
                            "day": c.day,
                            "energy_wh": c.energy_wh,
                            "session_count": c.session_count,
                            "computed_at": computed_at,
                        }
                        for c in cells
                    ],
                )
            days = pg_insert(energy_rollup_days).values(
                [
                    {"tenant_id": tenant_id, "day": first + timedelta(days=i), "computed_at": computed_at}
                    for i in range((stop - first).days)
                ]
            )
            conn.execute(
                days.on_conflict_do_update(
                    index_elements=["tenant_id", "day"], set_={"computed_at": days.excluded.computed_at}
                )
            )
        return len(cells)
