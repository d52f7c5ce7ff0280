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
    StationSummary,
    StatusEntry,
    StatusQuery,
    evses,
)
from csms.domain.tenancy import TenantScope
from csms.errors import InvalidInput
from csms.security import hash_password
from csms.services.provisioning import (
    ProvisionedCharger,
    ProvisioningService,
    check_password,
    check_security_profile,
)
from csms.services.stations import Stations

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChargePointView:
    charge_point: ChargingStation
    connection: ConnectionRecord | None
    connectors: list[ConnectorView] = field(default_factory=list)
    #: In a listing: its connectors, running transactions and power (None elsewhere).
    summary: StationSummary | None = None

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
        security_profile: int | None = None,
    ) -> ProvisionedCharger:
        """Add a station; ``ocpp_version`` pins it to one protocol (None: it may use any). It
        needs a password (or one generated) unless ``security_profile`` is 0."""
        if location_id is not None and not self._queries.location_exists(scope.tenant_id, location_id):
            raise InvalidInput(f"no location {location_id!r}")
        pin = _pin(ocpp_version)
        now = self._clock.now()
        added = self._provisioning.add_charger(
            charge_point_id,
            scope.tenant_id,
            now,
            password=password,
            generate=generate_password,
            security_profile=security_profile,
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
        """A page of the tenant's stations, each with its live connection and its summary
        (connectors, running transactions, power). What it costs depends on the page, not on
        the tenant's size, except for ``online``: that filter needs the whole connected set
        (one Query of the connections' tenant index, without their ``last_seen``)."""
        if online is None:
            charge_points, total = self._queries.search(scope.tenant_id, query)
            live = self._connections.connections_of([cp.id for cp in charge_points])
        else:
            connected = self._connections.tenant_connections(scope.tenant_id, last_seen=False)
            if online:
                query = _with(query, only_ids=list(connected))
            else:
                query = _with(query, exclude_ids=list(connected))
            charge_points, total = self._queries.search(scope.tenant_id, query)
            live = self._connections.with_last_seen(
                {cp.id: connected[cp.id] for cp in charge_points if cp.id in connected}
            )
        summaries = self._queries.summaries(scope.tenant_id, [cp.id for cp in charge_points])
        return [
            ChargePointView(cp, live.get(cp.id), summary=summaries.get(cp.id, StationSummary()))
            for cp in charge_points
        ], total

    def get(self, scope: TenantScope, charge_point_id: str) -> ChargePointView:
        charge_point = self._stations.require(scope, charge_point_id)
        # Its own connection by key: not the tenant's whole connected set (ADR 0004's index).
        live = self._connections.connections_of([charge_point_id]).get(charge_point_id)
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
        security_profile: int | None = None,
    ) -> ChargePointView:
        """Change what is given; ``set_location`` / ``set_ocpp_version`` with None clear the
        location / the protocol pin (the station may then negotiate either protocol).

        A new or cleared password, another security profile, or the status Rejected closes
        the station's live connection at once: it must connect again under the new terms.
        """
        current = self._stations.require(scope, charge_point_id)
        changes: dict[str, Any] = {}
        if password is not None and clear_password:
            raise InvalidInput("give either password or clearPassword, not both")
        if clear_password and security_profile != 0:
            raise InvalidInput("clearPassword needs securityProfile 0 (connecting without a password)")
        if password is not None:
            check_password(password)
            keep = current.security_profile if current.needs_password else None
            changes["security_profile"] = check_security_profile(
                keep if security_profile is None else security_profile, has_password=True
            )
            changes["password_hash"] = hash_password(password)
        elif security_profile is not None:
            has_password = current.password_hash is not None and security_profile != 0
            changes["security_profile"] = check_security_profile(security_profile, has_password)
            if security_profile == 0:
                changes["password_hash"] = None
        if changes.get("security_profile", current.security_profile) != current.security_profile:
            changes["security_profile_source"] = "station"
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
        revoked = (
            "password_hash" in changes
            or changes.get("security_profile", current.security_profile) != current.security_profile
            or registration_status is RegistrationStatus.REJECTED
        )
        if revoked:
            self._close_live_connection(charge_point_id, "its credentials or status changed")
        return self.get(scope, charge_point_id)

    def _close_live_connection(self, charge_point_id: str, why: str) -> None:
        """Close the station's current connection (@connections DELETE), if it has one."""
        current = self._connections.current_connection(charge_point_id)
        if current is None or self._sender is None:
            return
        fields = {"charge_point_id": charge_point_id, "why": why}
        try:
            self._sender.close(current)
            log.info("closed the station's connection", extra=fields)
        except Exception:
            log.exception("could not close the station's connection", extra=fields)

    def decommission(self, scope: TenantScope, charge_point_id: str) -> None:
        """Refuse the charger's future connections and close its current one; keep history."""
        charge_point = self._stations.require(scope, charge_point_id)
        if charge_point.decommissioned_at is None:
            self._queries.update(
                scope.tenant_id, charge_point_id, {"decommissioned_at": self._clock.now()}, self._clock.now()
            )
        self._close_live_connection(charge_point_id, "decommissioned")


def _pin(ocpp_version: str | None) -> str | None:
    if ocpp_version is not None and ocpp_version not in OCPP_VERSIONS:
        raise InvalidInput(f"ocppVersion must be one of {', '.join(OCPP_VERSIONS)} (or null)")
    return ocpp_version


def _with(query: ChargePointQuery, **changes: Any) -> ChargePointQuery:
    from dataclasses import replace

    return replace(query, **changes)
