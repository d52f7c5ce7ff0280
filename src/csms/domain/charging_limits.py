"""Limits from outside the CSMS and what vehicles need: a station reports that an external
system (an energy manager, the grid operator, a local controller) limits it (2.0.1
NotifyChargingLimit, ClearedChargingLimit), and what an ISO 15118 vehicle asks for
(NotifyEVChargingNeeds). Load management reads them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from csms.domain.events import DomainEvent


@dataclass(frozen=True, slots=True)
class ChargingLimit:
    #: EMS, Other, SO (system operator) or CSO.
    source: str
    #: The station's EVSE, or None for the whole station.
    evse_id: int | None = None
    is_grid_critical: bool | None = None
    #: The limiting schedules as the station sent them (2.0.1 ChargingScheduleType).
    schedules: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class ChargingNeeds:
    evse_id: int
    #: AC_single_phase, AC_three_phase, DC or AC_BPT...: how the vehicle wants its energy.
    requested_energy_transfer: str
    departure_time: datetime | None = None
    max_schedule_tuples: int | None = None
    #: The AC or DC parameters as the station sent them.
    parameters: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class StoredChargingLimit:
    limit: ChargingLimit
    reported_at: datetime
    cleared_at: datetime | None


class ChargingLimitStore(Protocol):
    def set_limit(
        self, tenant_id: str, charge_point_id: str, limit: ChargingLimit, at: datetime, announce: DomainEvent
    ) -> None:
        """The source's current limit on that EVSE (or the station), replacing its previous one."""
        ...

    def clear_limit(
        self,
        tenant_id: str,
        charge_point_id: str,
        source: str,
        evse_id: int | None,
        at: datetime,
        announce: DomainEvent,
    ) -> bool:
        """The source no longer limits that EVSE (or the station); False if it did not."""
        ...

    def limits(self, tenant_id: str, charge_point_id: str) -> list[StoredChargingLimit]:
        """The limits in force (not cleared)."""
        ...

    def set_needs(self, tenant_id: str, charge_point_id: str, needs: ChargingNeeds, at: datetime) -> None:
        """The vehicle's latest needs on that EVSE."""
        ...
