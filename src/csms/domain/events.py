"""Domain events: what integrators (billing, roaming, dashboards, alerting) subscribe to.

Every meaningful state change produces a :class:`DomainEvent`. Events are written to the
``domain_events`` table in the same database transaction as the change they describe (the
outbox), published to the EventBridge bus after that transaction commits, and served to
operators from the same table by the live feed (``GET /api/v1/events``). The catalogue below
is the contract: each type has a version and a JSON schema for its ``data``, published in
``docs/events.md`` (generated: ``csms events-doc``) and checked against every emitted event by
the tests.

A correlation id ties together the events one cause produced: the frame a charger sent
(``ocpp:{stationId}:{uniqueId}``), a command (``command:{commandId}``), a connection
(``connection:{connectionId}``) or a scheduled job run (``job:{name}:{runId}``). The code that
handles the cause sets it with :func:`correlation`; :func:`new_event` reads it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from csms.domain.stations import AvailabilityState, ChargingState
from csms.domain.tokens import IdToken

#: EventBridge ``Source`` of every event we publish.
EVENT_SOURCE: Final = "csms"

_correlation: ContextVar[str | None] = ContextVar("csms_correlation_id", default=None)


@contextmanager
def correlation(correlation_id: str) -> Iterator[str]:
    """Events created inside the block carry ``correlation_id``."""
    token = _correlation.set(correlation_id)
    try:
        yield correlation_id
    finally:
        _correlation.reset(token)


def current_correlation() -> str | None:
    return _correlation.get()


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """One event. ``data`` follows the type's schema in :data:`CATALOGUE` (camelCase keys)."""

    type: str
    tenant_id: str
    charge_point_id: str | None
    occurred_at: datetime
    correlation_id: str
    data: dict[str, Any]
    version: int = 1
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def envelope(self, sequence: int | None = None) -> dict[str, Any]:
        """The JSON document integrators receive (EventBridge ``detail``, feed item)."""
        document: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "version": self.version,
            "tenantId": self.tenant_id,
            "stationId": self.charge_point_id,
            "occurredAt": iso(self.occurred_at),
            "correlationId": self.correlation_id,
            "data": self.data,
        }
        if sequence is not None:
            document["sequence"] = sequence
        return document

    @classmethod
    def from_envelope(cls, document: dict[str, Any]) -> DomainEvent:
        """The event an :meth:`envelope` describes (the same id: recording it twice is a no-op)."""
        return cls(
            type=str(document["type"]),
            tenant_id=str(document["tenantId"]),
            charge_point_id=document.get("stationId", document.get("chargePointId")),
            occurred_at=datetime.fromisoformat(str(document["occurredAt"]).replace("Z", "+00:00")),
            correlation_id=str(document["correlationId"]),
            data=dict(document["data"]),
            version=int(document["version"]),
            id=str(document["id"]),
        )


def iso(value: datetime) -> str:
    """UTC, ISO 8601, millisecond precision, ``Z`` suffix (as OCPP writes times)."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_or_none(value: datetime | None) -> str | None:
    return iso(value) if value is not None else None


def token_data(token: IdToken | None) -> dict[str, Any] | None:
    """An id token as events carry it: ``{idToken, type}`` (type null for a 1.6 id tag)."""
    if token is None:
        return None
    return {"idToken": token.value, "type": token.type.value if token.type else None}


def new_event(
    type: str,
    tenant_id: str,
    charge_point_id: str | None,
    at: datetime,
    data: dict[str, Any],
    *,
    correlation_id: str | None = None,
) -> DomainEvent:
    """An event of a catalogued type, correlated with the current cause."""
    spec = CATALOGUE.get(type)
    if spec is None:
        raise ValueError(f"{type!r} is not in the event catalogue")
    return DomainEvent(
        type=type,
        tenant_id=tenant_id,
        charge_point_id=charge_point_id,
        occurred_at=at,
        correlation_id=correlation_id or current_correlation() or f"csms:{uuid.uuid4()}",
        data=data,
        version=spec.version,
    )


class EventRecorder(Protocol):
    def add(self, *events: DomainEvent) -> None:
        """Record domain events in this unit of work: they exist only if it commits, and
        are published after it does."""
        ...


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as the outbox holds it: its feed position and how often publishing failed."""

    sequence: int
    event: DomainEvent
    publish_attempts: int = 0


class EventPublisher(Protocol):
    def publish(self, events: Sequence[StoredEvent]) -> dict[int, str]:
        """Publish ``events``; returns the failures (sequence → error). Raises only if the
        whole call failed (all events count as failed then)."""
        ...


