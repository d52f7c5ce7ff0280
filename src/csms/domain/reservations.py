"""Reservations: a connector held for an id tag until an expiry date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class UsedReservation:
    """The reservation a StartTransaction used."""

    reservation_id: int
    connector_id: int
    id_tag: str
    expiry_date: datetime
