"""A charger's known configuration (from GetConfiguration, kept current by ChangeConfiguration)."""

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
