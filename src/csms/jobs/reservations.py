"""reservations: open reservations past their expiry date become expired (each with a
ReservationStateChanged event). The charger drops an expired reservation by itself and
reports the connector Available with a StatusNotification; until then the connector's stored
status stays what the charger last said (we never invent a status report)."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def run(now: datetime) -> dict[str, Any]:
    from csms.app import wiring

    return {"expired": wiring.reservations().expire_reservations(now)}
