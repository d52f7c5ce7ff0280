"""A charger's configuration as the CSMS knows it (from GetConfiguration, kept current by
ChangeConfiguration). OCPP 1.6 key/value today; OCPP 2.0.1's device model (component, EVSE,
variable, attribute) is what it grows into."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class ConfigurationEntry:
    key: str
    value: str | None
    readonly: bool | None
    #: False for keys the charger reported as unknown.
    known: bool
    updated_at: datetime


class ConfigurationStore(Protocol):
    def store_report(
        self,
        tenant_id: str,
        charge_point_id: str,
        keys: list[dict[str, Any]],
        unknown_keys: list[str],
        at: datetime,
    ) -> None:
        """Record a GetConfiguration answer (upsert every reported key)."""
        ...

    def set_value(self, tenant_id: str, charge_point_id: str, key: str, value: str, at: datetime) -> None: ...

    def entries(self, tenant_id: str, charge_point_id: str) -> list[ConfigurationEntry]: ...
