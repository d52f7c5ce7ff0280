"""Engine and unit of work. One engine per process (per Lambda container)."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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


class _CommitUnknown(Exception):
    """The connection failed while committing: the outcome is unknown."""

    def __init__(self, error: DBAPIError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True)
class Timeouts:
    """How long the data path may wait for PostgreSQL (issue 13: a lock wait or a stalled
    server held frames for the whole 29 s integration timeout, and the charger had given up
    on answers that were then committed).

    ``statement_ms`` and ``lock_ms`` are enforced by the server (``statement_timeout``,
    ``lock_timeout``, set at connection start: no round trip per frame);
    ``idle_in_transaction_ms`` ends a session a dead client left inside a transaction. A
    stalled server enforces nothing, so ``stall_seconds`` bounds every unit of work from
    the client side: past it the connection's socket is shut down, psycopg fails at once and
    the caller gets :class:`StorageUnavailable`. ``connect_seconds`` is libpq's
    ``connect_timeout`` (the whole handshake, a stalled postmaster included).
    """

    statement_ms: int = 5000
    lock_ms: int = 2000
    idle_in_transaction_ms: int = 30000
    connect_seconds: int = 3
    stall_seconds: float = 6.0

    def options(self) -> str:
        return (
            f"-c statement_timeout={self.statement_ms} -c lock_timeout={self.lock_ms}"
            f" -c idle_in_transaction_session_timeout={self.idle_in_transaction_ms}"
        )


def make_engine(
    url: str, *, pool_size: int = 1, max_overflow: int = 0, timeouts: Timeouts | None = None
) -> Engine:
    """An engine suited to Lambda: a tiny pool, UTC sessions, fail fast when unreachable.

    No pre-ping (it would cost a round trip per frame); a connection that died while the
    container was frozen is detected on use and the unit of work is retried once instead.
    ``timeouts`` (the functions': :class:`Timeouts`) bound statements, lock waits and the
    handshake; without them (migrations, the CLI) only the handshake is bounded (5 s).
    """
    options = "-c timezone=UTC" + (f" {timeouts.options()}" if timeouts else "")
    connect_args: dict[str, Any] = {
        "connect_timeout": timeouts.connect_seconds if timeouts else 5,
        "options": options,
        # A peer that vanished (not a stall: the kernel of a stopped server still answers)
        # is noticed by TCP keepalives within ~20 s even outside a unit of work.
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 2,
    }
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=300,
        pool_timeout=timeouts.stall_seconds if timeouts else 10,
        connect_args=connect_args,
    )


def reread_password_on_auth_failure(engine: Engine, password: Callable[[], str]) -> None:
    """When a new connection is refused for its password (a rotated secret), ask ``password()``
    for the current one and try once more; later connections use it too."""
    from sqlalchemy import event

    current: dict[str, str] = {}

    @event.listens_for(engine, "do_connect")
    def connect(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        if "password" in current:
            cparams["password"] = current["password"]
        try:
            return dialect.connect(*cargs, **cparams)
        except Exception as exc:
            if "password authentication failed" not in str(exc):
                raise
            log.warning("database password refused; reading the secret again")
            current["password"] = cparams["password"] = password()
            return dialect.connect(*cargs, **cparams)


class _StallGuard:
    """Shuts down the socket of a connection whose unit of work outlives its bound.

    One daemon thread per process, started on first use; a unit of work registers its
    connection on entry and leaves on exit, both under one lock, so a late firing can never
    hit a connection that has since gone back to the pool.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._watched: dict[int, tuple[float, int]] = {}  # token -> (deadline, fd)
        self._fired: set[int] = set()
        self._next = 0
        self._thread: threading.Thread | None = None

    @contextmanager
    def watch(self, connection: Connection, seconds: float) -> Iterator[Callable[[], bool]]:
        """Guard ``connection`` for ``seconds``; yields a probe: did the guard fire?"""
        fd = _socket_of(connection)
        if fd is None:
            yield lambda: False
            return
        with self._lock:
            self._next += 1
            token = self._next
            self._watched[token] = (time.monotonic() + seconds, fd)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="pg-stall-guard", daemon=True)
                self._thread.start()
            self._wake.notify()
        try:
            yield lambda: token in self._fired
        finally:
            with self._lock:
                self._watched.pop(token, None)
                self._fired.discard(token)

    def _run(self) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                for token, (deadline, fd) in list(self._watched.items()):
                    if deadline <= now:
                        del self._watched[token]
                        self._fired.add(token)
                        _shut_down(fd)
                soonest = min((deadline for deadline, _ in self._watched.values()), default=now + 60)
                self._wake.wait(max(0.0, soonest - now))


def _socket_of(connection: Connection) -> int | None:
    try:
        fd = connection.connection.dbapi_connection.pgconn.socket  # type: ignore[union-attr]
    except Exception:  # not psycopg, or already closed
        return None
    return int(fd)


