"""Reports over a time range: energy and sessions per charger and day; connector utilisation.

Attribution rules (what operators reconcile against):

- **Days are UTC days.** A range that does not start or end at midnight clips its first and
  last day.
- **A session counts on the day it started**, and only if it started within the range. A
  transaction the CSMS refused (its start, or a 2.0.1 update, answered other than Accepted:
  ``deauthorized``) is not a charging session; the energy a station delivered all the same
  still counts (it was delivered).
- **Energy counts when it was delivered.** A transaction's meter register is followed from
  ``meterStart`` through its ``Energy.Active.Import.Register`` samples (Outlet, all phases
  together, Wh or kWh, including ``transactionData``) to ``meterStop``; between two readings
  the energy is spread evenly over time. An overnight session therefore puts its energy on
  both days, and its days add up to exactly ``meterStop - meterStart``. An open transaction
  counts up to its latest reading. Readings are made monotonic (a reading below an earlier
  one, or above ``meterStop``, is ignored), so a glitching meter never gives negative energy.
- **Utilisation** is the share of the range a connector was charging (charging state
  ``Charging``: a 1.6 status ``Charging``, or a 2.0.1 transaction's charging state); it is
  ``occupied`` while its state is ``Occupied`` (a vehicle plugged in: 1.6 Preparing through
  Finishing). Each status report holds from its timestamp (the station's, not the time we
  received it) until the next report; the last report before the range holds from the range
  start; the part of the range still in the future is not counted. Time before a
  connector's first report is ``unknown``. A station's own status (EVSE 0) is not a
  connector's.

The energy per charger and day of complete UTC days is kept in a daily rollup by the
meter-housekeeping job, computed by these same rules; the report reads it for the whole days
it covers and computes the rest live, so its numbers stay right once retention has deleted
the raw meter samples (see ``docs/operations.md``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from csms.clock import Clock
from csms.domain.reports import (
    ChargerEnergy,
    ConnectorUtilisation,
    EnergyCell,
    EnergyDay,
    EnergyReport,
    ReportFilter,
    ReportQueries,
    UtilisationReport,
)
from csms.domain.tenancy import TenantScope
from csms.errors import InvalidInput, NotFound
from csms.services.stations import Stations

MAX_RANGE = timedelta(days=366)
DEFAULT_RANGE = timedelta(days=30)


def _round(value: float) -> float:
    return round(value, 3)


class ReportService:
    def __init__(self, queries: ReportQueries, stations: Stations, clock: Clock) -> None:
        self._queries = queries
        self._stations = stations
        self._clock = clock

    def report_range(self, start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
        """The range asked for, with defaults: up to the end of today (UTC), 30 days long.

        InvalidInput unless ``start < end`` and the range is at most 366 days.
        """
        if end is None:
            today = self._clock.now().astimezone(UTC).date()
            end = datetime.combine(today + timedelta(days=1), time(), tzinfo=UTC)
        if start is None:
            start = end - DEFAULT_RANGE
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if start >= end:
            raise InvalidInput("from: must be before to")
        if end - start > MAX_RANGE:
            raise InvalidInput(f"from, to: the range may be at most {MAX_RANGE.days} days long")
        return start, end

    def energy(
        self, scope: TenantScope, start: datetime | None, end: datetime | None, where: ReportFilter
    ) -> EnergyReport:
        """Energy (Wh) and sessions per charger and UTC day, per day, and in total."""
        start, end = self.report_range(start, end)
        self._check_filter(scope, where)
        cells = self._queries.energy_by_day(scope.tenant_id, start, end, where)
        by_charger: dict[str, list[EnergyCell]] = defaultdict(list)
        by_day: dict[date, list[EnergyCell]] = defaultdict(list)
        for cell in sorted(cells, key=lambda c: (c.charge_point_id, c.day)):
            by_charger[cell.charge_point_id].append(cell)
            by_day[cell.day].append(cell)
        locations = self._queries.charger_locations(scope.tenant_id, by_charger) if by_charger else {}
        chargers = [
            ChargerEnergy(
                charge_point_id=charger,
                location_id=locations.get(charger),
                energy_wh=_round(sum(c.energy_wh for c in charger_cells)),
                session_count=sum(c.session_count for c in charger_cells),
                days=[EnergyDay(c.day, _round(c.energy_wh), c.session_count) for c in charger_cells],
            )
            for charger, charger_cells in by_charger.items()
        ]
        days = [
            EnergyDay(
                day,
                _round(sum(c.energy_wh for c in day_cells)),
                sum(c.session_count for c in day_cells),
            )
            for day, day_cells in sorted(by_day.items())
        ]
        return EnergyReport(
            start=start,
            end=end,
            charge_points=chargers,
            days=days,
            energy_wh=_round(sum(c.energy_wh for c in cells)),
            session_count=sum(c.session_count for c in cells),
        )

    def utilisation(
        self, scope: TenantScope, start: datetime | None, end: datetime | None, where: ReportFilter
    ) -> UtilisationReport:
        """Per connector: the share of the (elapsed part of the) range it was charging."""
        start, end = self.report_range(start, end)
        self._check_filter(scope, where)
        elapsed_end = min(end, self._clock.now())
        range_seconds = max(0.0, (elapsed_end - start).total_seconds())
        rows = (
            self._queries.connector_seconds(scope.tenant_id, start, elapsed_end, where)
            if range_seconds
            else []
        )
        connectors = [
            ConnectorUtilisation(
                charge_point_id=r.charge_point_id,
                evse_id=r.evse_id,
                connector_id=r.connector_id,
                charging_seconds=_round(r.charging),
                occupied_seconds=_round(r.occupied),
                unknown_seconds=_round(r.unknown),
                range_seconds=_round(range_seconds),
                utilisation=_share(r.charging, range_seconds),
            )
            for r in sorted(rows, key=lambda r: (r.charge_point_id, r.evse_id, r.connector_id))
        ]
        charging = sum(r.charging for r in rows)
        total_range = range_seconds * len(rows)
        return UtilisationReport(
            start=start,
            end=end,
            connectors=connectors,
            charging_seconds=_round(charging),
            range_seconds=_round(total_range),
            utilisation=_share(charging, total_range),
        )

    def _check_filter(self, scope: TenantScope, where: ReportFilter) -> None:
        if where.charge_point_id is not None:
            self._stations.require(scope, where.charge_point_id)
        if where.location_id is not None and not self._queries.location_exists(
            scope.tenant_id, where.location_id
        ):
            raise NotFound(f"no location {where.location_id!r}")


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 6) if whole > 0 else None
