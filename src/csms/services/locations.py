"""Locations: the sites where a tenant's charge points stand, and which chargers are where.

A charge point is at no location or at exactly one; assigning it to another location moves
it. Deleting a location leaves its chargers unassigned (their history is untouched).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any

from csms.clock import Clock
from csms.domain.locations import (
    EDITABLE,
    LOCATION_ID_PATTERN,
    Location,
    LocationDetail,
    LocationQueries,
    LocationQuery,
)
from csms.domain.tenancy import TenantScope
from csms.errors import AlreadyExists, InvalidInput, NotFound

#: Generated ids: Crockford's base32 alphabet in lower case (no i, l, o, u to misread).
_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_ID_LENGTH = 12  # 60 bits: collisions are negligible, and retried anyway
#: Every officially assigned ISO 3166-1 alpha-2 code.
COUNTRY_CODES = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
    EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
    HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
    LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
    NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    """.split()  # noqa: SIM905  (a block of 249 codes reads better than 249 lines)
)


def new_location_id() -> str:
    """A fresh random location id (12 characters of lower-case base32)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))


class LocationService:
    def __init__(
        self, queries: LocationQueries, clock: Clock, new_id: Callable[[], str] = new_location_id
    ) -> None:
        self._queries = queries
        self._clock = clock
        self._new_id = new_id

    def create(self, scope: TenantScope, location_id: str | None, fields: dict[str, Any]) -> LocationDetail:
        """Create a location with the given id, or a generated one; AlreadyExists if taken.

        ``fields`` are columns of :data:`EDITABLE`; those left out are empty.
        """
        fields = {name: fields.get(name) for name in EDITABLE}
        _check(fields)
        now = self._clock.now()
        if location_id is not None:
            if not LOCATION_ID_PATTERN.match(location_id):
                raise InvalidInput(f"id: {location_id!r} is not 1-64 letters, digits, '.', '_' or '-'")
            if not self._queries.add(scope.tenant_id, location_id, fields, now):
                raise AlreadyExists(f"a location {location_id!r} exists already")
            return self.get(scope, location_id)
        for _ in range(3):  # a collision of 60 random bits is all but impossible: retry anyway
            candidate = self._new_id()
            if self._queries.add(scope.tenant_id, candidate, fields, now):
                return self.get(scope, candidate)
        raise AlreadyExists("could not allocate a location id; retry")  # pragma: no cover

    def search(self, scope: TenantScope, query: LocationQuery) -> tuple[list[Location], int]:
        return self._queries.search(scope.tenant_id, query)

    def get(self, scope: TenantScope, location_id: str) -> LocationDetail:
        location = self._require(scope, location_id)
        return LocationDetail(location, self._queries.charge_point_ids(scope.tenant_id, location_id))

    def update(self, scope: TenantScope, location_id: str, changes: dict[str, Any]) -> LocationDetail:
        """Change the given fields (None clears an optional one)."""
        current = self._require(scope, location_id)
        if changes.get("name", "") is None:
            raise InvalidInput("name: a location must have a name")
        merged = {name: getattr(current, name) for name in EDITABLE} | changes
        _check(merged)
        if changes:
            self._queries.update(scope.tenant_id, location_id, changes, self._clock.now())
        return self.get(scope, location_id)

    def delete(self, scope: TenantScope, location_id: str) -> None:
        if not self._queries.delete(scope.tenant_id, location_id, self._clock.now()):
            raise NotFound(f"no location {location_id!r}")

    def assign(self, scope: TenantScope, location_id: str, charge_point_ids: Sequence[str]) -> LocationDetail:
        """Put every given charger at the location (moving it from another one), or none of them."""
        wanted = list(dict.fromkeys(charge_point_ids))
        if not wanted:
            raise InvalidInput("stationIds: give at least one station id")
        unknown = self._queries.assign(scope.tenant_id, location_id, wanted, self._clock.now())
        if unknown is None:
            raise NotFound(f"no location {location_id!r}")
        if unknown:
            names = ", ".join(repr(i) for i in wanted if i in unknown)
            raise InvalidInput(f"stationIds: no station {names}; nothing was assigned")
        return self.get(scope, location_id)

    def unassign(self, scope: TenantScope, location_id: str, charge_point_id: str) -> None:
        self._require(scope, location_id)
        if not self._queries.unassign(scope.tenant_id, location_id, charge_point_id, self._clock.now()):
            raise NotFound(f"station {charge_point_id!r} is not at location {location_id!r}")

    def _require(self, scope: TenantScope, location_id: str) -> Location:
        found = self._queries.get(scope.tenant_id, location_id)
        if found is None:
            raise NotFound(f"no location {location_id!r}")
        return found


def _check(fields: dict[str, Any]) -> None:
    """Rules across fields (each field's own format is the adapter's to check)."""
    if not fields.get("name"):
        raise InvalidInput("name: a location must have a name")
    country = fields.get("country")
    if country is not None and country not in COUNTRY_CODES:
        raise InvalidInput(f"country: {country!r} is not an ISO 3166-1 alpha-2 code")
    if (fields.get("latitude") is None) != (fields.get("longitude") is None):
        raise InvalidInput("coordinates: give both latitude and longitude, or neither")
