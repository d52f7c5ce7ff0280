"""OCPP 1.6 vocabulary onto the version-neutral model: connectors, statuses, id tags.

A 1.6 charge point has connectors 1..n and connector 0 for itself; the model has EVSEs with
connectors. 1.6 connector N is EVSE N with connector 1, connector 0 is EVSE 0 connector 0, so
a 1.6 connector id and its EVSE id are the same number. Its ChargePointStatus names the
charging state too; the normalized state and charging state are below (migration 0010
applied the same table to the statuses stored before).

A 1.6 id tag is an id token without a type (looked up by value, see
:mod:`csms.domain.tokens`); 1.6 knows five of the ten authorization statuses, the others
are said with the nearest of its own (:data:`AUTHORIZATION_STATUS`).
"""

from __future__ import annotations

from typing import Any, Final

from csms.domain.events import iso
from csms.domain.stations import AvailabilityState, ChargingState, ConnectorRef
from csms.domain.tokens import AuthorizationStatus, IdTokenInfo

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


_S = AuthorizationStatus
#: The neutral statuses 1.6 has no word for, as the 1.6 status a station acts on the same way:
#: a token that may not charge here or now, or without credit, is Blocked; one the tenant does
#: not know is Invalid (1.6's "not known").
AUTHORIZATION_STATUS: Final[dict[AuthorizationStatus, str]] = {
    **{
        status: status.value for status in (_S.ACCEPTED, _S.BLOCKED, _S.EXPIRED, _S.INVALID, _S.CONCURRENT_TX)
    },
    _S.NO_CREDIT: _S.BLOCKED.value,
    _S.NOT_ALLOWED_TYPE_EVSE: _S.BLOCKED.value,
    _S.NOT_AT_THIS_LOCATION: _S.BLOCKED.value,
    _S.NOT_AT_THIS_TIME: _S.BLOCKED.value,
    _S.UNKNOWN: _S.INVALID.value,
}

#: The longest id tag 1.6 carries (IdToken is a CiString20).
MAX_ID_TAG_LENGTH: Final = 20


def id_tag_info(info: IdTokenInfo) -> dict[str, Any]:
    """A 1.6 IdTagInfo: the status in 1.6's words, the expiry date, the group as parentIdTag."""
    out: dict[str, Any] = {"status": AUTHORIZATION_STATUS[info.status]}
    if info.expiry_date is not None:
        out["expiryDate"] = iso(info.expiry_date)
    if info.group is not None and len(info.group.value) <= MAX_ID_TAG_LENGTH:
        out["parentIdTag"] = info.group.value
    return out
