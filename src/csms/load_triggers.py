"""The domain events that reallocate a site (ADR 0024 §3), defined once: the CDK app creates an
EventBridge rule per pattern on the domain-event bus, targeting the load-triggers SQS queue that
feeds the scheduled function, and ``csms dev`` creates the same rules and queue on its local bus
(moto delivers matching events to SQS) and polls the queue as Lambda's event source mapping does.
"""

from __future__ import annotations

from typing import Any, Final

from csms.domain.events import EVENT_SOURCE

#: A session begins or ends, a station comes or goes: its site is reallocated.
LIFECYCLE_TYPES: Final = (
    "TransactionStarted",
    "TransactionStopped",
    "ChargerConnected",
    "ChargerDisconnected",
    "ChargerWentOffline",
)
#: Meter values with a current reading: reallocated when an EVSE draws notably less than it was
#: given, or up to a limit it was given below its maximum (the consumer judges).
METER_TYPE: Final = "MeterValuesReceived"
MEASURAND: Final = "Current.Import"


def patterns(source: str = EVENT_SOURCE, *, within_arrays: bool = True) -> dict[str, dict[str, Any]]:
    """Rule name suffix -> EventBridge event pattern. ``within_arrays``: the meter rule keeps
    only frames with a current sample (EventBridge matches a field of the objects of an array;
    moto does not, so the local stack passes False and the consumer alone filters, as it does
    on AWS too)."""
    current: dict[str, Any] = {"source": [source], "detail-type": [METER_TYPE]}
    if within_arrays:
        current["detail"] = {"data": {"samples": {"measurand": [MEASURAND]}}}
    return {"lifecycle": {"source": [source], "detail-type": list(LIFECYCLE_TYPES)}, "current": current}
