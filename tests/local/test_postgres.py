"""The embedded PostgreSQL: a real server on 127.0.0.1, started from a pytest tmp dir."""

from __future__ import annotations

import logging
import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from csms.local.postgres import (
    MAX_CONNECTIONS,
    EmbeddedPostgres,
    EmbeddedPostgresError,
    PostgresNotFound,
    find_bin_dir,
)

pytestmark = pytest.mark.integration


def connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    """psycopg takes the libpq form of our SQLAlchemy URL."""
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


@pytest.fixture(scope="module")
def server(pg_base_dir: Path) -> Iterator[EmbeddedPostgres]:
    with EmbeddedPostgres(pg_base_dir / "shared-server" / "pgdata", durable=False) as pg:
        yield pg


@pytest.fixture
def fresh(pg_tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    """A cluster of the test's own, stopped however the test ends."""
    pg = EmbeddedPostgres(pg_tmp_path / "state" / "pgdata", durable=False)
    yield pg
    pg.stop()


def test_start_serves_the_returned_url_on_loopback_tcp(server: EmbeddedPostgres) -> None:
    # Given a started server / When we connect to the URL start() returned
    with connect(server.url) as conn:
        row = conn.execute(
            "SELECT inet_server_addr()::text, current_user, current_setting('max_connections'), "
            "current_setting('fsync'), pg_encoding_to_char(encoding) "
            "FROM pg_database WHERE datname = 'postgres'"
        ).fetchone()
    # Then it is TCP on 127.0.0.1 as superuser postgres, with the test settings
    assert row == ("127.0.0.1/32", "postgres", str(MAX_CONNECTIONS), "off", "UTF8")
    assert server.url == f"postgresql+psycopg://postgres@127.0.0.1:{server.port}/postgres"


def test_start_twice_returns_the_same_url(server: EmbeddedPostgres) -> None:
    assert server.start() == server.url


def test_create_database_is_idempotent_and_returns_its_url(server: EmbeddedPostgres) -> None:
    # When the database is created twice
    first = server.create_database("csms_test_create")
    second = server.create_database("csms_test_create")
    # Then both calls return a URL that reaches it
    assert first == second == f"postgresql+psycopg://postgres@127.0.0.1:{server.port}/csms_test_create"
    with connect(first) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("csms_test_create",)
    server.drop_database("csms_test_create")


def test_drop_database_disconnects_sessions_and_is_idempotent(server: EmbeddedPostgres) -> None:
    # Given a database with an open session
    url = server.create_database("csms_test_drop")
    session = connect(url)
    # When it is dropped (twice)
    server.drop_database("csms_test_drop")
    server.drop_database("csms_test_drop")
    # Then it is gone
    session.close()
    with connect(server.url) as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = 'csms_test_drop'").fetchone() is None


def test_data_and_port_survive_a_restart(fresh: EmbeddedPostgres) -> None:
    # Given a cluster with a committed row
    url = fresh.start()
    with connect(url) as conn:
        conn.execute("CREATE TABLE kept (v text)")
        conn.execute("INSERT INTO kept VALUES ('hello')")
    # When it is stopped and a new manager starts the same dir without a port
    fresh.stop()
    again = EmbeddedPostgres(fresh.data_dir, durable=False)
    try:
        # Then the URL (port) is the same and so is the data
        assert again.start() == url
        with connect(url) as conn:
            assert conn.execute("SELECT v FROM kept").fetchall() == [("hello",)]
    finally:
        again.stop()


def test_stop_is_idempotent_and_stop_without_start_is_harmless(fresh: EmbeddedPostgres) -> None:
    # Given a never-started manager: stop does nothing
    fresh.stop()
    # Given a started one: stop twice
    fresh.start()
    pid_file = fresh.data_dir / "postmaster.pid"
    assert pid_file.exists()
    fresh.stop()
    fresh.stop()
    # Then the server is gone and the manager knows it
    assert not pid_file.exists()
    with pytest.raises(EmbeddedPostgresError):
        _ = fresh.url


def test_a_server_left_by_a_crashed_run_is_adopted_and_stoppable(fresh: EmbeddedPostgres) -> None:
    # Given a server whose manager went away without stopping it (a crashed run)
    url = fresh.start()
    # When a new manager starts the same data dir
    successor = EmbeddedPostgres(fresh.data_dir, durable=False)
    # Then it reuses the running server, and its stop() stops it
    assert successor.start() == url
    successor.stop()
    assert not (fresh.data_dir / "postmaster.pid").exists()


def test_adopting_a_server_says_whose_it_is(
    fresh: EmbeddedPostgres, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a server another live process started (the owner file names it), e.g. csms dev
    url = fresh.start()
    owner = fresh.data_dir / "csms-owner"
    assert owner.read_text().split("\n")[0] == str(os.getpid())
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as other:
        try:
            owner.write_text(f"{other.pid}\ncsms dev\n")
            # When another manager starts the same data dir
            alongside = EmbeddedPostgres(fresh.data_dir, durable=False)
            with caplog.at_level(logging.INFO, logger="csms.local.postgres"):
                assert alongside.start() == url
            # Then it knows the server is in use elsewhere, and says by whom
            assert (alongside.in_use_elsewhere, alongside.owner) == (True, f"`csms dev` (pid {other.pid})")
            assert f"Using the PostgreSQL server that `csms dev` (pid {other.pid}) runs in" in caplog.text
        finally:
            other.kill()
    # Given the owner has ended: the server was left running, and the next manager may stop it
    caplog.clear()
    successor = EmbeddedPostgres(fresh.data_dir, durable=False)
    with caplog.at_level(logging.INFO, logger="csms.local.postgres"):
        successor.start()
    assert not successor.in_use_elsewhere
    assert f"by `csms dev` (pid {other.pid}), which has ended" in caplog.text
    assert "earlier run" not in caplog.text


def test_a_busy_port_fails_with_the_log_tail(fresh: EmbeddedPostgres) -> None:
    # Given a port someone else listens on
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = squatter.getsockname()[1]
        # When the server must start on exactly that port
        pg = EmbeddedPostgres(fresh.data_dir, port=busy, durable=False)
        with pytest.raises(EmbeddedPostgresError) as caught:
            pg.start()
    # Then the error carries the server's own explanation
    assert caught.value.log_tail
    assert caught.value.log_tail in str(caught.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the server as another OS user")
def test_as_root_the_server_runs_unprivileged_and_parents_become_traversable(
    pg_tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a data dir below a directory only root may enter
    private = pg_tmp_path / "private"
    private.mkdir(mode=0o700)
    pg = EmbeddedPostgres(private / "state" / "pgdata", durable=False)
    # When the server starts
    with caplog.at_level(logging.WARNING, logger="csms.local.postgres"):
        url = pg.start()
    try:
        with connect(url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        pg.stop()
    # Then the data dir belongs to an unprivileged user, and the parent got o+x only
    assert pg.data_dir.stat().st_uid != 0
    assert stat.S_IMODE(private.stat().st_mode) == 0o701
    assert any(str(private) in record.getMessage() for record in caplog.records)


def test_find_bin_dir_prefers_the_explicit_dir(tmp_path: Path) -> None:
    # Given some directory that has the three binaries
    real = find_bin_dir()
    explicit = tmp_path / "bin"
    explicit.mkdir()
    for name in ("initdb", "pg_ctl", "postgres"):
        (explicit / name).symlink_to(real / name)
    # Then it wins over every automatic candidate
    assert find_bin_dir(explicit) == explicit.resolve()
    assert {"initdb", "pg_ctl", "postgres"} <= {p.name for p in real.iterdir()}


def test_find_bin_dir_rejects_an_explicit_dir_without_binaries(tmp_path: Path) -> None:
    with pytest.raises(PostgresNotFound):
        find_bin_dir(tmp_path)


def test_a_crashed_server_is_started_again_on_the_same_url(fresh: EmbeddedPostgres) -> None:
    # Given a running server, then its postmaster killed (a crash, the OOM killer)
    import signal

    url = fresh.start()
    assert fresh.running()
    assert not fresh.ensure_running()
    pid = int((fresh.data_dir / "postmaster.pid").read_text().splitlines()[0])
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not fresh.running())

    # When the supervisor looks
    restarted = fresh.ensure_running()

    # Then it started the server again, at the same URL
    assert restarted
    assert fresh.running()
    assert fresh.url == url
    with connect(url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def wait_until(condition: object, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)