class EventLog(Protocol):
    """The outbox's bookkeeping, for the relay."""

    def unpublished(self, older_than: datetime, limit: int) -> list[StoredEvent]: ...
    def mark_published(self, sequences: Sequence[int], at: datetime) -> None: ...
    def mark_failed(self, failures: dict[int, str], at: datetime, max_attempts: int) -> list[int]: ...
    def mark_dead(self, sequences: Sequence[int], at: datetime) -> None: ...
    def prune(self, before: datetime, batch: int = 10_000) -> int: ...
    def backlog(self) -> int: ...


class EventParking(Protocol):
    """Where events that could not be recorded wait for PostgreSQL (a queue on AWS).

    Only events about state kept outside PostgreSQL use it (a WebSocket connected or closed,
    a charger gone silent): their change has happened whether or not the database is up.
    """

    def park(self, events: Sequence[DomainEvent]) -> None:
        """Keep ``events`` durably; raises if they could not be kept."""
        ...

    def take(self, limit: int) -> list[tuple[str, DomainEvent]]:
        """Up to ``limit`` parked events, each with a handle to :meth:`release` it by; an event
        taken and not released comes back later."""
        ...

    def release(self, handles: Sequence[str]) -> None:
        """Forget events that are recorded now."""
        ...

    def give_back(self, handles: Sequence[str]) -> None:
        """Make taken events available again at once (they could not be recorded)."""
        ...


class EventFeed(Protocol):
    """The outbox read as a tenant's live feed (``GET /api/v1/events``)."""

    def feed(
        self,
        tenant_id: str,
        after: int,
        limit: int,
        *,
        types: Sequence[str] = (),
        charge_point_id: str | None = None,
    ) -> list[StoredEvent]:
        """The tenant's settled events after the one whose sequence is ``after`` (0: from the
        start), in feed order."""
        ...

    def head(self, tenant_id: str) -> int:
        """The cursor of the tenant's latest settled event (0 if none)."""
        ...


# --- the catalogue ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventSpec:
    version: int
    description: str
    #: JSON schema (draft-07) of ``data``.
    data_schema: dict[str, Any]


_TIME = {"type": "string", "format": "date-time"}
_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
_STR_OR_NULL = {"type": ["string", "null"]}
_INT = {"type": "integer"}
_INT_OR_NULL = {"type": ["integer", "null"]}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": sorted(properties) if required is None else required,
        "additionalProperties": False,
    }


#: An id token: its value and type (null: presented by a 1.6 station, which gives none).
_ID_TOKEN = _object({"idToken": {"type": "string"}, "type": _STR_OR_NULL})
_ID_TOKEN_OR_NULL = {"oneOf": [_ID_TOKEN, {"type": "null"}]}

#: A transaction as every transaction event names it: ours (transactionRef, the API's id) and
#: the protocol's (transactionId: a 1.6 charger's integer as text, a 2.0.1 station's string).
_TRANSACTION = {
    "transactionRef": _INT,
    "transactionId": {"type": "string"},
    "protocol": {"enum": ["ocpp1.6", "ocpp2.0.1"]},
    "evseId": _INT_OR_NULL,
    "connectorId": _INT_OR_NULL,
    "idToken": _ID_TOKEN_OR_NULL,
    "meterStart": _INT_OR_NULL,
    "startTimestamp": _TIME,
    "reservationId": _INT_OR_NULL,
    "remoteStartId": _INT_OR_NULL,
}

_STOP = {
    "meterStop": _INT_OR_NULL,
    "stopTimestamp": _TIME,
    "reason": _STR_OR_NULL,
    "stopIdToken": _ID_TOKEN_OR_NULL,
    "energyWh": _INT_OR_NULL,
    "deauthorized": {"type": "boolean"},
}

_STATES: list[str | None] = [s.value for s in AvailabilityState]
_CHARGING_STATES: list[str | None] = [s.value for s in ChargingState]

_SAMPLE = _object(
    {
        "timestamp": _TIME,
        "measurand": {"type": "string"},
        "phase": _STR_OR_NULL,
        "unit": {"type": "string"},
        "context": {"type": "string"},
        "location": {"type": "string"},
        "format": {"type": "string"},
        "value": {"type": "string"},
    }
)

