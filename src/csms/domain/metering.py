"""Metering: the sampled values chargers report (energy registers, power, SoC...)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

#: The register that says how much energy went to the vehicle.
ENERGY_REGISTER: Final = "Energy.Active.Import.Register"


@dataclass(frozen=True, slots=True)
class MeterSample:
    """One sampled value, with every OCPP qualifier resolved to its default."""

    timestamp: datetime
    value: str
    measurand: str = ENERGY_REGISTER
    phase: str | None = None
    unit: str = "Wh"
    context: str = "Sample.Periodic"
    location: str = "Outlet"
    format: str = "Raw"


@dataclass(frozen=True, slots=True)
class AddedSamples:
    """Outcome of storing meter samples."""

    #: How many were new (a retried frame adds none).
    new: int
    #: The transaction they were stored with: the one the charger named if it is one of its
    #: own, else None (another charger's or an unknown id is not followed).
    transaction_id: int | None


class MeterValueRepository(Protocol):
    def add_samples(
        self,
        tenant_id: str,
        charge_point_id: str,
        connector_id: int,
        transaction_id: int | None,
        samples: Sequence[MeterSample],
        received_at: datetime,
    ) -> AddedSamples:
        """Insert samples, skipping ones already stored (retried frames), with
        ``transaction_id`` only if it is one of the charger's transactions. Returns how many
        were new and the transaction they were stored with."""
        ...
