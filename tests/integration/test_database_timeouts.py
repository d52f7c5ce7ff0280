"""The data path never waits on PostgreSQL longer than its bounds, and a retry never repeats a
unit of work that may have committed (issue 13: frames held for the whole stall, answered
after the charger gave up; PgDatabase.run repeating a committed unit of work)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from csms.data.database import PgDatabase, Timeouts, make_engine
from csms.domain.events import new_event
from csms.domain.storage import UnitOfWork
from csms.errors import StorageUnavailable
from csms.local.faults import TcpProxy
from tests.integration.conftest import rows

T = TypeVar("T")
SHORT = Timeouts(statement_ms=300, lock_ms=200, connect_seconds=1, stall_seconds=1.0)


def within(seconds: float, call: Callable[[], T]) -> T:
    """``call()``'s result, or a test failure if it is still running after ``seconds`` (the
    bound under test is far shorter: this only keeps a regression from hanging the suite)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"still waiting on PostgreSQL after {seconds} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


@pytest.fixture
def tenant(engine: Any) -> str:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO tenants (id, name, created_at) VALUES ('t1', 'one', now())"))
    return "t1"


def rename(uow: UnitOfWork) -> str:
    uow.connection.execute(text("UPDATE tenants SET name = 'renamed' WHERE id = 't1'"))  # type: ignore[attr-defined]
    return "done"


def test_a_lock_wait_ends_with_storage_unavailable(database_url: str, engine: Any, tenant: str) -> None:
    # Given another session holding the row's lock (an operator's long transaction)
    db = PgDatabase(make_engine(database_url, timeouts=SHORT), stall_seconds=SHORT.stall_seconds)
    with engine.connect() as holder:
        holder.execute(text("BEGIN"))
        holder.execute(text("SELECT 1 FROM tenants WHERE id = 't1' FOR UPDATE"))
        # When a unit of work needs that row
        # Then it gives up at the lock timeout instead of waiting for the lock
        with pytest.raises(StorageUnavailable):
            within(20, lambda: db.run(rename))
        holder.execute(text("ROLLBACK"))
    assert db.run(rename) == "done"
    db.engine.dispose()


@pytest.fixture
def proxied_url(database_url: str) -> Iterator[tuple[str, TcpProxy]]:
    url = make_url(database_url)
    with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        yield url.set(host=proxy.host, port=proxy.port).render_as_string(hide_password=False), proxy


def test_a_stalled_server_answers_storage_unavailable_within_the_bound(
    proxied_url: tuple[str, TcpProxy], tenant: str
) -> None:
    # Given a connection already in the pool, then a server that stops answering without
    # closing its sockets (SIGSTOP, a black-holed route)
    url, proxy = proxied_url
    db = PgDatabase(make_engine(url, timeouts=SHORT), stall_seconds=SHORT.stall_seconds)
    outages: list[None] = []
    db.on_unavailable = lambda: outages.append(None)  # the composition root counts a metric
    assert db.run(rename) == "done"
    proxy.pause()

    # When a unit of work runs on the pooled connection, and another needs a new one
    # Then each ends with StorageUnavailable instead of waiting for the server
    with pytest.raises(StorageUnavailable, match="did not answer"):
        within(20, lambda: db.run(rename))
    with pytest.raises(StorageUnavailable):
        within(20, lambda: db.run(rename))
    assert within(20, db.ping) is False
    assert len(outages) >= 2  # every StorageUnavailable is counted (DatabaseUnavailable, alarmed)

    # And once the server answers again, so does the database
    proxy.resume()
    assert db.run(rename) == "done"
    db.engine.dispose()


class _CommitThenDrop(psycopg.Connection):  # type: ignore[type-arg]
    """Commits, then loses the connection before the client hears back: the commit landed,
    the client cannot know."""

    drop_next_commit = False

    def commit(self) -> None:
        super().commit()
        if _CommitThenDrop.drop_next_commit:
            _CommitThenDrop.drop_next_commit = False
            self.close()
            raise psycopg.OperationalError("server closed the connection unexpectedly")


def test_a_commit_whose_answer_is_lost_is_not_done_again(database_url: str, tenant: str) -> None:
    # Given a unit of work that records an event, and a connection lost right after its commit
    conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    engine = create_engine(
        "postgresql+psycopg://",
        creator=lambda: _CommitThenDrop.connect(conninfo),
        pool_size=1,
        max_overflow=0,
    )
    db = PgDatabase(engine)

    def work(uow: UnitOfWork) -> None:  # a new event id on every run, as services do
        uow.events.add(new_event("ChargerConnected", tenant, None, datetime.now(UTC), {"connectionId": "c1"}))

    _CommitThenDrop.drop_next_commit = True
    # When it runs
    # Then the caller hears the truth (it may or may not have landed), and it ran once
    with pytest.raises(StorageUnavailable, match="during commit"):
        db.run(work)
    assert len(rows_of(database_url)) == 1
    engine.dispose()


def rows_of(database_url: str) -> list[dict[str, object]]:
    engine = make_engine(database_url)
    try:
        return rows(engine, "SELECT id::text AS id FROM domain_events")
    finally:
        engine.dispose()


def test_the_composition_root_counts_every_outage_as_a_metric(monkeypatch: Any) -> None:
    # Given the functions' database on a port where nothing listens
    from csms.app import wiring
    from csms.observability import metrics
    from csms.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://csms@127.0.0.1:9/csms")
    get_settings.cache_clear()
    wiring.database.cache_clear()
    metrics.clear_metrics()
    try:
        # When a unit of work runs
        with pytest.raises(StorageUnavailable):
            wiring.database().run(rename)
        # Then DatabaseUnavailable is counted (its alarm: database-unavailable)
        assert metrics.metric_set["DatabaseUnavailable"]["Value"] == [1.0]
    finally:
        metrics.clear_metrics()
        monkeypatch.undo()
        get_settings.cache_clear()
        wiring.database.cache_clear()
