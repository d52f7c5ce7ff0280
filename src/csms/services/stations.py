"""The one check that a charge point is within a tenant scope.

Every service operation the operator API reaches about one charge point starts here: a
charge point of another tenant does not exist for the caller (NotFound, 404), and one that is
decommissioned takes no more commands (Conflict, 409).
"""

from __future__ import annotations

from csms.domain.stations import ChargingStation, StationLookup
from csms.domain.tenancy import TenantScope
from csms.errors import Conflict, NotFound


class Stations:
    def __init__(self, lookup: StationLookup) -> None:
        self._lookup = lookup

    def require(self, scope: TenantScope, charge_point_id: str) -> ChargingStation:
        """The scope's charge point; NotFound if the tenant has none of that id."""
        found = self._lookup.get(scope.tenant_id, charge_point_id)
        if found is None:
            raise NotFound(f"no station {charge_point_id!r}")
        return found

    def require_in_service(self, scope: TenantScope, charge_point_id: str) -> ChargingStation:
        """As :meth:`require`, and Conflict if the charge point is decommissioned."""
        charge_point = self.require(scope, charge_point_id)
        if charge_point.decommissioned_at is not None:
            raise Conflict(f"station {charge_point_id!r} is decommissioned")
        return charge_point
