"""Charge points as operators see them: provisioning, live state, connectors, decommissioning."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from csms.clock import Clock
from csms.domain.connections import ConnectionRecord, ConnectionStore, FrameSender
from csms.domain.stations import (
    ChargePointQuery,
    ChargingStation,
    ConnectorState,
    FleetQueries,
    RegistrationStatus,
    StatusEntry,
)
from csms.domain.tenancy import TenantScope
from csms.errors import InvalidInput
from csms.security import hash_password
from csms.services.provisioning import MAX_PASSWORD_LENGTH, ProvisionedCharger, ProvisioningService
from csms.services.stations import Stations

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChargePointView:
    charge_point: ChargingStation
    connection: ConnectionRecord | None
    connectors: list[ConnectorState] = field(default_factory=list)


class FleetService:
    def __init__(
        self,
        queries: FleetQueries,
        stations: Stations,
        provisioning: ProvisioningService,
        connections: ConnectionStore,
        sender: FrameSender | None,
        clock: Clock,
    ) -> None:
        self._queries = queries
        self._stations = stations
        self._provisioning = provisioning
        self._connections = connections
        self._sender = sender
        self._clock = clock

    def provision(
        self,
        scope: TenantScope,
        charge_point_id: str,
        *,
        password: str | None,
        generate_password: bool,
        location_id: str | None,
    ) -> ProvisionedCharger:
        if location_id is not None and not self._queries.location_exists(scope.tenant_id, location_id):
            raise InvalidInput(f"no location {location_id!r}")
        now = self._clock.now()
        added = self._provisioning.add_charger(
            charge_point_id, scope.tenant_id, now, password=password, generate=generate_password
        )
        if location_id is not None:
            self._queries.update(scope.tenant_id, charge_point_id, {"location_id": location_id}, now)
            added = ProvisionedCharger(
                self._stations.require(scope, charge_point_id), added.generated_password
            )
        return added

    def search(
        self, scope: TenantScope, query: ChargePointQuery, online: bool | None
    ) -> tuple[list[ChargePointView], int]:
        live = self._connections.tenant_connections(scope.tenant_id)
        if online is True:
            query = _with(query, only_ids=list(live))
        elif online is False:
            query = _with(query, exclude_ids=list(live))
        charge_points, total = self._queries.search(scope.tenant_id, query)
        return [ChargePointView(cp, live.get(cp.id)) for cp in charge_points], total

    def get(self, scope: TenantScope, charge_point_id: str) -> ChargePointView:
        charge_point = self._stations.require(scope, charge_point_id)
        live = self._connections.tenant_connections(scope.tenant_id).get(charge_point_id)
        return ChargePointView(charge_point, live, self._queries.connectors(scope.tenant_id, charge_point_id))

    def connectors(self, scope: TenantScope, charge_point_id: str) -> list[ConnectorState]:
        self._stations.require(scope, charge_point_id)
        return self._queries.connectors(scope.tenant_id, charge_point_id)

    def status_history(
        self,
        scope: TenantScope,
        charge_point_id: str,
        connector_id: int,
        start: datetime | None,
        end: datetime | None,
        limit: int,
        offset: int,
    ) -> tuple[list[StatusEntry], int]:
        self._stations.require(scope, charge_point_id)
        return self._queries.status_history(
            scope.tenant_id, charge_point_id, connector_id, start, end, limit, offset
        )

    def connected(self, scope: TenantScope) -> list[ConnectionRecord]:
        return sorted(
            self._connections.tenant_connections(scope.tenant_id).values(), key=lambda r: r.charge_point_id
        )

    def update(
        self,
        scope: TenantScope,
        charge_point_id: str,
        *,
        password: str | None = None,
        clear_password: bool = False,
        registration_status: RegistrationStatus | None = None,
        location_id: str | None = None,
        set_location: bool = False,
    ) -> ChargePointView:
        self._stations.require(scope, charge_point_id)
        changes: dict[str, Any] = {}
        if password is not None and clear_password:
            raise InvalidInput("give either password or clearPassword, not both")
        if password is not None:
            if not 1 <= len(password) <= MAX_PASSWORD_LENGTH:
                raise InvalidInput(f"password must be 1-{MAX_PASSWORD_LENGTH} characters")
            changes["password_hash"] = hash_password(password)
        if clear_password:
            changes["password_hash"] = None
        if registration_status is not None:
            changes["registration_status"] = registration_status.value
        if set_location:
            if location_id is not None and not self._queries.location_exists(scope.tenant_id, location_id):
                raise InvalidInput(f"no location {location_id!r}")
            changes["location_id"] = location_id
        if changes:
            self._queries.update(scope.tenant_id, charge_point_id, changes, self._clock.now())
        return self.get(scope, charge_point_id)

    def decommission(self, scope: TenantScope, charge_point_id: str) -> None:
        """Refuse the charger's future connections and close its current one; keep history."""
        charge_point = self._stations.require(scope, charge_point_id)
        if charge_point.decommissioned_at is None:
            self._queries.update(
                scope.tenant_id, charge_point_id, {"decommissioned_at": self._clock.now()}, self._clock.now()
            )
        current = self._connections.current_connection(charge_point_id)
        if current is not None and self._sender is not None:
            try:
                self._sender.close(current)
            except Exception:
                log.exception("could not close the decommissioned charger's connection")


def _with(query: ChargePointQuery, **changes: Any) -> ChargePointQuery:
    from dataclasses import replace

    return replace(query, **changes)