def _shut_down(fd: int) -> None:
    """Wake whoever waits on ``fd``: psycopg sees the connection end and raises."""
    try:
        duplicate = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    with contextlib.suppress(OSError), duplicate:
        duplicate.shutdown(socket.SHUT_RDWR)
        log.error("database did not answer in time: connection cut")


_GUARD = _StallGuard()


class PgDatabase:
    """The production :class:`csms.domain.storage.Database`."""

    def __init__(
        self,
        engine: Engine,
        on_commit: Callable[[list[StoredEvent]], None] | None = None,
        stall_seconds: float | None = None,
    ) -> None:
        self.engine = engine
        #: Receives the domain events of each committed transaction (the relay publishes them).
        self.on_commit = on_commit
        #: Client-side bound of each unit of work and read (None: unbounded).
        self.stall_seconds = stall_seconds
        #: Told each time the database could not be reached or did not answer in time (the
        #: composition root counts it: metric DatabaseUnavailable, which alarms).
        self.on_unavailable: Callable[[], None] | None = None

    def _unavailable(self, message: str) -> StorageUnavailable:
        if self.on_unavailable is not None:
            try:
                self.on_unavailable()
            except Exception:  # counting must never make an outage worse
                log.exception("could not count the database outage")
        return StorageUnavailable(message)

    def _committed(self, events: list[StoredEvent]) -> None:
        if events and self.on_commit is not None:
            try:
                self.on_commit(events)
            except Exception:  # the change is committed: never fail it for its events
                log.exception("could not hand committed events to the relay")

    @contextmanager
    def _guarded(self, connection: Connection) -> Iterator[None]:
        """Bound the work on ``connection``; a stall becomes StorageUnavailable."""
        if self.stall_seconds is None:
            yield
            return
        with _GUARD.watch(connection, self.stall_seconds) as fired:
            try:
                yield
            except DBAPIError as exc:
                if fired():
                    raise self._unavailable(
                        f"database did not answer within {self.stall_seconds:g} s"
                    ) from exc
                raise

    def run(self, work: Callable[[UnitOfWork], T]) -> T:
        """Run ``work`` in one transaction and commit it.

        A connection found dead before the commit (a Lambda container frozen for a while) is
        retried once on a new one: the server rolled the transaction back. A failure *during*
        the commit is not retried: the commit may have landed, and doing the work again would
        repeat its events. The caller gets StorageUnavailable; the charger's retry of the
        frame is idempotent (ADR 0014).
        """
        for attempt in (1, 2):
            try:
                with self.engine.connect() as connection, self._guarded(connection):
                    transaction = connection.begin()
                    try:
                        take_pending(connection)  # left by a rolled-back transaction
                        result = work(PgUnitOfWork(connection))
                        events = take_pending(connection)
                    except BaseException:
                        transaction.rollback()
                        raise
                    try:
                        transaction.commit()
                    except DBAPIError as exc:
                        raise _CommitUnknown(exc) from exc
                self._committed(events)
                return result
            except _CommitUnknown as unknown:
                raise self._unavailable(
                    f"database connection lost during commit: {unknown.error.orig!r}"
                ) from unknown.error
            except DBAPIError as exc:
                if exc.connection_invalidated and attempt == 1:
                    log.warning("database connection was dropped; retrying once")
                    continue
                if isinstance(exc, OperationalError | InterfaceError):
                    raise self._unavailable(f"database unavailable: {exc.orig!r}") from exc
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for reads; unreachable database → StorageUnavailable."""
        try:
            with self.engine.connect() as connection, self._guarded(connection):
                yield connection
        except (OperationalError, InterfaceError) as exc:
            raise self._unavailable(f"database unavailable: {exc.orig!r}") from exc

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection in a transaction (committed on success); errors as in :meth:`connect`.
        Domain events appended in it (:func:`csms.data.outbox.append`) go to ``on_commit``."""
        try:
            with self.engine.begin() as connection, self._guarded(connection):
                take_pending(connection)
                yield connection
                events = take_pending(connection)
            self._committed(events)
        except (OperationalError, InterfaceError) as exc:
            raise self._unavailable(f"database unavailable: {exc.orig!r}") from exc

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """A connection whose statements commit one by one: a lone statement costs one round
        trip instead of three (BEGIN, the statement, COMMIT)."""
        try:
            with self.engine.connect() as connection, self._guarded(connection):
                yield connection.execution_options(isolation_level="AUTOCOMMIT")
        except (OperationalError, InterfaceError) as exc:
            raise self._unavailable(f"database unavailable: {exc.orig!r}") from exc

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
            with self.engine.connect() as connection, self._guarded(connection):
                connection.execute(text("SELECT 1"))
        except (DBAPIError, StorageUnavailable):
            return False
        return True
