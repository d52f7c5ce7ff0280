"""Connections: which charger is behind which live WebSocket, and sending it frames
(DynamoDB and API Gateway's @connections in production)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol

from csms.domain.stations import RegistrationStatus


@dataclass(frozen=True, slots=True)
class ConnectionRecord:
    """A live WebSocket connection and the charger behind it."""

    connection_id: str
    charge_point_id: str
    tenant_id: str
    protocol: str
    connected_at: datetime
    registration_status: RegistrationStatus = RegistrationStatus.ACCEPTED
    last_seen: datetime | None = None
    #: True from $connect until the station's first frame on it was answered while Accepted
    #: (then commands that waited for it are sent: csms.app.message).
    awaiting_first_frame: bool = False


class ConnectionStore(Protocol):
    def register(self, record: ConnectionRecord) -> str | None:
        """Make ``record`` the charger's current connection. Returns the connection id it
        replaced, if any."""
        ...

    def touch(self, connection_id: str, at: datetime) -> ConnectionRecord | None:
        """Note activity on a connection and return its record (None if unknown)."""
        ...

    def set_registration_status(self, connection_id: str, status: RegistrationStatus) -> None: ...

    def first_frame_answered(self, connection_id: str) -> bool:
        """Clear the connection's ``awaiting_first_frame`` if the station is Accepted on it;
        True for the one call that cleared it."""
        ...

    def unregister(self, connection_id: str) -> ConnectionRecord | None:
        """Forget a closed connection. Returns its record if it was the charger's current one
        (the charger went offline), None if a newer connection had replaced it (or it was
        unknown, or closed already)."""
        ...

    def current_connection(self, charge_point_id: str) -> str | None: ...

    def current_record(self, charge_point_id: str) -> ConnectionRecord | None:
        """The charger's current connection with its negotiated protocol (None: offline)."""
        ...

    def tenant_connections(self, tenant_id: str, *, last_seen: bool = True) -> dict[str, ConnectionRecord]:
        """The tenant's connected chargers, by charge point id; without ``last_seen`` their
        records may carry a stale ``last_seen`` (cheaper: who is connected, for a filter)."""
        ...

    def with_last_seen(self, records: Mapping[str, ConnectionRecord]) -> dict[str, ConnectionRecord]:
        """These records (by charge point id) with their current ``last_seen``."""
        ...

    def connections_of(self, charge_point_ids: Sequence[str]) -> dict[str, ConnectionRecord]:
        """The current connections of these stations (the connected ones), with ``last_seen``:
        a cost in the number of stations asked for, not in the tenant's size."""
        ...


class ConnectionCensus(Protocol):
    def count_connected(self) -> int:
        """How many chargers have a current connection (all tenants)."""
        ...


class FrameSender(Protocol):
    def send(self, connection_id: str, frame: str) -> None:
        """Send one text frame; raises ConnectionGone if the connection no longer exists."""
        ...

    def close(self, connection_id: str) -> None:
        """Close a connection from the server side (no error if it is already gone)."""
        ...


# --- the liveness job (csms.services.liveness) -------------------------------------------------


class StoredConnection(NamedTuple):
    record: ConnectionRecord
    closed: bool


class LivenessSnapshot(NamedTuple):
    #: Charge point id → its current connection, from the ``cp#`` items (their ``last_seen``
    #: is the time of connecting: frames touch only the ``conn#`` item).
    current: dict[str, ConnectionRecord]
    #: Connection id → record, for every ``conn#`` item not closed (``last_seen`` as touched).
    open: dict[str, ConnectionRecord]


class LivenessConnections(Protocol):
    """What the liveness job needs of the connection store."""

    def liveness_scan(self) -> LivenessSnapshot: ...

    def open_connection(self, connection_id: str) -> StoredConnection | None: ...

    def close_stale(
        self, connection_id: str, at: datetime, *, if_last_seen: datetime | None = None
    ) -> ConnectionRecord | None: ...

    def release(self, charge_point_id: str, connection_id: str) -> bool: ...

    def current_connection(self, charge_point_id: str) -> str | None: ...


class ConnectionProbe(Protocol):
    """API Gateway's ``@connections``: is a connection still open, and closing it."""

    def exists(self, connection_id: str) -> bool: ...

    def close(self, connection_id: str) -> None: ...


class HeartbeatIntervals(Protocol):
    def heartbeat_intervals(self, charge_point_ids: Sequence[str]) -> dict[str, int]: ...
