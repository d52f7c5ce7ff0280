"""reservations: open reservations past their expiry date become expired (each with a
ReservationStateChanged event).

The connector's status consequence: OCPP 1.6 has the charger drop an expired reservation by
itself and report the connector with a StatusNotification. The CSMS never invents that
report; where the charger still last reported the connector ``Reserved`` (and no other open
reservation holds it), the job asks the connected charger for its status with a
TriggerMessage(StatusNotification), so the stored status catches up with the charger's.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from csms.domain.tenancy import TenantScope

if TYPE_CHECKING:
    from csms.jobs.context import JobServices

log = logging.getLogger(__name__)


def run(services: JobServices, now: datetime) -> dict[str, Any]:
    expiry = services.reservations.expire(now)
    asked = 0
    for tenant_id, charge_point_id, evse_id in expiry.still_reserved:
        try:
            if services.connections.current_connection(charge_point_id) is None:
                continue  # offline: it reports its status when it reconnects
            # Asked in the reservation's tenant, as the job; a reservation of no particular EVSE
            # asks for every connector's status.
            body: dict[str, Any] = {"requestedMessage": "StatusNotification"}
            if evse_id is not None and evse_id > 0:
                body["evseId"] = evse_id
            services.commands.submit(
                TenantScope(tenant_id, subject="job:reservations"), charge_point_id, "trigger-message", body
            )
            asked += 1
        except Exception:  # one charger must not stop the others; the next expiry is its own
            log.exception(
                "could not ask for the connector's status", extra={"charge_point_id": charge_point_id}
            )
    return {"expired": expiry.expired, "status_requested": asked}
