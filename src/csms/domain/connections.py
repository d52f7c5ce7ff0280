"""Connections: which charger is behind which live WebSocket, and sending it frames
(DynamoDB and API Gateway's @connections in production)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

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


class ConnectionStore(Protocol):
    def register(self, record: ConnectionRecord) -> str | None:
        """Make ``record`` the charger's current connection. Returns the connection id it
        replaced, if any."""
        ...

    def touch(self, connection_id: str, at: datetime) -> ConnectionRecord | None:
        """Note activity on a connection and return its record (None if unknown)."""
        ...

    def set_registration_status(self, connection_id: str, status: RegistrationStatus) -> None: ...

    def unregister(self, connection_id: str) -> ConnectionRecord | None:
        """Forget a closed connection. Returns its record if it was the charger's current one
        (the charger went offline), None if a newer connection had replaced it (or it was
        unknown, or closed already)."""
        ...

    def current_connection(self, charge_point_id: str) -> str | None: ...

    def tenant_connections(self, tenant_id: str) -> dict[str, ConnectionRecord]:
        """The tenant's connected chargers, by charge point id."""
        ...


class FrameSender(Protocol):
    def send(self, connection_id: str, frame: str) -> None:
        """Send one text frame; raises ConnectionGone if the connection no longer exists."""
        ...

    def close(self, connection_id: str) -> None:
        """Close a connection from the server side (no error if it is already gone)."""
        ...
