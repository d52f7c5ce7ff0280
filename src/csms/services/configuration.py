"""A charger's known configuration as operators read it (the charger reports it in answers to
GetConfiguration and ChangeConfiguration: see csms.ocpp16.outbound)."""

from __future__ import annotations

from csms.domain.device_model import ConfigurationEntry, ConfigurationStore
from csms.domain.tenancy import TenantScope
from csms.services.stations import Stations


class ConfigurationService:
    def __init__(self, store: ConfigurationStore, stations: Stations) -> None:
        self._store = store
        self._stations = stations

    def entries(self, scope: TenantScope, charge_point_id: str) -> list[ConfigurationEntry]:
        """Every key the charger reported, known or not, by key."""
        self._stations.require(scope, charge_point_id)
        return self._store.entries(scope.tenant_id, charge_point_id)
