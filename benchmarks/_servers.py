"""Servers under test for bench_load.py and bench_storm.py, and the generator process.

``product``: the local stack (``csms.local.stack.BackgroundStack``): the API Gateway
emulator in front of the real Lambda handlers, moto for DynamoDB, the given PostgreSQL.
Note what it is not: on AWS every invocation has its own container; here they share one
process (a 64-thread pool, one GIL) with the gateway and moto.

``stateful``: ``_stateful.StatefulServer``, the ocpp-library server this product replaces.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import _common as bench

TENANT = "bench"
LOADGEN = Path(__file__).with_name("_loadgen.py")


OCPP16, OCPP201 = "ocpp1.6", "ocpp2.0.1"
#: The id prefix of chargers that speak 2.0.1 (rows can be counted per protocol by id).
PREFIX_201 = "LOAD201-"


@dataclass
class Fleet:
    ids: list[str]
    tags: list[str]
    passwords: list[str | None]
    protocols: list[str]

    def as_json(self) -> str:
        return json.dumps(
            [
                [i, t, p, protocol]
                for i, t, p, protocol in zip(self.ids, self.tags, self.passwords, self.protocols, strict=True)
            ]
        )


def speaks_201(index: int, share: float) -> bool:
    """Whether charger ``index`` of the fleet speaks 2.0.1: ``share`` of them, spread evenly."""
    return int((index + 1) * share) > int(index * share)


def provision(url: str, chargers: int, password_share: float, ocpp201_share: float = 0.0) -> Fleet:
    """``chargers`` accepted chargers and one tag each, in bulk (hashing only where asked);
    ``ocpp201_share`` of them, spread through the fleet, speak 2.0.1 (ids ``LOAD201-…``)."""
    from sqlalchemy import create_engine, text

    from csms.security import hash_password

    protocols = [OCPP201 if speaks_201(i, ocpp201_share) else OCPP16 for i in range(chargers)]
    ids = [f"{PREFIX_201 if protocol == OCPP201 else 'LOAD-'}{i:05d}" for i, protocol in enumerate(protocols)]
    tags = [f"T{i:05d}" for i in range(chargers)]
    with_password = round(chargers * password_share)
    passwords: list[str | None] = [
        f"pw-{cp}-0123456789" if i < with_password else None for i, cp in enumerate(ids)
    ]
    now = datetime.now(UTC)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO tenants (id, name, created_at) VALUES (:t, :t, :now) ON CONFLICT DO NOTHING"),
            {"t": TENANT, "now": now},
        )
        conn.execute(
            text(
                "INSERT INTO charge_points (id, tenant_id, password_hash, security_profile,"
                " registration_status, created_at, updated_at)"
                " VALUES (:id, :t, :pw, :profile, 'Accepted', :now, :now)"
            ),
            [
                {
                    "id": cp,
                    "t": TENANT,
                    "pw": hash_password(pw) if pw else None,
                    "profile": 2 if pw else 0,
                    "now": now,
                }
                for cp, pw in zip(ids, passwords, strict=True)
            ],
        )
        conn.execute(
            text(
                "INSERT INTO id_tokens (tenant_id, id_token, type, status, created_at, updated_at)"
                " VALUES (:t, :tag, 'ISO14443', 'Accepted', :now, :now)"
            ),
            [{"t": TENANT, "tag": tag, "now": now} for tag in tags],
        )
    engine.dispose()
    return Fleet(ids, tags, passwords, protocols)


class Product:
    name = "product"

    def __init__(self, url: str, functions: str = "processes") -> None:
        from csms.local.stack import BackgroundStack, StackConfig

        # moto in its own process (see bench.MotoProcess); the stack uses it like LocalStack.
        self.moto = bench.MotoProcess()
        self.background = BackgroundStack(
            StackConfig(
                port=0,
                database_url=url,
                durable_database=False,
                aws="env",
                log_format="json",
                log_level="INFO",
                # "processes": each function in containers of its own, as on Lambda (issue 13);
                # "threads": every handler in this process (the local stack before it).
                functions=functions,  # type: ignore[arg-type]
            )
        )
        self.stack: Any = None
        self.logs = bench.LogSink()

    def start(self) -> str:
        endpoint = self.moto.start()
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
                "AWS_ENDPOINT_URL_SQS": endpoint,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_REGION": "us-east-1",
            }
        )
        os.environ.pop("AWS_PROFILE", None)
        os.environ.pop("AWS_SESSION_TOKEN", None)
        self.stack = self.background.start()
        self.logs = bench.quiet_logs()  # INFO lines are built, as on Lambda, then counted
        return str(self.stack.charger_url(""))

    def aws_cpu_seconds(self) -> float:
        return self.moto.cpu_seconds()

    def log_bytes(self) -> int:
        return self.logs.bytes

    def online_all(self, ids: list[str]) -> int:
        """How many of ``ids`` have a ``cp#`` item naming a connection the gateway has open."""
        from csms.app import wiring
        from csms.aws.schema import PARTITION_KEY

        live = set(self.stack.gateway.connections())
        client = wiring.connections()._client  # the store's own (lean) client: one Scan
        current: dict[str, str] = {}
        request: dict[str, Any] = {
            "TableName": wiring.settings().connections_table,
            "FilterExpression": "begins_with(#pk, :cp)",
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
            "ExpressionAttributeValues": {":cp": {"S": "cp#"}},
        }
        while True:
            page = client.scan(**request)
            for item in page.get("Items", []):
                current[item[PARTITION_KEY]["S"][3:]] = item["connection_id"]["S"]
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return sum(1 for cp in ids if current.get(cp) in live)

    def stop(self) -> None:
        try:
            self.background.stop()
        finally:
            self.moto.stop()


