"""The report and location services' own rules, over in-memory queries and a fixed clock."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from csms.clock import FixedClock
from csms.domain.locations import Location, LocationQuery
from csms.domain.reports import ConnectorSeconds, EnergyCell, ReportFilter
from csms.domain.tenancy import TenantScope
from csms.errors import AlreadyExists, InvalidInput, NotFound
from csms.services.locations import LocationService
from csms.services.reports import ReportService
from tests.fakes import stations_where

NOW = datetime(2026, 3, 21, 15, 30, tzinfo=UTC)
TENANT = TenantScope("t")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class FakeReportQueries:
    def __init__(
        self, cells: list[EnergyCell] | None = None, seconds: list[ConnectorSeconds] | None = None
    ) -> None:
        self.cells = cells or []
        self.seconds = seconds or []
        self.asked: list[tuple[datetime, datetime]] = []

    def charge_point_exists(self, tenant_id: str, charge_point_id: str) -> bool:
        return charge_point_id.startswith("CP")

    def location_exists(self, tenant_id: str, location_id: str) -> bool:
        return location_id == "L-1"

    def energy_by_day(
        self, tenant_id: str, start: datetime, end: datetime, scope: ReportFilter
    ) -> list[EnergyCell]:
        self.asked.append((start, end))
        return self.cells

    def charger_locations(self, tenant_id: str, charge_point_ids: Iterable[str]) -> dict[str, str | None]:
        return {c: "L-1" if c == "CP-1" else None for c in charge_point_ids}

    def connector_seconds(
        self, tenant_id: str, start: datetime, end: datetime, scope: ReportFilter
    ) -> list[ConnectorSeconds]:
        self.asked.append((start, end))
        return self.seconds


def a_report_service(queries: FakeReportQueries | None = None) -> ReportService:
    queries = queries or FakeReportQueries()
    return ReportService(queries, stations_where(queries.charge_point_exists), FixedClock(NOW))


def test_the_default_range_is_30_days_up_to_the_end_of_today() -> None:
    service = a_report_service()
    assert service.report_range(None, None) == (at("2026-02-20T00:00:00Z"), at("2026-03-22T00:00:00Z"))
    assert service.report_range(None, at("2026-03-01T00:00:00Z")) == (
        at("2026-01-30T00:00:00Z"),
        at("2026-03-01T00:00:00Z"),
    )
    assert service.report_range(at("2026-03-20T12:00:00+02:00"), None) == (
        at("2026-03-20T10:00:00Z"),
        at("2026-03-22T00:00:00Z"),
    )


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-03-02T00:00:00Z", "2026-03-01T00:00:00Z", "from: must be before to"),
        ("2026-03-01T00:00:00Z", "2026-03-01T00:00:00Z", "from: must be before to"),
        ("2025-03-01T00:00:00Z", "2026-03-02T00:00:01Z", "at most 366 days"),
    ],
)
def test_a_reversed_empty_or_too_long_range_is_refused(start: str, end: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        a_report_service().report_range(at(start), at(end))


def test_366_days_is_the_longest_range() -> None:
    start = at("2025-03-01T00:00:00Z")
    assert a_report_service().report_range(start, start + timedelta(days=366))[0] == start


def test_energy_groups_by_charger_and_day_with_totals() -> None:
    # Given cells of two chargers over two days, out of order
    queries = FakeReportQueries(
        cells=[
            EnergyCell("CP-2", date(2026, 3, 2), 100.0004, 1),
            EnergyCell("CP-1", date(2026, 3, 2), 2000.5, 0),
            EnergyCell("CP-1", date(2026, 3, 1), 1000.25, 2),
        ]
    )
    # When the report is made
    report = a_report_service(queries).energy(
        TENANT, at("2026-03-01T00:00:00Z"), at("2026-03-03T00:00:00Z"), ReportFilter()
    )
    # Then per charger (by id) and per day (in order), rounded to the milliwatt-hour
    assert [
        (c.charge_point_id, c.location_id, c.energy_wh, c.session_count) for c in report.charge_points
    ] == [
        ("CP-1", "L-1", 3000.75, 2),
        ("CP-2", None, 100.0, 1),
    ]
    assert [(d.day, d.energy_wh) for d in report.charge_points[0].days] == [
        (date(2026, 3, 1), 1000.25),
        (date(2026, 3, 2), 2000.5),
    ]
    assert [(d.day, d.energy_wh, d.session_count) for d in report.days] == [
        (date(2026, 3, 1), 1000.25, 2),
        (date(2026, 3, 2), 2100.5, 1),
    ]
    assert (report.energy_wh, report.session_count) == (3100.75, 3)


def test_reports_name_a_missing_charger_or_location() -> None:
    service = a_report_service()
    with pytest.raises(NotFound, match="NOPE"):
        service.energy(TENANT, None, None, ReportFilter(charge_point_id="NOPE"))
    with pytest.raises(NotFound, match="L-9"):
        service.utilisation(TENANT, None, None, ReportFilter(location_id="L-9"))


def test_utilisation_counts_the_elapsed_part_of_the_range() -> None:
    queries = FakeReportQueries(
        seconds=[ConnectorSeconds("CP-1", 1, 1, charging=3600, occupied=5400, unknown=0)]
    )
    # A range from 12:00 today to tomorrow: at 15:30, 3.5 hours have elapsed
    report = a_report_service(queries).utilisation(
        TENANT, at("2026-03-21T12:00:00Z"), at("2026-03-22T12:00:00Z"), ReportFilter()
    )
    assert queries.asked == [(at("2026-03-21T12:00:00Z"), NOW)]
    (connector,) = report.connectors
    assert (connector.range_seconds, connector.charging_seconds, connector.utilisation) == (
        12600.0,
        3600.0,
        0.285714,
    )
    assert (report.range_seconds, report.utilisation) == (12600.0, 0.285714)


def test_utilisation_of_a_range_in_the_future_is_empty() -> None:
    queries = FakeReportQueries(seconds=[ConnectorSeconds("CP-1", 1, 1, charging=1, occupied=1, unknown=0)])
    report = a_report_service(queries).utilisation(
        TENANT, at("2026-03-22T00:00:00Z"), at("2026-03-23T00:00:00Z"), ReportFilter()
    )
    assert queries.asked == []
    assert (report.connectors, report.range_seconds, report.utilisation) == ([], 0.0, None)


class FakeLocationQueries:
    def __init__(self) -> None:
        self.rows: dict[str, tuple[str, dict[str, Any]]] = {}
        self.chargers: dict[str, tuple[str, str | None]] = {"CP-1": ("t", None), "CP-2": ("t", None)}

    def add(self, tenant_id: str, location_id: str, fields: dict[str, Any], now: datetime) -> bool:
        if location_id in self.rows:
            return False
        self.rows[location_id] = (tenant_id, dict(fields))
        return True

    def search(self, tenant_id: str, query: LocationQuery) -> tuple[list[Location], int]:
        raise NotImplementedError

    def get(self, tenant_id: str, location_id: str) -> Location | None:
        found = self.rows.get(location_id)
        if found is None or found[0] != tenant_id:
            return None
        return Location(id=location_id, created_at=NOW, updated_at=NOW, **found[1])

    def charge_point_ids(self, tenant_id: str, location_id: str) -> list[str]:
        return sorted(c for c, (t, loc) in self.chargers.items() if t == tenant_id and loc == location_id)

    def update(self, tenant_id: str, location_id: str, changes: dict[str, Any], now: datetime) -> bool:
        self.rows[location_id][1].update(changes)
        return True

    def delete(self, tenant_id: str, location_id: str, now: datetime) -> bool:
        return self.rows.pop(location_id, None) is not None

    def assign(
        self, tenant_id: str, location_id: str, charge_point_ids: Collection[str], now: datetime
    ) -> set[str] | None:
        if self.get(tenant_id, location_id) is None:
            return None
        unknown = {c for c in charge_point_ids if self.chargers.get(c, ("", None))[0] != tenant_id}
        if not unknown:
            for c in charge_point_ids:
                self.chargers[c] = (tenant_id, location_id)
        return unknown

    def unassign(self, tenant_id: str, location_id: str, charge_point_id: str, now: datetime) -> bool:
        if self.chargers.get(charge_point_id) != (tenant_id, location_id):
            return False
        self.chargers[charge_point_id] = (tenant_id, None)
        return True


def a_location_service(queries: FakeLocationQueries, ids: list[str] | None = None) -> LocationService:
    pending = list(ids or ["generated-1"])
    return LocationService(queries, FixedClock(NOW), new_id=lambda: pending.pop(0))


def test_a_generated_id_that_is_taken_is_drawn_again() -> None:
    queries = FakeLocationQueries()
    queries.rows["taken"] = ("other", {"name": "x"})
    created = a_location_service(queries, ["taken", "fresh"]).create(TENANT, None, {"name": "Depot"})
    assert created.location.id == "fresh"
    assert (created.location.name, created.location.city, created.charge_point_ids) == ("Depot", None, [])


def test_a_given_id_must_be_free_and_url_safe() -> None:
    queries = FakeLocationQueries()
    service = a_location_service(queries)
    service.create(TENANT, "L-1", {"name": "Depot"})
    with pytest.raises(AlreadyExists):
        service.create(TENANT, "L-1", {"name": "Depot"})
    with pytest.raises(InvalidInput, match="id"):
        service.create(TENANT, "a/b", {"name": "Depot"})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "name"),
        ({"name": "D", "country": "XX"}, "country"),
        ({"name": "D", "latitude": 1.0}, "coordinates"),
        ({"name": "D", "longitude": 1.0}, "coordinates"),
    ],
)
def test_creation_rules(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        a_location_service(FakeLocationQueries()).create(TENANT, "L-1", fields)


def test_updates_keep_a_name_and_both_coordinates() -> None:
    queries = FakeLocationQueries()
    service = a_location_service(queries)
    service.create(TENANT, "L-1", {"name": "Depot", "latitude": 1.0, "longitude": 2.0})
    with pytest.raises(InvalidInput, match="name"):
        service.update(TENANT, "L-1", {"name": None})
    with pytest.raises(InvalidInput, match="coordinates"):
        service.update(TENANT, "L-1", {"longitude": None})
    moved = service.update(TENANT, "L-1", {"latitude": 5.0})
    assert (moved.location.latitude, moved.location.longitude) == (5.0, 2.0)
    with pytest.raises(NotFound):
        service.update(TenantScope("other"), "L-1", {"city": "Kiel"})


def test_assignment_is_all_or_nothing_and_names_the_unknown() -> None:
    queries = FakeLocationQueries()
    queries.chargers["CP-OTHER"] = ("other", None)
    service = a_location_service(queries)
    service.create(TENANT, "L-1", {"name": "Depot"})
    with pytest.raises(InvalidInput, match=r"'NOPE', 'CP-OTHER'; nothing was assigned"):
        service.assign(TENANT, "L-1", ["CP-1", "NOPE", "CP-OTHER"])
    assert queries.chargers["CP-1"] == ("t", None)
    assert service.assign(TENANT, "L-1", ["CP-2", "CP-1", "CP-2"]).charge_point_ids == ["CP-1", "CP-2"]
    with pytest.raises(NotFound):
        service.assign(TENANT, "L-2", ["CP-1"])
    service.unassign(TENANT, "L-1", "CP-1")
    with pytest.raises(NotFound, match="not at location"):
        service.unassign(TENANT, "L-1", "CP-1")
