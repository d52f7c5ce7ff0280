"""Engine and unit of work. One engine per process (per Lambda container)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, create_engine, func, select, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from csms.data.outbox import take_pending
from csms.data.repositories import PgUnitOfWork
from csms.domain.events import StoredEvent
from csms.domain.storage import UnitOfWork
from csms.errors import StorageUnavailable

T = TypeVar("T")
log = logging.getLogger(__name__)


def make_engine(url: str, *, pool_size: int = 1, max_overflow: int = 0) -> Engine:
    """An engine suited to Lambda: a tiny pool, UTC sessions, fail fast when unreachable.

    No pre-ping (it would cost a round trip per frame); a connection that died while the
    container was frozen is detected on use and the unit of work is retried once instead.
    """
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=300,
        pool_timeout=10,
        connect_args={"connect_timeout": 5, "options": "-c timezone=UTC"},
    )


class PgDatabase:
    """The production :class:`csms.domain.storage.Database`."""

    def __init__(self, engine: Engine, on_commit: Callable[[list[StoredEvent]], None] | None = None) -> None:
        self.engine = engine
        #: Receives the domain events of each committed transaction (the relay publishes them).
        self.on_commit = on_commit

    def _committed(self, events: list[StoredEvent]) -> None:
        if events and self.on_commit is not None:
            try:
                self.on_commit(events)
            except Exception:  # the change is committed: never fail it for its events
                log.exception("could not hand committed events to the relay")

    def run(self, work: Callable[[UnitOfWork], T]) -> T:
        for attempt in (1, 2):
            try:
                with self.engine.begin() as connection:
                    take_pending(connection)  # left by a rolled-back transaction
                    result = work(PgUnitOfWork(connection))
                    events = take_pending(connection)
                self._committed(events)
                return result
            except DBAPIError as exc:
                if exc.connection_invalidated and attempt == 1:
                    log.warning("database connection was dropped; retrying once")
                    continue
                if isinstance(exc, OperationalError | InterfaceError):
                    raise StorageUnavailable(f"database unavailable: {exc.orig!r}") from exc
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for reads; unreachable database → StorageUnavailable."""
        try:
            with self.engine.connect() as connection:
                yield connection
        except (OperationalError, InterfaceError) as exc:
            raise StorageUnavailable(f"database unavailable: {exc.orig!r}") from exc

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection in a transaction (committed on success); errors as in :meth:`connect`.
        Domain events appended in it (:func:`csms.data.outbox.append`) go to ``on_commit``."""
        try:
            with self.engine.begin() as connection:
                take_pending(connection)
                yield connection
                events = take_pending(connection)
            self._committed(events)
        except (OperationalError, InterfaceError) as exc:
            raise StorageUnavailable(f"database unavailable: {exc.orig!r}") from exc

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """A connection whose statements commit one by one: a lone statement costs one round
        trip instead of three (BEGIN, the statement, COMMIT)."""
        try:
            with self.engine.connect() as connection:
                yield connection.execution_options(isolation_level="AUTOCOMMIT")
        except (OperationalError, InterfaceError) as exc:
            raise StorageUnavailable(f"database unavailable: {exc.orig!r}") from exc

    def exists(self, table: Table, key: Any, tenant_id: str) -> bool:
        """Whether ``table`` has a row with primary key ``key`` in ``tenant_id`` (a resource
        of another tenant does not exist for the caller)."""
        (column,) = [c for c in table.primary_key.columns if c.name != "tenant_id"]
        with self.connect() as connection:
            found = connection.execute(
                select(column).where(column == key, table.c.tenant_id == tenant_id).limit(1)
            ).first()
        return found is not None

    def count_open_transactions(self) -> int:
        """Transactions without a stop, all tenants (for the fleet gauge)."""
        from csms.data.tables import transactions

        with self.connect() as connection:
            return int(
                connection.execute(
                    select(func.count())
                    .select_from(transactions)
                    .where(transactions.c.stop_timestamp.is_(None))
                ).scalar_one()
            )

    def ping(self) -> bool:
        """True if a trivial query succeeds (health checks)."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except DBAPIError:
            return False
        return True