CATALOGUE: Final[dict[str, EventSpec]] = {
    "ChargerConnected": EventSpec(
        2,
        "A charger opened a WebSocket connection and was admitted.",
        _object(
            {
                "connectionId": {"type": "string"},
                "protocol": {"type": "string"},
                "registrationStatus": {"enum": ["Accepted", "Pending", "Rejected"]},
                "replacedConnectionId": _STR_OR_NULL,
            }
        ),
    ),
    "ChargerDisconnected": EventSpec(
        2,
        "The charger's current connection closed (a connection already replaced by a newer "
        "one closing is not a disconnect).",
        _object(
            {
                "connectionId": {"type": "string"},
                "closeCode": _INT_OR_NULL,
                "closeReason": _STR_OR_NULL,
            }
        ),
    ),
    "ChargerBooted": EventSpec(
        2,
        "A station sent BootNotification; data is what it says about itself and our answer. "
        "chargeBoxSerialNumber, meterType and meterSerialNumber come from 1.6 stations only, "
        "bootReason from 2.0.1 stations only (null otherwise).",
        _object(
            {
                "registrationStatus": {"enum": ["Accepted", "Pending", "Rejected"]},
                "heartbeatInterval": _INT,
                "vendor": {"type": "string"},
                "model": {"type": "string"},
                "serialNumber": _STR_OR_NULL,
                "chargeBoxSerialNumber": _STR_OR_NULL,
                "firmwareVersion": _STR_OR_NULL,
                "meterType": _STR_OR_NULL,
                "meterSerialNumber": _STR_OR_NULL,
                "bootReason": _STR_OR_NULL,
                "openTransactionRefs": {"type": "array", "items": _INT},
            }
        ),
    ),
    "ChargerWentOffline": EventSpec(
        2,
        "The liveness job found a charger silent for longer than twice its heartbeat interval "
        "plus slack (reason silent), or its connection gone without a $disconnect "
        "(reason connection-gone).",
        _object(
            {
                "connectionId": {"type": "string"},
                "lastSeen": _TIME_OR_NULL,
                "reason": {"enum": ["silent", "connection-gone"]},
                "heartbeatInterval": _INT,
            }
        ),
    ),
    "ConnectorStatusChanged": EventSpec(
        2,
        "A status report became the connector's latest and differs from the previous one "
        "(status, error code or charging state). Reports older than the stored one, and "
        "repeats, produce no event. status is as the station reported it (a 1.6 "
        "ChargePointStatus or a 2.0.1 ConnectorStatus), state and chargingState are normalized "
        "(2.0.1's vocabularies; a 1.6 Charging is state Occupied, chargingState Charging). "
        "evseId 0 connectorId 0 is the station itself. previous* is what was stored when the "
        "report was processed (two reports for one connector processed at the same instant "
        "may name the same one).",
        _object(
            {
                "evseId": _INT,
                "connectorId": _INT,
                "status": {"type": "string"},
                "state": {"enum": _STATES},
                "chargingState": {"enum": [*_CHARGING_STATES, None]},
                "errorCode": _STR_OR_NULL,
                "info": _STR_OR_NULL,
                "vendorId": _STR_OR_NULL,
                "vendorErrorCode": _STR_OR_NULL,
                "statusTimestamp": _TIME,
                "previousStatus": _STR_OR_NULL,
                "previousState": {"enum": [*_STATES, None]},
                "previousChargingState": {"enum": [*_CHARGING_STATES, None]},
                "previousErrorCode": _STR_OR_NULL,
            }
        ),
    ),
    "TransactionStarted": EventSpec(
        2,
        "A transaction was recorded (once: a retried frame produces no second event): a 1.6 "
        "StartTransaction, or the first event of a 2.0.1 transaction the CSMS saw (whatever its "
        "type: meterStart, idToken, EVSE may still be null). authorizationStatus is what the CSMS "
        "answered the token (null: no token yet); deauthorized is true when that was not "
        "Accepted: the transaction is recorded, the station was told to stop.",
        _object({**_TRANSACTION, "authorizationStatus": _STR_OR_NULL, "deauthorized": {"type": "boolean"}}),
    ),
    "TransactionStopped": EventSpec(
        2,
        "A transaction ended: by its station (1.6 StopTransaction, 2.0.1 TransactionEvent Ended; "
        "closedBy charger), or closed by the CSMS where OCPP makes the end certain (closedBy csms, "
        "e.g. a newer 1.6 transaction started on the same connector). energyWh is meterStop - "
        "meterStart (null when a 2.0.1 station gave no register reading). Once per transaction: if "
        "the charger's own stop arrives after a CSMS close, that is a TransactionStopCorrected.",
        _object({**_TRANSACTION, **_STOP, "closedBy": {"enum": ["charger", "csms"]}}),
    ),
    "TransactionStopCorrected": EventSpec(
        2,
        "The charger's own StopTransaction arrived for a transaction the CSMS had closed "
        "(TransactionStopped with closedBy csms): the charger's values replace the CSMS's. "
        "Not a second stop: billing adjusts by energyWh - previousEnergyWh.",
        _object(
            {
                **_TRANSACTION,
                **_STOP,
                "closedBy": {"enum": ["charger"]},
                "previousMeterStop": _INT_OR_NULL,
                "previousStopTimestamp": _TIME,
                "previousEnergyWh": _INT_OR_NULL,
            }
        ),
    ),
    "TransactionFlagged": EventSpec(
        2,
        "A transaction was flagged for an operator (once): no meter value or status for too long "
        "(no-activity); its station rebooted since it began and has not stopped it "
        "(charger-rebooted); the CSMS refused it and the station has not stopped it "
        "(deauthorized-not-stopped); samples taken after its stop arrived, 1.6 "
        "(meter-values-after-stop); an event numbered after its Ended arrived, 2.0.1 "
        "(event-after-end): these two mean station and CSMS disagree on whether it runs; it ended "
        "with a stop reading below its start, a meter replaced or reset (meter-went-backwards): its "
        "energy is negative, to be checked before billing.",
        _object(
            {
                "transactionRef": _INT,
                "transactionId": {"type": "string"},
                "evseId": _INT_OR_NULL,
                "connectorId": _INT_OR_NULL,
                "idToken": _ID_TOKEN_OR_NULL,
                "startTimestamp": _TIME,
                "reason": {
                    "enum": [
                        "no-activity",
                        "charger-rebooted",
                        "deauthorized-not-stopped",
                        "meter-values-after-stop",
                        "event-after-end",
                        "meter-went-backwards",
                    ]
                },
                "lastActivityAt": _TIME,
            }
        ),
    ),
    "MeterValuesReceived": EventSpec(
        2,
        "One frame's samples (all of them, in frame order), when at least one was new (a "
        "retried frame produces no second event): a MeterValues (evseId 0: the station's main "
        "meter), the meter values of a 2.0.1 TransactionEvent. transactionRef/transactionId "
        "name the transaction they belong to (null: none of this station's). Values of 2.0.1 "
        "stations are scaled by their multiplier (value x 10^multiplier).",
        _object(
            {
                "evseId": _INT,
                "transactionRef": _INT_OR_NULL,
                "transactionId": _STR_OR_NULL,
                "newSamples": _INT,
                "samples": {"type": "array", "items": _SAMPLE},
            }
        ),
    ),
    "UnknownTransactionStopRecorded": EventSpec(
        2,
        "A 1.6 StopTransaction named a transaction id this charger never started; it was "
        "accepted (as OCPP requires) and recorded for an operator. (A 2.0.1 event for an unknown "
        "transaction creates it.)",
        _object(
            {
                "transactionId": {"type": "string"},
                "idToken": _ID_TOKEN_OR_NULL,
                "meterStop": _INT,
                "stopTimestamp": _TIME,
                "reason": _STR_OR_NULL,
            }
        ),
    ),
    "CommandFinished": EventSpec(
        2,
        "A command sent to a station reached a final state: accepted or rejected by the "
        "station's answer, failed (CALLERROR, invalid answer, not expressible in the station's "
        "protocol) or timed_out (no answer before the deadline, or expired while the station was "
        "away). name is the neutral command (or the OCPP "
        "action of a protocol-specific one), action the OCPP action sent (null if none was).",
        _object(
            {
                "commandId": {"type": "string"},
                "name": {"type": "string"},
                "action": _STR_OR_NULL,
                "status": {"type": "string"},
                "response": {"type": ["object", "null"]},
                "errorCode": _STR_OR_NULL,
                "reason": _STR_OR_NULL,
            }
        ),
    ),
    "ReservationStateChanged": EventSpec(
        2,
        "A reservation moved in its lifecycle: requested, active, rejected, failed, cancelled, "
        "used (by a transaction) or expired. evseId is the reserved EVSE (1.6 connector N: EVSE N; "
        "0: any connector of a 1.6 charger; null: no particular EVSE of a 2.0.1 station); "
        "idToken the token it is held for (its type is null for one a 1.6 ReserveNow made before "
        "commands took typed tokens); transactionRef the transaction that used it (ours).",
        _object(
            {
                "reservationId": _INT,
                "evseId": _INT_OR_NULL,
                "idToken": _ID_TOKEN,
                "expiryDate": _TIME,
                "status": {
                    "enum": ["requested", "active", "rejected", "cancelled", "used", "expired", "failed"]
                },
                "transactionRef": _INT_OR_NULL,
            }
        ),
    ),
    "SecurityEventReceived": EventSpec(
        1,
        "A station reported a security event (OCPP 2.0.1 SecurityEventNotification): type is "
        "OCPP's name for it (e.g. FirmwareUpdated, InvalidCsmsCertificate, SettingSystemTime) or "
        "the vendor's; timestamp is the station's. A retried report produces no second event.",
        _object({"type": {"type": "string"}, "timestamp": _TIME, "techInfo": _STR_OR_NULL}),
    ),
    "DeviceEventsReported": EventSpec(
        1,
        "A station reported events of its components (OCPP 2.0.1 NotifyEvent): a monitored "
        "variable crossed a threshold (trigger Alerting), changed (Delta) or is reported "
        "periodically. events holds the items not reported before (a retried frame produces no "
        "second event); cleared says a problem reported earlier is gone.",
        _object(
            {
                "events": {
                    "type": "array",
                    "items": _object(
                        {
                            "eventId": _INT,
                            "timestamp": _TIME,
                            "trigger": {"type": "string"},
                            "actualValue": {"type": "string"},
                            "component": {"type": "string"},
                            "componentInstance": _STR_OR_NULL,
                            "evseId": _INT_OR_NULL,
                            "connectorId": _INT_OR_NULL,
                            "variable": {"type": "string"},
                            "variableInstance": _STR_OR_NULL,
                            "notificationType": {"type": "string"},
                            "cause": _INT_OR_NULL,
                            "techCode": _STR_OR_NULL,
                            "techInfo": _STR_OR_NULL,
                            "cleared": {"type": ["boolean", "null"]},
                            "transactionId": _STR_OR_NULL,
                        }
                    ),
                }
            }
        ),
    ),
    "ChargingLimitChanged": EventSpec(
        1,
        "A station reported that a source outside the CSMS (EMS, SO, CSO, Other) limits it or "
        "one of its EVSEs (OCPP 2.0.1 NotifyChargingLimit; schedules as the station sent them), "
        "or no longer does (ClearedChargingLimit: cleared true). evseId null: the whole station.",
        _object(
            {
                "source": {"type": "string"},
                "evseId": _INT_OR_NULL,
                "isGridCritical": {"type": ["boolean", "null"]},
                "cleared": {"type": "boolean"},
                "schedules": {"type": "array", "items": {"type": "object"}},
            }
        ),
    ),
    "AllocationChanged": EventSpec(
        1,
        "Load management gave a site's EVSEs new current limits (ADR 0024). stationId is null "
        "(a site spans stations); cause is what asked for it (Scheduled, TreeChanged, LoadPosted, "
        "LimitScheduleSet, Requested, ProfileRefused, or the domain event types that triggered it "
        "joined by +, e.g. TransactionStarted+ChargerConnected); changes lists each EVSE whose limit "
        "changed, in the order the limits go out (decreases first; increases once every decrease "
        "was accepted); overloadedNodes lists nodes whose uncontrollable load alone exceeds a limit.",
        _object(
            {
                "siteId": {"type": "string"},
                "cause": {"type": "string"},
                "changes": {
                    "type": "array",
                    "items": _object(
                        {
                            "stationId": {"type": "string"},
                            "evseId": _INT,
                            "limitA": {"type": "number"},
                            "previousA": {"type": ["number", "null"]},
                            "paused": {"type": "boolean"},
                        }
                    ),
                },
                "overloadedNodes": {"type": "array", "items": {"type": "string"}},
            }
        ),
    ),
}

ENVELOPE_SCHEMA: Final[dict[str, Any]] = _object(
    {
        "id": {"type": "string", "description": "Unique per event (UUID); deduplicate on it."},
        "type": {"enum": sorted(CATALOGUE)},
        "version": {"type": "integer", "minimum": 1},
        "tenantId": {"type": "string"},
        "stationId": _STR_OR_NULL,
        "occurredAt": _TIME,
        "correlationId": {"type": "string"},
        "sequence": {"type": "integer", "description": "Feed position (live feed only)."},
        "data": {"type": "object"},
    },
    required=["id", "type", "version", "tenantId", "stationId", "occurredAt", "correlationId", "data"],
)
