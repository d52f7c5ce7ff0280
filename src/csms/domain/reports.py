"""Reports: energy and sessions per charger and UTC day, and connector utilisation (the
attribution rules are :mod:`csms.services.reports`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ReportFilter:
    charge_point_id: str | None = None
    location_id: str | None = None


@dataclass(frozen=True, slots=True)
class EnergyCell:
    """What one charger did on one UTC day (the data layer's answer, unrounded)."""

    charge_point_id: str
    day: date
    energy_wh: float
    session_count: int


@dataclass(frozen=True, slots=True)
class EnergyDay:
    day: date
    energy_wh: float
    session_count: int


@dataclass(frozen=True, slots=True)
class ChargerEnergy:
    charge_point_id: str
    location_id: str | None
    energy_wh: float
    session_count: int
    days: list[EnergyDay]


@dataclass(frozen=True, slots=True)
class EnergyReport:
    start: datetime
    end: datetime
    charge_points: list[ChargerEnergy]
    days: list[EnergyDay]
    energy_wh: float
    session_count: int


@dataclass(frozen=True, slots=True)
class ConnectorSeconds:
    """Seconds of the range a connector spent charging, occupied, and with no known status."""

    charge_point_id: str
    evse_id: int
    connector_id: int
    charging: float
    occupied: float
    unknown: float


@dataclass(frozen=True, slots=True)
class ConnectorUtilisation:
    charge_point_id: str
    evse_id: int
    connector_id: int
    charging_seconds: float
    occupied_seconds: float
    unknown_seconds: float
    range_seconds: float
    utilisation: float | None


@dataclass(frozen=True, slots=True)
class UtilisationReport:
    start: datetime
    end: datetime
    connectors: list[ConnectorUtilisation]
    charging_seconds: float
    range_seconds: float
    utilisation: float | None


class ReportQueries(Protocol):
    def location_exists(self, tenant_id: str, location_id: str) -> bool: ...

    def energy_by_day(
        self, tenant_id: str, start: datetime, end: datetime, scope: ReportFilter
    ) -> list[EnergyCell]:
        """Energy delivered and sessions started per charger and UTC day in [start, end)
        (from the daily rollup where it covers whole days, else from the raw data)."""
        ...

    def charger_locations(self, tenant_id: str, charge_point_ids: Iterable[str]) -> dict[str, str | None]: ...

    def connector_seconds(
        self, tenant_id: str, start: datetime, end: datetime, scope: ReportFilter
    ) -> list[ConnectorSeconds]:
        """Per connector of the scope (not the station's own, EVSE 0): seconds in [start, end)
        charging (charging state Charging) and occupied (state Occupied)."""
        ...
