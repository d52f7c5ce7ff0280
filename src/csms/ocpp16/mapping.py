"""OCPP 1.6 vocabulary onto the version-neutral model: connectors, statuses.

A 1.6 charge point has connectors 1..n and connector 0 for itself; the model has EVSEs with
connectors. 1.6 connector N is EVSE N with connector 1, connector 0 is EVSE 0 connector 0, so
a 1.6 connector id and its EVSE id are the same number. Its ChargePointStatus names the
charging state too; the normalized state and charging state are below (migration 0010
applied the same table to the statuses stored before).
"""

from __future__ import annotations

from typing import Final

from csms.domain.stations import AvailabilityState, ChargingState, ConnectorRef

_A, _O = AvailabilityState, AvailabilityState.OCCUPIED

#: ChargePointStatus → (state, charging state).
STATUS_STATES: Final[dict[str, tuple[AvailabilityState, ChargingState | None]]] = {
    "Available": (_A.AVAILABLE, ChargingState.IDLE),
    "Preparing": (_O, ChargingState.EV_CONNECTED),
    "Charging": (_O, ChargingState.CHARGING),
    "SuspendedEV": (_O, ChargingState.SUSPENDED_EV),
    "SuspendedEVSE": (_O, ChargingState.SUSPENDED_EVSE),
    "Finishing": (_O, ChargingState.EV_CONNECTED),
    "Reserved": (_A.RESERVED, None),
    "Unavailable": (_A.UNAVAILABLE, None),
    "Faulted": (_A.FAULTED, None),
}


def connector_ref(connector_id: int) -> ConnectorRef:
    """The EVSE and connector of 1.6 connector ``connector_id``."""
    return ConnectorRef(connector_id, 1 if connector_id > 0 else 0)


def connector_number(evse_id: int) -> int:
    """The 1.6 connector id of an EVSE (its only connector, as 1.6 knows one per EVSE)."""
    return evse_id


def status_states(status: str) -> tuple[AvailabilityState, ChargingState | None]:
    """The normalized state and charging state of a 1.6 ChargePointStatus."""
    return STATUS_STATES[status]
