"""Report queries behind :class:`csms.domain.reports.ReportQueries`.

Both reports aggregate in PostgreSQL and return one row per charger and day (energy) or
per connector (utilisation), however many samples or status reports lie behind them.
Times are handled as epoch seconds, so UTC days do not depend on the session time zone.

The energy report reads whole days the meter-housekeeping job rolled up from
``energy_rollup`` and computes only the rest live (:func:`energy_cells`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Float,
    Select,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import TIMESTAMP

from csms.data.database import PgDatabase
from csms.data.tables import (
    charge_points,
    connector_status_history,
    connectors,
    energy_rollup,
    energy_rollup_days,
    locations,
    meter_samples,
    transactions,
)
from csms.domain.metering import ENERGY_REGISTER
from csms.domain.reports import ConnectorSeconds, EnergyCell, ReportFilter
from csms.domain.stations import AvailabilityState, ChargingState

DAY = 86400
_CHARGING, _OCCUPIED = ChargingState.CHARGING.value, AvailabilityState.OCCUPIED.value
_EPOCH = date(1970, 1, 1)
_WH_PER_UNIT = {"Wh": 1.0, "kWh": 1000.0}
#: What a register reading must be to count (with ENERGY_REGISTER): csms.data.housekeeping uses the
#: same filter to tell which late samples change a rolled-up day.
REGISTER_PHASE, REGISTER_LOCATION, REGISTER_UNITS = "", "Outlet", tuple(_WH_PER_UNIT)


def _epoch(column: Any) -> ColumnElement[float]:
    return func.extract("epoch", column).cast(Float)


def _day_of(seconds: Any) -> ColumnElement[int]:
    return func.floor(seconds / literal(float(DAY))).cast(BigInteger)


def _scoped(query: Select[Any], charger_column: Any, tenant_id: str, scope: ReportFilter) -> Select[Any]:
    if scope.charge_point_id is not None:
        query = query.where(charger_column == scope.charge_point_id)
    if scope.location_id is not None:
        # The charger's current location: moving a charger moves its history in the report.
        query = query.where(
            charger_column.in_(
                select(charge_points.c.id).where(
                    charge_points.c.tenant_id == tenant_id, charge_points.c.location_id == scope.location_id
                )
            )
        )
    return query


# --- energy: the rollup for complete days, computed live for the rest --------------------------


def whole_days(start: datetime, end: datetime) -> tuple[date, date]:
    """The UTC days lying entirely in [start, end), as [first, stop) (empty when first >= stop)."""
    first = start.astimezone(UTC).date()
    if start.astimezone(UTC) > datetime.combine(first, time(), tzinfo=UTC):
        first += timedelta(days=1)
    return first, end.astimezone(UTC).date()


def live_ranges(start: datetime, end: datetime, rolled_up: Iterable[date]) -> list[tuple[datetime, datetime]]:
    """[start, end) without the (whole) days in ``rolled_up``: the parts to compute live, each a
    maximal interval, in order. Two of them never share a day (a rolled-up day lies between)."""
    ranges: list[tuple[datetime, datetime]] = []
    cursor = start
    for day in sorted(rolled_up):
        day_start = datetime.combine(day, time(), tzinfo=UTC)
        if day_start > cursor:
            ranges.append((cursor, day_start))
        cursor = max(cursor, day_start + timedelta(days=1))
    if cursor < end:
        ranges.append((cursor, end))
    return ranges


def energy_cells(
    conn: Connection, tenant_id: str, start: datetime, end: datetime, scope: ReportFilter
) -> list[EnergyCell]:
    """The energy report's cells for [start, end): read from ``energy_rollup`` for the whole
    days the meter-housekeeping job rolled up (``energy_rollup_days``), computed live from the
    transactions and raw samples (:func:`live_energy_cells`) for everything else: today, a
    partial first or last day, days not rolled up yet.

    The job writes exactly what :func:`live_energy_cells` gives for a day, so the numbers are
    the same either way; the rollup is what keeps them right once retention has deleted the
    raw samples. A day's rollup rows and its marker are written in one transaction and a
    marker is never removed, so the days read here from the rollup are complete.
    """
    first, stop = whole_days(start, end)
    rolled_up: set[date] = set()
    if first < stop:
        d = energy_rollup_days
        rolled_up = set(
            conn.execute(
                select(d.c.day).where(d.c.tenant_id == tenant_id, d.c.day >= first, d.c.day < stop)
            ).scalars()
        )
    cells: list[EnergyCell] = []
    if rolled_up:
        r = energy_rollup
        query = _scoped(
            select(r.c.charge_point_id, r.c.day, r.c.energy_wh, r.c.session_count).where(
                r.c.tenant_id == tenant_id, r.c.day >= min(rolled_up), r.c.day <= max(rolled_up)
            ),
            r.c.charge_point_id,
            tenant_id,
            scope,
        )
        cells = [
            EnergyCell(row.charge_point_id, row.day, float(row.energy_wh), int(row.session_count))
            for row in conn.execute(query)
            if row.day in rolled_up
        ]
    for lo, hi in live_ranges(start, end, rolled_up):
        cells.extend(live_energy_cells(conn, tenant_id, lo, hi, scope))
    return cells


def live_energy_cells(
    conn: Connection, tenant_id: str, start: datetime, end: datetime, scope: ReportFilter
) -> list[EnergyCell]:
    """Energy delivered and sessions started per charger and UTC day in [start, end), computed
    from the transactions and their raw samples (the rules are in :mod:`csms.services.reports`).

    A day inside [start, end) gets the same numbers whatever the rest of the range: each
    segment of the register curve is spread over the days it spans, and only then clipped.
    """
    t = transactions
    # Transactions delivering energy in the range: started before its end, not stopped before its
    # start (one that starts and stops at the range start with energy puts it there).
    tx = _scoped(
        select(
            t.c.id,
            t.c.charge_point_id,
            t.c.start_timestamp.label("started"),
            t.c.stop_timestamp.label("stopped"),
            t.c.meter_start.cast(Float).label("first"),
            # The last reading: meterStop, never below meterStart (a replaced meter); open: none.
            # (A 2.0.1 transaction without register readings has neither: it adds no energy.)
            case(
                (t.c.meter_stop.is_(None), None),
                else_=func.greatest(t.c.meter_stop, t.c.meter_start),
            )
            .cast(Float)
            .label("last"),
        ).where(
            t.c.tenant_id == tenant_id,
            t.c.start_timestamp < end,
            or_(t.c.stop_timestamp.is_(None), t.c.stop_timestamp >= start),
        ),
        t.c.charge_point_id,
        tenant_id,
        scope,
    ).cte("tx")

    s = meter_samples
    unit = case(*((s.c.unit == u, f) for u, f in _WH_PER_UNIT.items()))
    # Readings strictly inside the transaction, clamped to [meterStart, meterStop].
    sampled = (
        select(
            tx.c.id,
            tx.c.charge_point_id,
            s.c.timestamp.label("at"),
            func.greatest(tx.c.first, func.least(s.c.numeric_value * unit, tx.c.last)).label("wh"),
        )
        .select_from(tx)
        .join(
            s,
            and_(
                s.c.transaction_id == tx.c.id,
                s.c.tenant_id == tenant_id,
                s.c.charge_point_id == tx.c.charge_point_id,
            ),
        )
        .where(
            s.c.measurand == ENERGY_REGISTER,
            s.c.phase == REGISTER_PHASE,
            s.c.location == REGISTER_LOCATION,
            s.c.unit.in_(REGISTER_UNITS),
            s.c.numeric_value.is_not(None),
            s.c.timestamp > tx.c.started,
            or_(tx.c.stopped.is_(None), s.c.timestamp < tx.c.stopped),
        )
    )
    points = union_all(
        select(tx.c.id, tx.c.charge_point_id, tx.c.started.label("at"), tx.c.first.label("wh")),
        sampled,
        select(tx.c.id, tx.c.charge_point_id, tx.c.stopped, tx.c.last).where(tx.c.stopped.is_not(None)),
    ).cte("points")

    # The register as a non-decreasing curve (running maximum of the readings).
    curve = select(
        points.c.id,
        points.c.charge_point_id,
        _epoch(points.c.at).label("t"),
        func.max(points.c.wh)
        .over(partition_by=points.c.id, order_by=(points.c.at, points.c.wh), rows=(None, 0))
        .label("wh"),
    ).cte("curve")
    after = (curve.c.t, curve.c.wh)
    segments = (
        select(
            curve.c.charge_point_id,
            curve.c.t.label("t0"),
            curve.c.wh.label("wh0"),
            func.lead(curve.c.t).over(partition_by=curve.c.id, order_by=after).label("t1"),
            func.lead(curve.c.wh).over(partition_by=curve.c.id, order_by=after).label("wh1"),
        )
    ).subquery("all_segments")
    rising = select(segments).where(segments.c.wh1 > segments.c.wh0).subquery("segments")

    # Each rising segment, clipped to the range, spread over the UTC days it spans.
    lo, hi = literal(start.timestamp()), literal(end.timestamp())
    a = func.greatest(rising.c.t0, lo)
    b = func.least(rising.c.t1, hi)
    days = func.generate_series(_day_of(a), _day_of(b)).table_valued("d").render_derived().lateral("days")
    day_start = days.c.d.cast(Float) * DAY
    overlap = func.least(b, day_start + DAY) - func.greatest(a, day_start)
    delta = rising.c.wh1 - rising.c.wh0
    share = case(
        # A jump at one instant (two readings with one timestamp) counts where it happened.
        (rising.c.t1 == rising.c.t0, case((and_(rising.c.t0 >= lo, rising.c.t0 < hi), delta), else_=0.0)),
        else_=delta * func.greatest(overlap, 0.0) / (rising.c.t1 - rising.c.t0),
    )
    energy = (
        select(rising.c.charge_point_id, days.c.d.label("day"), func.sum(share).label("wh"))
        .select_from(rising.join(days, true()))
        .where(a <= b)
        .group_by(rising.c.charge_point_id, days.c.d)
    )
    sessions = _scoped(
        select(
            t.c.charge_point_id,
            _day_of(_epoch(t.c.start_timestamp)).label("day"),
            func.count().label("sessions"),
        )
        .where(
            t.c.tenant_id == tenant_id,
            t.c.start_timestamp >= start,
            t.c.start_timestamp < end,
            # A start the CSMS refused (or deauthorized later) is no charging session.
            t.c.deauthorized_at.is_(None),
        )
        .group_by(t.c.charge_point_id, "day"),
        t.c.charge_point_id,
        tenant_id,
        scope,
    )
    cells: dict[tuple[str, int], list[float]] = {}
    for row in conn.execute(energy):
        if row.wh > 0:
            cells[(row.charge_point_id, int(row.day))] = [float(row.wh), 0]
    for row in conn.execute(sessions):
        cells.setdefault((row.charge_point_id, int(row.day)), [0.0, 0])[1] = int(row.sessions)
    return [
        EnergyCell(charger, _EPOCH + timedelta(days=day), wh, int(count))
        for (charger, day), (wh, count) in cells.items()
    ]


class PgReportQueries:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def location_exists(self, tenant_id: str, location_id: str) -> bool:
        return self._db.exists(locations, location_id, tenant_id)

    def charger_locations(self, tenant_id: str, charge_point_ids: Iterable[str]) -> dict[str, str | None]:
        with self._db.connect() as conn:
            rows = conn.execute(
                select(charge_points.c.id, charge_points.c.location_id).where(
                    charge_points.c.tenant_id == tenant_id, charge_points.c.id.in_(list(charge_point_ids))
                )
            )
            return {r.id: r.location_id for r in rows}

    def energy_by_day(
        self, tenant_id: str, start: datetime, end: datetime, scope: ReportFilter
    ) -> list[EnergyCell]:
        with self._db.connect() as conn:
            return energy_cells(conn, tenant_id, start, end, scope)

    def connector_seconds(
        self, tenant_id: str, start: datetime, end: datetime, scope: ReportFilter
    ) -> list[ConnectorSeconds]:
        h = connector_status_history
        known = _scoped(
            select(connectors.c.charge_point_id, connectors.c.evse_id, connectors.c.connector_id).where(
                connectors.c.tenant_id == tenant_id, connectors.c.evse_id > 0
            ),
            connectors.c.charge_point_id,
            tenant_id,
            scope,
        ).cte("known")
        same_connector = and_(
            h.c.tenant_id == tenant_id,
            h.c.charge_point_id == known.c.charge_point_id,
            h.c.evse_id == known.c.evse_id,
            h.c.connector_id == known.c.connector_id,
        )
        # The state the connector was in when the range began...
        last_before = (
            select(h.c.state, h.c.charging_state, h.c.status_timestamp, h.c.id)
            .where(same_connector, h.c.status_timestamp < start)
            .order_by(h.c.status_timestamp.desc(), h.c.id.desc())
            .limit(1)
            .lateral("last_before")
        )
        # ...and every report within it.
        connector = (known.c.charge_point_id, known.c.evse_id, known.c.connector_id)
        events = union_all(
            select(
                *connector,
                last_before.c.state,
                last_before.c.charging_state,
                last_before.c.status_timestamp,
                last_before.c.id,
            ).select_from(known.join(last_before, true())),
            select(*connector, h.c.state, h.c.charging_state, h.c.status_timestamp, h.c.id)
            .select_from(known.join(h, same_connector))
            .where(h.c.status_timestamp >= start, h.c.status_timestamp < end),
        ).cte("events")
        begin = literal(start, TIMESTAMP(timezone=True))
        finish = literal(end, TIMESTAMP(timezone=True))
        by_connector = (events.c.charge_point_id, events.c.evse_id, events.c.connector_id)
        spans = select(
            *by_connector,
            events.c.state,
            events.c.charging_state,
            func.greatest(events.c.status_timestamp, begin).label("since"),
            func.lead(events.c.status_timestamp, 1, finish)
            .over(partition_by=by_connector, order_by=(events.c.status_timestamp, events.c.id))
            .label("until"),
        ).subquery("spans")
        seconds = _epoch(spans.c.until - spans.c.since)
        totals = (
            select(
                spans.c.charge_point_id,
                spans.c.evse_id,
                spans.c.connector_id,
                func.sum(seconds).filter(spans.c.charging_state == _CHARGING).label("charging"),
                func.sum(seconds).filter(spans.c.state == _OCCUPIED).label("occupied"),
                func.sum(seconds).label("known"),
            )
            .group_by(spans.c.charge_point_id, spans.c.evse_id, spans.c.connector_id)
            .subquery("totals")
        )
        query = select(
            *connector,
            func.coalesce(totals.c.charging, 0.0).label("charging"),
            func.coalesce(totals.c.occupied, 0.0).label("occupied"),
            func.coalesce(totals.c.known, 0.0).label("known"),
        ).select_from(
            known.outerjoin(
                totals,
                and_(
                    totals.c.charge_point_id == known.c.charge_point_id,
                    totals.c.evse_id == known.c.evse_id,
                    totals.c.connector_id == known.c.connector_id,
                ),
            )
        )
        range_seconds = (end - start).total_seconds()
        with self._db.connect() as conn:
            return [
                ConnectorSeconds(
                    charge_point_id=r.charge_point_id,
                    evse_id=r.evse_id,
                    connector_id=r.connector_id,
                    charging=float(r.charging),
                    occupied=float(r.occupied),
                    unknown=max(0.0, range_seconds - float(r.known)),
                )
                for r in conn.execute(query)
            ]
