"""Locations: the sites where a tenant's charge points stand (the rules are
:mod:`csms.services.locations`)."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

#: Location ids are the last segment of ``/locations/{id}``: short and URL-safe.
LOCATION_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Location:
    id: str
    name: str
    created_at: datetime
    updated_at: datetime
    address: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    #: Chargers assigned to the location, not counting decommissioned ones.
    charge_point_count: int = 0


@dataclass(frozen=True, slots=True)
class LocationDetail:
    location: Location
    #: The (not decommissioned) chargers at the location, sorted.
    charge_point_ids: list[str]


@dataclass(frozen=True, slots=True)
class LocationQuery:
    name_contains: str | None = None
    country: str | None = None
    sort: str = "name"  # name | createdAt
    descending: bool = False
    limit: int = 50
    offset: int = 0


#: The columns an operator sets: name, address, city, postal_code, country, latitude, longitude.
EDITABLE = ("name", "address", "city", "postal_code", "country", "latitude", "longitude")


class LocationQueries(Protocol):
    def add(self, tenant_id: str, location_id: str, fields: dict[str, Any], now: datetime) -> bool:
        """Insert the location; False (and nothing changed) if the id is taken."""
        ...

    def search(self, tenant_id: str, query: LocationQuery) -> tuple[list[Location], int]: ...

    def get(self, tenant_id: str, location_id: str) -> Location | None: ...

    def charge_point_ids(self, tenant_id: str, location_id: str) -> list[str]: ...

    def update(self, tenant_id: str, location_id: str, changes: dict[str, Any], now: datetime) -> bool: ...

    def delete(self, tenant_id: str, location_id: str, now: datetime) -> bool:
        """Unassign its chargers and delete it; False if there is no such location."""
        ...

    def assign(
        self, tenant_id: str, location_id: str, charge_point_ids: Collection[str], now: datetime
    ) -> set[str] | None:
        """Put all the chargers at the location, atomically.

        Returns the ids that are not chargers of the tenant (then nothing changed), or None
        if the location does not exist.
        """
        ...

    def unassign(self, tenant_id: str, location_id: str, charge_point_id: str, now: datetime) -> bool:
        """Take the charger off the location; False if it is not at that location."""
        ...
