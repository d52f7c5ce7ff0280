"""Shared plumbing of the benchmark scripts: a throwaway PostgreSQL, statistics, tables.

Every script is runnable on its own (``.venv/bin/python benchmarks/bench_x.py``), stays on
127.0.0.1, stops by itself and cleans up what it started. Figures are printed, never
asserted: a benchmark never fails on timing.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from csms.local.aws import LocalAwsProcess

ROOT = Path(__file__).resolve().parents[1]
try:
    import csms  # noqa: F401
except ImportError:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT / "src"))


# --- the database -------------------------------------------------------------------------------


class Postgres:
    """A PostgreSQL server for one benchmark run: ``DATABASE_URL`` if set, else an embedded
    server in a temporary directory (durable=False: fsync off, as in the test suite)."""

    def __init__(self) -> None:
        self.external = os.environ.get("DATABASE_URL") or None
        self._server: Any = None
        self._scratch: Path | None = None
        self._created: list[str] = []
        self._admin_url = ""

    def start(self) -> None:
        if self.external:
            self._admin_url = self.external
            return
        from csms.local.postgres import EmbeddedPostgres

        self._scratch = Path(tempfile.mkdtemp(prefix="csms-bench-"))
        self._server = EmbeddedPostgres(self._scratch / "pgdata", durable=False)
        self._admin_url = self._server.start()

    def database(self, name: str) -> str:
        """A new, migrated database ``name`` (dropped first if it exists); its URL."""
        from sqlalchemy import create_engine, text

        from csms.data.database import make_engine
        from csms.data.migrate import upgrade

        admin = create_engine(self._admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self._created.append(name)
        url = self._admin_url.rsplit("/", 1)[0] + "/" + name
        engine = make_engine(url)
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        return url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        elif self.external and self._created:
            from sqlalchemy import create_engine, text

            admin = create_engine(self._admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                for name in self._created:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    @property
    def postmaster_pid(self) -> int | None:
        """The embedded server's postmaster (None for DATABASE_URL)."""
        if self._server is None:
            return None
        try:
            return int((self._server.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def cpu_seconds(self) -> float:
        return postgres_cpu_seconds(self.postmaster_pid)

    def describe(self, url: str) -> str:
        return postgres_version(url) + (" (DATABASE_URL)" if self.external else " (embedded, fsync off)")


def api_stack(url: str, key: bytes, environment: dict[str, str] | None = None) -> Any:
    """``csms dev``'s stack as the API benchmarks run it: the functions in processes of their own,
    no scheduled jobs, warnings only, tokens signed with ``key``; not started."""
    from csms.local.stack import BackgroundStack, StackConfig

    return BackgroundStack(
        StackConfig(
            port=0,
            database_url=url,
            durable_database=False,
            log_level="WARNING",
            api_signing_key=key,
            run_schedules=False,
            functions="processes",
            environment=environment or {},
        )
    )


@contextlib.contextmanager
def postgres() -> Iterator[Postgres]:
    server = Postgres()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def database(name: str) -> Iterator[str]:
    """One migrated, empty database on a :class:`Postgres` that lives as long as it."""
    with postgres() as server:
        yield server.database(name)


def postgres_version(url: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SHOW server_version")).scalar())
    finally:
        engine.dispose()


def count_rows(url: str, sql: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar() or 0)
    finally:
        engine.dispose()


# --- the process ------------------------------------------------------------------------------


def raise_open_files(wanted: int) -> int:
    """Raise the soft RLIMIT_NOFILE towards ``wanted`` (never above the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


class LambdaContext:
    """What Powertools' ``inject_lambda_context`` reads from Lambda's context object."""

    function_name = "csms-message"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:csms-message"
    memory_limit_in_mb = 512
    aws_request_id = "bench"
    log_group_name = "/aws/lambda/csms-message"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


class LogSink:
    """A write-only stream that counts what the product logs (lines and bytes)."""

    def __init__(self) -> None:
        self.bytes = 0
        self.lines = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode("utf-8"))
        self.lines += text.count("\n")
        return len(text)

    def flush(self) -> None:
        pass


def quiet_logs() -> LogSink:
    """Send the product's log lines to a counting sink, keeping their formatting cost.

    The functions log two JSON lines per frame, as on Lambda; a benchmark pays for
    building them but does not print thousands of lines. The sink's counts feed the cost
    model (CloudWatch Logs ingestion per frame).
    """
    import logging

    sink = LogSink()
    for name in ("csms", ""):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(sink)  # type: ignore[arg-type]
    return sink


# --- moto in its own process ----------------------------------------------------------------------


class MotoProcess(LocalAwsProcess):
    """moto in a child process (csms.local.aws), with the CPU it used (see process_cpu_seconds)."""

    def cpu_seconds(self) -> float:
        """CPU seconds the moto process has used so far."""
        pid = self.pid
        return 0.0 if pid is None else process_cpu_seconds(pid)


def process_cpu_seconds(pid: int, children: bool = False) -> float:
    """utime + stime of ``pid`` (plus its reaped children's with ``children``), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    used = int(fields[11]) + int(fields[12])
    if children:
        used += int(fields[13]) + int(fields[14])
    return used / ticks


def postgres_cpu_seconds(postmaster: int | None) -> float:
    """CPU seconds used by one PostgreSQL server: the postmaster, its reaped backends
    (cutime) and its live backends. 0.0 when the server is not ours (DATABASE_URL)."""
    if postmaster is None:
        return 0.0
    total = process_cpu_seconds(postmaster, children=True)
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == postmaster:
            total += process_cpu_seconds(int(proc.name))
    return total


# --- the local API Gateway (answers @connections calls) ---------------------------------------


class GatewayThread:
    """The local API Gateway emulator (no handlers) in its own event loop, optionally with
    WebSocket clients connected (one per charge point id given) whose frames are counted."""

    def __init__(self, *charge_point_ids: str) -> None:
        import asyncio
        import threading

        self._asyncio = asyncio
        self._charge_point_ids = charge_point_ids
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="bench-gateway", daemon=True)
        self.received = 0
        #: The gateway's connection id of each connected client, by charge point id.
        self.connection_ids: dict[str, str] = {}
        self._gateway: Any = None
        self._clients: list[Any] = []
        self._readers: list[Any] = []

    def start(self) -> tuple[str, str | None]:
        """Start; returns (management endpoint, connection id of the first connected client)."""
        self.thread.start()
        return self._asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)

    async def _start(self) -> tuple[str, str | None]:
        import websockets

        from csms.local.gateway import LocalGateway

        self._gateway = LocalGateway({}, port=0)
        await self._gateway.start()
        for charge_point_id in self._charge_point_ids:
            known = set(self._gateway.connections())
            client = await websockets.connect(f"ws://127.0.0.1:{self._gateway.port}/ocpp/{charge_point_id}")
            self._clients.append(client)
            self._readers.append(self._asyncio.create_task(self._read(client)))
            for _ in range(100):
                new = set(self._gateway.connections()) - known
                if new:
                    self.connection_ids[charge_point_id] = new.pop()
                    break
                await self._asyncio.sleep(0.01)
        first = self.connection_ids.get(self._charge_point_ids[0]) if self._charge_point_ids else None
        return self._gateway.management_endpoint, first

    async def _read(self, client: Any) -> None:
        async for _ in client:
            self.received += 1

    def stop(self) -> None:
        async def _stop() -> None:
            for reader in self._readers:
                reader.cancel()
            for client in self._clients:
                await client.close()
            await self._gateway.stop()

        if self.thread.is_alive():
            self._asyncio.run_coroutine_threadsafe(_stop(), self.loop).result(30)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)


# --- statistics and output ---------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), nearest-rank on sorted values; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table (pasted into docs/benchmarks.md as is)."""
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def header(title: str, **facts: Any) -> None:
    info = machine()
    print(f"\n## {title}\n")
    print(
        f"machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}, {info['os']}; "
        f"run at {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, load average {os.getloadavg()[0]:.2f}"
    )
    for key, value in facts.items():
        print(f"{key}: {value}")
    print()


def write_json(path: str | None, payload: dict[str, Any]) -> None:
    if path:
        Path(path).write_text(json.dumps({"machine": machine(), **payload}, indent=2, default=str) + "\n")
        print(f"\nresults written to {path}")
