"""Storage: the unit of work that binds the per-frame repositories to one database transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from csms.domain.events import EventRecorder
from csms.domain.metering import MeterValueRepository
from csms.domain.stations import ChargePointRepository, ConnectorRepository
from csms.domain.tenancy import TenantRepository
from csms.domain.tokens import IdTokenRepository
from csms.domain.transactions import TransactionRepository

T = TypeVar("T")


class UnitOfWork(Protocol):
    """Repositories sharing one database transaction."""

    @property
    def tenants(self) -> TenantRepository: ...
    @property
    def charge_points(self) -> ChargePointRepository: ...
    @property
    def connectors(self) -> ConnectorRepository: ...
    @property
    def id_tokens(self) -> IdTokenRepository: ...
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
