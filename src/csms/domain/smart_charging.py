"""Smart charging: the charging profiles installed on each charger, so an operator can see
what is in force (the rules are :mod:`csms.services.smart_charging`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class ProfileStatus(StrEnum):
    REQUESTED = "requested"
    INSTALLED = "installed"
    REJECTED = "rejected"
    CLEARED = "cleared"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ProfileSpec:
    """A charging profile to install on an EVSE (0 = the whole station; 1.6 connector N is EVSE N)."""

    evse_id: int
    charging_profile_id: int
    purpose: str
    stack_level: int
    kind: str
    #: One to three ChargingSchedules (2.0.1's shape; a 1.6 profile has one).
    schedules: list[dict[str, Any]]
    recurrency_kind: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    #: The protocol's transaction id (a TxProfile's).
    transaction_id: str | None = None


@dataclass(frozen=True, slots=True)
class ChargingProfile:
    """A profile as stored for a charger, with where it stands."""

    id: int
    charge_point_id: str
    spec: ProfileSpec
    status: ProfileStatus
    command_id: str | None
    created_at: datetime
    updated_at: datetime

    def in_force(self, now: datetime) -> bool:
        """Installed and within its validity period."""
        return (
            self.status is ProfileStatus.INSTALLED
            and (self.spec.valid_from is None or self.spec.valid_from <= now)
            and (self.spec.valid_to is None or now < self.spec.valid_to)
        )


@dataclass(frozen=True, slots=True)
class ClearCriteria:
    """What ClearChargingProfile clears: the profile with ``charging_profile_id`` (the other
    fields are then ignored), else every profile matching all the given fields."""

    charging_profile_id: int | None = None
    evse_id: int | None = None
    purpose: str | None = None
    stack_level: int | None = None


@dataclass(frozen=True, slots=True)
class ProfileQuery:
    status: ProfileStatus | None = ProfileStatus.INSTALLED
    evse_id: int | None = None
    limit: int = 50
    offset: int = 0


class ChargingProfileStore(Protocol):
    def add(
        self, tenant_id: str, charge_point_id: str, spec: ProfileSpec, command_id: str, at: datetime
    ) -> int:
        """Insert as ``requested``; returns the row id."""
        ...

    def install(self, command_id: str, at: datetime) -> int:
        """The profile requested by ``command_id`` becomes ``installed`` and the profiles it
        replaces ``cleared``, in one transaction; returns how many it replaced."""
        ...

    def finish(self, command_id: str, status: ProfileStatus, at: datetime) -> bool:
        """The profile requested by ``command_id`` ends ``status`` unless it left ``requested``."""
        ...

    def clear(self, tenant_id: str, charge_point_id: str, criteria: ClearCriteria, at: datetime) -> int: ...

    def search(
        self, tenant_id: str, charge_point_id: str, query: ProfileQuery
    ) -> tuple[list[ChargingProfile], int]: ...
