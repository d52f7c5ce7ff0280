"""Cold start: import and initialisation of each function in a fresh interpreter, against
``python -c pass`` in the same run, with a per-package breakdown from ``python -X importtime``.

Each run starts a new interpreter per function (``benchmarks/_coldstart_probe.py``) that

1. loads ``functions/<name>/handler.py`` from its file, as Lambda's bootstrap does (the
   INIT phase: ``import``);
2. builds what the first invocation needs before any I/O: settings, AWS clients, the
   SQLAlchemy engine, the dispatcher (``init``);
3. serves a first invocation against the local PostgreSQL and moto (connections are opened
   here: ``first``) and a second one (``warm``).

The target of issue 7 is on import + init: under 400 ms per function on this machine.
Usage: ``.venv/bin/python benchmarks/bench_coldstart.py [--runs 5]``
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import _common as bench

FUNCTIONS = ("connect", "message", "disconnect")
PROBE = Path(__file__).with_name("_coldstart_probe.py")
SECRET = "cold-start-origin-secret"
TARGET_MS = 400.0


def connect_event(charge_point_id: str, connection_id: str, domain: str) -> dict[str, Any]:
    headers = {
        "Host": domain,
        "Sec-WebSocket-Protocol": "ocpp1.6",
        "X-Csms-Charge-Point-Id": charge_point_id,
        "X-Csms-Origin-Verify": SECRET,
    }
    return {
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "requestContext": _context(connection_id, "$connect", "CONNECT", domain),
        "isBase64Encoded": False,
    }


def message_event(connection_id: str, body: str, domain: str) -> dict[str, Any]:
    return {
        "requestContext": _context(connection_id, "$default", "MESSAGE", domain),
        "body": body,
        "isBase64Encoded": False,
    }


def disconnect_event(connection_id: str, domain: str) -> dict[str, Any]:
    context = _context(connection_id, "$disconnect", "DISCONNECT", domain)
    context.update(disconnectStatusCode=1000, disconnectReason="")
    return {"headers": {"Host": domain}, "requestContext": context, "isBase64Encoded": False}


def _context(connection_id: str, route: str, kind: str, domain: str) -> dict[str, Any]:
    now = int(time.time() * 1000)
    return {
        "routeKey": route,
        "eventType": kind,
        "stage": "local",
        "connectedAt": now,
        "requestTimeEpoch": now,
        "requestId": f"cold-{connection_id}",
        "domainName": domain,
        "connectionId": connection_id,
        "apiId": "local",
        "identity": {"sourceIp": "127.0.0.1", "userAgent": "bench"},
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters per function")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    args = parser.parse_args()
    runs = max(1, args.runs)
    external_db = bool(os.environ.get("DATABASE_URL"))

    with bench.database("csms_bench_coldstart") as url:
        from csms.local.aws import LocalAws

        aws = LocalAws()
        endpoint = aws.start()
        gateway = bench.GatewayThread()
        scratch = Path(tempfile.mkdtemp(prefix="csms-cold-"))
        try:
            management, _ = gateway.start()
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_REGION": "us-east-1",
                "CSMS_WS_MANAGEMENT_ENDPOINT": management,
                "CSMS_ORIGIN_VERIFY_SECRET": SECRET,
                "CSMS_LOG_LEVEL": "INFO",
                "CSMS_LOG_FORMAT": "json",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "PYTHONDONTWRITEBYTECODE": "",
            }
            env.pop("AWS_PROFILE", None)
            domain = management.split("/")[2]
            samples, breakdown = measure(runs, url, endpoint, env, domain, scratch)
            report(samples, breakdown, runs, external_db, url)
            bench.write_json(
                args.json,
                {"benchmark": "coldstart", "runs": runs, "samples": samples, "breakdown_ms": breakdown},
            )
        finally:
            gateway.stop()
            aws.stop()
            for leftover in scratch.glob("*"):
                leftover.unlink()
            scratch.rmdir()
    return 0


def measure(
    runs: int, url: str, endpoint: str, env: dict[str, str], domain: str, scratch: Path
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[tuple[str, float]]]]:
    import boto3

    from csms.aws.connections import DynamoConnectionStore
    from csms.aws.provisioning import ensure_connections_table
    from csms.data.database import PgDatabase, make_engine
    from csms.ports import ConnectionRecord
    from csms.services.provisioning import ProvisioningService

    ensure_connections_table(endpoint, "csms-connections", "us-east-1")
    store = DynamoConnectionStore(
        boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        ),
        "csms-connections",
    )
    engine = make_engine(url)
    provisioning = ProvisioningService(PgDatabase(engine))
    now = datetime.now(UTC)
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in (*FUNCTIONS, "python -c pass")}
    breakdown: dict[str, list[tuple[str, float]]] = {}
    python = sys.executable

    def events_for(function: str, tag: str) -> list[dict[str, Any]]:
        if function == "connect":
            for i in (1, 2):
                provisioning.add_charger(f"COLD-C-{tag}-{i}", "cold", now)
            return [connect_event(f"COLD-C-{tag}-{i}", f"cc-{tag}-{i}=", domain) for i in (1, 2)]
        if function == "message":
            provisioning.add_charger(f"COLD-M-{tag}", "cold", now)
            store.register(ConnectionRecord(f"cm-{tag}=", f"COLD-M-{tag}", "cold", "ocpp1.6", now))
            boot = '[2,"b1","BootNotification",{"chargePointVendor":"Acme","chargePointModel":"W22"}]'
            status = (
                '[2,"s1","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available"}]'
            )
            return [message_event(f"cm-{tag}=", boot, domain), message_event(f"cm-{tag}=", status, domain)]
        for i in (1, 2):
            provisioning.add_charger(f"COLD-D-{tag}-{i}", "cold", now)
            store.register(ConnectionRecord(f"cd-{tag}-{i}=", f"COLD-D-{tag}-{i}", "cold", "ocpp1.6", now))
        return [disconnect_event(f"cd-{tag}-{i}=", domain) for i in (1, 2)]

    def probe(function: str, tag: str, importtime: bool) -> tuple[dict[str, Any], str]:
        events_path, out_path = scratch / f"{tag}-events.json", scratch / f"{tag}-out.json"
        events_path.write_text(json.dumps(events_for(function, tag)))
        command = [
            python,
            *(["-X", "importtime"] if importtime else []),
            str(PROBE),
            function,
            str(out_path),
            str(events_path),
        ]
        started = time.perf_counter()
        done = subprocess.run(
            command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            timeout=120,
        )
        wall = (time.perf_counter() - started) * 1000
        if done.returncode != 0 or not out_path.exists():
            raise RuntimeError(f"{function} probe failed ({done.returncode}):\n{done.stderr[-3000:]}")
        result = json.loads(out_path.read_text())
        result["process_ms"] = round(wall, 1)
        return result, done.stderr

    # One untimed round first: compiles .pyc files, as a deployed package ships them.
    for function in FUNCTIONS:
        probe(function, f"w{function[0]}", False)
    for run in range(runs):
        started = time.perf_counter()
        subprocess.run([python, "-c", "pass"], env=env, check=True)
        samples["python -c pass"].append({"process_ms": round((time.perf_counter() - started) * 1000, 1)})
        for function in FUNCTIONS:
            result, _ = probe(function, f"r{run}{function[0]}", False)
            samples[function].append(result)
    for function in FUNCTIONS:
        _, stderr = probe(function, f"i{function[0]}", True)
        breakdown[function] = by_package(stderr)
    engine.dispose()
    return samples, breakdown


_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def by_package(stderr: str) -> list[tuple[str, float]]:
    """Self time per top-level package (ms), ours split by sub-package, biggest first."""
    totals: collections.Counter[str] = collections.Counter()
    for line in stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            name = match.group(4)
            parts = name.split(".")
            key = ".".join(parts[:2]) if parts[0] == "csms" else parts[0]
            totals[key] += int(match.group(1)) / 1000
    return [(name, round(ms, 1)) for name, ms in totals.most_common()]


def report(
    samples: dict[str, list[dict[str, Any]]],
    breakdown: dict[str, list[tuple[str, float]]],
    runs: int,
    external_db: bool,
    url: str,
) -> None:
    bench.header(
        "Cold start per function (median of fresh interpreters, ms)",
        runs=runs,
        postgresql=bench.postgres_version(url) + (" (DATABASE_URL)" if external_db else " (embedded)"),
        dynamodb="moto over HTTP on 127.0.0.1",
    )
    baseline = bench.median([s["process_ms"] for s in samples["python -c pass"]])
    rows = []
    for function in FUNCTIONS:
        runs_ = samples[function]
        imp = bench.median([s["import_ms"] for s in runs_])
        init = bench.median([s["init_ms"] for s in runs_])
        total = bench.median([s["import_ms"] + s["init_ms"] for s in runs_])
        cpu = bench.median([s["import_cpu_ms"] + s["init_cpu_ms"] for s in runs_])
        rows.append(
            [
                function,
                imp,
                init,
                total,
                cpu,
                "yes" if total < TARGET_MS else "no",
                bench.median([s["first_ms"] for s in runs_]),
                bench.median([s["second_ms"] for s in runs_]),
                bench.median([s["process_ms"] for s in runs_]),
                f"{bench.median([s['process_ms'] for s in runs_]) / baseline:.0f}x",
                runs_[0]["modules"],
            ]
        )
    rows.append(["python -c pass", "", "", "", "", "", "", "", baseline, "1x", ""])
    print(
        bench.table(
            [
                "function",
                "import",
                "init",
                "import+init",
                "CPU",
                f"< {TARGET_MS:.0f} ms",
                "1st call",
                "2nd call",
                "process",
                "vs pass",
                "modules",
            ],
            rows,
        )
    )
    print(
        "\nimport+init: wall ms; CPU: the same phases in process CPU ms (less sensitive to a busy machine). "
        "1st call: the first invocation, which opens the PostgreSQL and HTTP connections (loopback here)."
    )
    print(
        "\nSelf time by package during import + init + two calls (python -X importtime; inflates totals):\n"
    )
    names: list[str] = []
    for function in FUNCTIONS:
        for name, _ in breakdown[function][:14]:
            if name not in names:
                names.append(name)
    lookup = {function: dict(breakdown[function]) for function in FUNCTIONS}
    print(
        bench.table(
            ["package", *FUNCTIONS],
            [[name, *(lookup[f].get(name, 0.0) for f in FUNCTIONS)] for name in names]
            + [["(all)", *(round(sum(lookup[f].values()), 1) for f in FUNCTIONS)]],
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
