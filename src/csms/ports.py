"""The interfaces services depend on. Production implementations live in ``csms.data``
(PostgreSQL) and ``csms.aws`` (DynamoDB, @connections); tests pass in-memory fakes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from csms.domain import (
    AddedSamples,
    AuthorizationStatus,
    BootInfo,
    ChargePoint,
    ConnectorStatus,
    IdTag,
    MeterSample,
    RegistrationStatus,
    StatusRecorded,
    StoppedTransaction,
    Transaction,
    TransactionStart,
    TransactionStop,
    UsedReservation,
)
from csms.events import DomainEvent

T = TypeVar("T")


class TenantRepository(Protocol):
    def ensure(self, tenant_id: str, at: datetime) -> None:
        """Create the tenant if it does not exist yet."""
        ...


class ChargePointRepository(Protocol):
    def get(self, charge_point_id: str) -> ChargePoint | None: ...

    def add(self, charge_point: ChargePoint, at: datetime) -> None:
        """Insert; raises AlreadyExists if the id is taken (in any tenant)."""
        ...

    def list(self, tenant_id: str | None = None) -> list[ChargePoint]: ...

    def remove(self, charge_point_id: str, tenant_id: str | None = None) -> bool: ...

    def record_boot(self, charge_point_id: str, info: BootInfo, at: datetime) -> None: ...

    def register_pending(self, charge_point_id: str, tenant_id: str, at: datetime) -> ChargePoint:
        """Insert an unknown charger as Pending, or return the existing row."""
        ...


class ConnectorRepository(Protocol):
    def record_status(
        self, tenant_id: str, charge_point_id: str, status: ConnectorStatus, received_at: datetime
    ) -> StatusRecorded | None:
        """Store a status report. Returns what it replaced if it is now the connector's latest
        status (None when a newer one was already stored: frames arrive out of order)."""
        ...


class IdTagRepository(Protocol):
    def get(self, tenant_id: str, id_tag: str) -> IdTag | None: ...

    def add(self, tag: IdTag, at: datetime) -> None:
        """Insert; raises AlreadyExists if the tenant has that tag already."""
        ...

    def list(self, tenant_id: str | None = None) -> list[IdTag]: ...


class TransactionRepository(Protocol):
    def start(
        self,
        tenant_id: str,
        charge_point_id: str,
        start: TransactionStart,
        auth_status: AuthorizationStatus,
        received_at: datetime,
    ) -> tuple[Transaction, bool]:
        """Record a start and allocate its transaction id. Idempotent: the same start
        (charger, connector, tag, meterStart, timestamp) returns the same transaction.
        The flag says whether this call created it."""
        ...

    def open_transaction_ids(self, charge_point_id: str) -> list[int]:
        """The charger's transactions without a stop."""
        ...

    def is_concurrent(self, transaction: Transaction) -> bool:
        """Whether the transaction's tag was already in another of the tenant's open
        transactions: one allocated before it (a retried start is answered as the first time)
        that no newer transaction on its own connector has superseded (OCPP delivers a
        charger's transaction messages in order, so that one has ended; see
        :mod:`csms.services.stuck_transactions`)."""
        ...

    def use_reservation(
        self,
        tenant_id: str,
        charge_point_id: str,
        reservation_id: int,
        transaction_id: int,
        started_at: datetime,
        at: datetime,
    ) -> UsedReservation | None:
        """Mark the charger's reservation used by the transaction: an open one, or an expired
        one the transaction started before it expired. None if none was (a retry, unknown id)."""
        ...

    def stop(
        self, tenant_id: str, charge_point_id: str, stop: TransactionStop, received_at: datetime
    ) -> StoppedTransaction:
        """Close the transaction; a repeat is harmless. An id unknown for this charger is
        recorded as an unknown-transaction stop."""
        ...


class MeterValueRepository(Protocol):
    def add_samples(
        self,
        tenant_id: str,
        charge_point_id: str,
        connector_id: int,
        transaction_id: int | None,
        samples: Sequence[MeterSample],
        received_at: datetime,
    ) -> AddedSamples:
        """Insert samples, skipping ones already stored (retried frames), with
        ``transaction_id`` only if it is one of the charger's transactions. Returns how many
        were new and the transaction they were stored with."""
        ...


class EventRecorder(Protocol):
    def add(self, *events: DomainEvent) -> None:
        """Record domain events in this unit of work: they exist only if it commits, and
        are published after it does."""
        ...


class UnitOfWork(Protocol):
    """Repositories sharing one database transaction."""

    @property
    def tenants(self) -> TenantRepository: ...
    @property
    def charge_points(self) -> ChargePointRepository: ...
    @property
    def connectors(self) -> ConnectorRepository: ...
    @property
    def id_tags(self) -> IdTagRepository: ...
    @property
    def transactions(self) -> TransactionRepository: ...
    @property
    def meter_values(self) -> MeterValueRepository: ...
    @property
    def events(self) -> EventRecorder: ...


class Database(Protocol):
    def run(self, work: Callable[[UnitOfWork], T]) -> T:
        """Run ``work`` in one transaction: commit if it returns, roll back if it raises.
        Raises StorageUnavailable when the database cannot be reached."""
        ...


# --- connection state (DynamoDB in production) -------------------------------------------


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
