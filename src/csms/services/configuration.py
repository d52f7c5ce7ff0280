"""A charger's known configuration as operators read it (the charger reports it in answers to
GetConfiguration and ChangeConfiguration: see csms.ocpp16.commands)."""

from __future__ import annotations

from csms.domain.device_model import ConfigurationEntry, ConfigurationStore


class ConfigurationService:
    def __init__(self, store: ConfigurationStore) -> None:
        self._store = store

    def entries(self, tenant_id: str, charge_point_id: str) -> list[ConfigurationEntry]:
        """Every key the charger reported, known or not, by key."""
        return self._store.entries(tenant_id, charge_point_id)