class Stateful:
    name = "stateful"

    def __init__(self, url: str) -> None:
        from _stateful import StatefulServer

        self.server = StatefulServer(url, TENANT)

    def start(self) -> str:
        port = self.server.start()
        return f"ws://127.0.0.1:{port}/ocpp/"

    def online_all(self, ids: list[str]) -> int:
        return sum(1 for cp in ids if cp in self.server.connected)

    def aws_cpu_seconds(self) -> float:
        return 0.0

    def log_bytes(self) -> int:
        return 0

    def stop(self) -> None:
        self.server.stop()


def server(kind: str, url: str) -> Product | Stateful:
    """``stateful``, ``product`` (function containers) or ``product:threads``."""
    if kind == "stateful":
        return Stateful(url)
    _, _, functions = kind.partition(":")
    return Product(url, functions or "processes")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Generator:
    """The load generator process (``_loadgen.py``)."""

    def __init__(self, mode: str, base_url: str, fleet: Fleet, options: dict[str, Any]) -> None:
        self.scratch = Path(tempfile.mkdtemp(prefix="csms-loadgen-"))
        chargers_file = self.scratch / "chargers.json"
        chargers_file.write_text(fleet.as_json())
        self.out = self.scratch / "result.json"
        command = [
            sys.executable,
            str(LOADGEN),
            mode,
            "--base-url",
            base_url,
            "--chargers-file",
            str(chargers_file),
            "--out",
            str(self.out),
        ]
        for key, value in options.items():
            command += [f"--{key.replace('_', '-')}", str(value)]
        # stderr to a file: a pipe nobody reads would block a chatty generator.
        self._stderr_file = (self.scratch / "stderr.txt").open("w")
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr_file, text=True
        )

    def read_event(self, timeout: float) -> dict[str, Any]:
        """The next JSON line the generator prints (storm mode)."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"the generator ended: {self._stderr()}")
            line = line.strip()
            if line.startswith("{"):
                return dict(json.loads(line))
        raise TimeoutError("no event from the generator")

    def proceed(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("\n")
        self.process.stdin.flush()

    def result(self, timeout: float) -> dict[str, Any]:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise RuntimeError("the load generator did not finish in time (killed)") from None
        if self.process.returncode != 0 or not self.out.exists():
            raise RuntimeError(f"the load generator failed ({self.process.returncode}): {self._stderr()}")
        return dict(json.loads(self.out.read_text()))

    def _stderr(self) -> str:
        self._stderr_file.flush()
        return (self.scratch / "stderr.txt").read_text()[-3000:]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        self._stderr_file.close()
        for leftover in self.scratch.glob("*"):
            leftover.unlink()
        self.scratch.rmdir()
