"""Firmware management: what chargers report about firmware updates and diagnostics uploads,
kept as a timeline per charger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class EventKind(StrEnum):
    FIRMWARE = "firmware"
    DIAGNOSTICS = "diagnostics"


@dataclass(frozen=True, slots=True)
class ChargePointEvent:
    """One status a charger reported (e.g. firmware ``Downloading``, diagnostics ``Uploaded``)."""

    id: int
    kind: EventKind
    status: str
    received_at: datetime
    #: The ``requestId`` of the command the status reports on (2.0.1 UpdateFirmware / GetLog);
    #: None for 1.6, whose notifications carry none.
    request_id: int | None = None


class ChargePointEventStore(Protocol):
    def add(
        self,
        tenant_id: str,
        charge_point_id: str,
        kind: EventKind,
        status: str,
        at: datetime,
        request_id: int | None = None,
    ) -> None: ...

    def timeline(
        self, tenant_id: str, charge_point_id: str, kind: EventKind, limit: int, offset: int
    ) -> tuple[list[ChargePointEvent], int]:
        """Newest first, with the total number of events of that kind."""
        ...
