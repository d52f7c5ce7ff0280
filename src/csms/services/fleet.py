"""Charge points as operators see them: provisioning, live state, connectors, decommissioning."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from csms.clock import Clock
from csms.domain.connections import ConnectionRecord, ConnectionStore, FrameSender
from csms.domain.stations import (
    OCPP_VERSIONS,
    ChargePointQuery,
    ChargingStation,
    ConnectorView,
    EvseView,
    FleetQueries,
    RegistrationStatus,
    StatusEntry,
    StatusQuery,
    evses,
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
    connectors: list[ConnectorView] = field(default_factory=list)

    @property
    def evses(self) -> list[EvseView]:
        return evses(self.connectors)


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
        ocpp_version: str | None = None,
    ) -> ProvisionedCharger:
        """Add a station; ``ocpp_version`` pins it to one protocol (None: it may use any)."""
        if location_id is not None and not self._queries.location_exists(scope.tenant_id, location_id):
            raise InvalidInput(f"no location {location_id!r}")
        pin = _pin(ocpp_version)
        now = self._clock.now()
        added = self._provisioning.add_charger(
            charge_point_id, scope.tenant_id, now, password=password, generate=generate_password
        )
        settings = {"location_id": location_id, "ocpp_version": pin}
        if location_id is not None or pin is not None:
            self._queries.update(
                scope.tenant_id, charge_point_id, {k: v for k, v in settings.items() if v is not None}, now
            )
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

    def connectors(self, scope: TenantScope, charge_point_id: str) -> list[ConnectorView]:
        self._stations.require(scope, charge_point_id)
        return self._queries.connectors(scope.tenant_id, charge_point_id)

    def evses(self, scope: TenantScope, charge_point_id: str) -> list[EvseView]:
        """The station's EVSEs with their connectors, as far as status reports made them known."""
        return evses(self.connectors(scope, charge_point_id))

    def status_history(
        self, scope: TenantScope, charge_point_id: str, query: StatusQuery
    ) -> tuple[list[StatusEntry], int]:
        self._stations.require(scope, charge_point_id)
        return self._queries.status_history(scope.tenant_id, charge_point_id, query)

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
        ocpp_version: str | None = None,
        set_ocpp_version: bool = False,
    ) -> ChargePointView:
        """Change what is given; ``set_location`` / ``set_ocpp_version`` with None clear the
        location / the protocol pin (the station may then negotiate either protocol)."""
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
        if set_ocpp_version:
            changes["ocpp_version"] = _pin(ocpp_version)
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


def _pin(ocpp_version: str | None) -> str | None:
    if ocpp_version is not None and ocpp_version not in OCPP_VERSIONS:
        raise InvalidInput(f"ocppVersion must be one of {', '.join(OCPP_VERSIONS)} (or null)")
    return ocpp_version


def _with(query: ChargePointQuery, **changes: Any) -> ChargePointQuery:
    from dataclasses import replace

    return replace(query, **changes)
