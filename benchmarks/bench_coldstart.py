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

Bytecode (``--bytecode``, default ``both``, interleaved in each run): ``cached`` loads the
.pyc files of the interpreter's environment (an untimed first round writes them), as a
bundle that ships bytecode; ``none`` (rows ``(no .pyc)``) runs each interpreter, the
``python -c pass`` baseline included, with ``PYTHONDONTWRITEBYTECODE=1`` and a
``PYTHONPYCACHEPREFIX`` that holds only links to the standard library's own .pyc: every
module of site-packages, ``src`` and ``functions`` is compiled from source at each start and
nothing is written, as on Lambda with a read-only bundle without bytecode (its runtime's
standard library is compiled).

``--python PATH`` runs the probes and the baseline under another interpreter, e.g. a Python
3.13 virtualenv with the runtime dependencies (Lambda's runtime); the repository's ``src``
comes first on its ``PYTHONPATH``.

Usage: ``.venv/bin/python benchmarks/bench_coldstart.py [--runs 5] [--bytecode both|cached|none]
[--python PATH] [--json PATH]``
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
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
BASELINE = "python -c pass"
#: Bytecode modes and the suffix of their rows.
MODES = {"cached": "", "none": " (no .pyc)"}


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
    parser.add_argument(
        "--bytecode",
        choices=("both", "cached", "none"),
        default="both",
        help="cached: load the environment's .pyc files; none: no .pyc outside the standard library "
        "and none written (a read-only bundle without bytecode); both (default): the two, interleaved",
    )
    parser.add_argument(
        "--python",
        metavar="PATH",
        default=sys.executable,
        help="interpreter for the probes and the baseline (default: this one), e.g. a Python 3.13 "
        "virtualenv with the runtime dependencies",
    )
    args = parser.parse_args()
    runs = max(1, args.runs)
    external_db = bool(os.environ.get("DATABASE_URL"))
    modes = tuple(MODES) if args.bytecode == "both" else (args.bytecode,)
    python = shutil.which(args.python)
    if python is None:
        parser.error(f"--python: no interpreter at {args.python}")
    interpreter = describe_interpreter(python)

    with bench.database("csms_bench_coldstart") as url:
        from csms.local.aws import LocalAws

        aws = LocalAws()
        endpoint = aws.start()
        gateway = bench.GatewayThread()
        scratch = Path(tempfile.mkdtemp(prefix="csms-cold-"))
        prefix = Path(tempfile.mkdtemp(prefix="csms-cold-pycache-"))
        try:
            linked = stdlib_bytecode(prefix, interpreter) if "none" in modes else 0
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
                # The repository's code, whichever interpreter runs the probe.
                "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(bench.ROOT / "src"), os.environ.get("PYTHONPATH")])
                ),
            }
            env.pop("AWS_PROFILE", None)
            envs = {mode: bytecode_env(env, mode, prefix) for mode in modes}
            domain = management.split("/")[2]
            samples, breakdown = measure(runs, url, endpoint, envs, domain, scratch, python)
            written = sum(1 for entry in prefix.rglob("*") if not entry.is_dir()) - linked
            rows = report(
                samples,
                breakdown,
                runs,
                modes,
                external_db,
                url,
                interpreter,
                linked,
                written,
            )
            bench.write_json(
                args.json,
                {
                    "benchmark": "coldstart",
                    "runs": runs,
                    "bytecode": list(modes),
                    "interpreter": interpreter,
                    "stdlib_pyc_linked": linked,
                    "pyc_written_without_bytecode": written,
                    "rows": rows,
                    "samples": samples,
                    "breakdown_ms": breakdown,
                },
            )
        finally:
            gateway.stop()
            aws.stop()
            for leftover in scratch.glob("*"):
                leftover.unlink()
            scratch.rmdir()
            shutil.rmtree(prefix, ignore_errors=True)
    return 0


def describe_interpreter(python: str) -> dict[str, Any]:
    """Version, bytecode cache tag and standard library directory of ``python``."""
    code = (
        "import json, platform, sys, sysconfig\n"
        "print(json.dumps({'executable': sys.executable, 'version': platform.python_version(),\n"
        "    'implementation': platform.python_implementation(),\n"
        "    'cache_tag': sys.implementation.cache_tag,\n"
        "    'stdlib': sysconfig.get_paths()['stdlib']}))\n"
    )
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    return {"path": python, **json.loads(done.stdout)}


def stdlib_bytecode(prefix: Path, interpreter: dict[str, Any]) -> int:
    """Link the standard library's own .pyc files into ``prefix``, a PYTHONPYCACHEPREFIX.

    Under a prefix CPython looks for ``<prefix>/<source dir>/<name>.<tag>.pyc`` only, never in
    ``__pycache__``: with these links the standard library loads compiled (as from Lambda's
    runtime, which ships it so), everything else (site-packages, ``src``, ``functions``) is
    compiled from source. Returns the number of links.
    """
    linked = 0
    stdlib = Path(interpreter["stdlib"])
    for cache in stdlib.rglob("__pycache__"):
        if any(part.endswith("-packages") for part in cache.relative_to(stdlib).parts):
            continue  # an installation's own site-packages
        target = prefix / cache.parent.relative_to(cache.parent.anchor)
        for pyc in cache.glob(f"*.{interpreter['cache_tag']}.pyc"):
            target.mkdir(parents=True, exist_ok=True)
            (target / pyc.name).symlink_to(pyc)
            linked += 1
    return linked


def bytecode_env(env: dict[str, str], mode: str, prefix: Path) -> dict[str, str]:
    """The probe's environment in one bytecode mode (see the module's docstring)."""
    env = dict(env)
    if mode == "cached":
        env.pop("PYTHONPYCACHEPREFIX", None)
        env["PYTHONDONTWRITEBYTECODE"] = ""  # empty: unset, .pyc files are written
    else:
        env["PYTHONPYCACHEPREFIX"] = str(prefix)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def measure(
    runs: int,
    url: str,
    endpoint: str,
    envs: dict[str, dict[str, str]],
    domain: str,
    scratch: Path,
    python: str,
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[tuple[str, float]]]]:
    import boto3

    from csms.aws.connections import DynamoConnectionStore
    from csms.aws.provisioning import ensure_connections_table
    from csms.data.database import PgDatabase, make_engine
    from csms.domain.connections import ConnectionRecord
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
    samples: dict[str, list[dict[str, Any]]] = {
        name + MODES[mode]: [] for mode in envs for name in (*FUNCTIONS, BASELINE)
    }
    breakdown: dict[str, list[tuple[str, float]]] = {}

    def events_for(function: str, tag: str) -> list[dict[str, Any]]:
        if function == "connect":
            for i in (1, 2):
                provisioning.add_charger(f"COLD-C-{tag}-{i}", "cold", now, security_profile=0)
            return [connect_event(f"COLD-C-{tag}-{i}", f"cc-{tag}-{i}=", domain) for i in (1, 2)]
        if function == "message":
            provisioning.add_charger(f"COLD-M-{tag}", "cold", now, security_profile=0)
            store.register(ConnectionRecord(f"cm-{tag}=", f"COLD-M-{tag}", "cold", "ocpp1.6", now))
            boot = '[2,"b1","BootNotification",{"chargePointVendor":"Acme","chargePointModel":"W22"}]'
            status = (
                '[2,"s1","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available"}]'
            )
            return [message_event(f"cm-{tag}=", boot, domain), message_event(f"cm-{tag}=", status, domain)]
        for i in (1, 2):
            provisioning.add_charger(f"COLD-D-{tag}-{i}", "cold", now, security_profile=0)
            store.register(ConnectionRecord(f"cd-{tag}-{i}=", f"COLD-D-{tag}-{i}", "cold", "ocpp1.6", now))
        return [disconnect_event(f"cd-{tag}-{i}=", domain) for i in (1, 2)]

    def probe(function: str, tag: str, mode: str, importtime: bool) -> tuple[dict[str, Any], str]:
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
            env=envs[mode],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            timeout=120,
        )
        wall = (time.perf_counter() - started) * 1000
        if done.returncode != 0 or not out_path.exists():
            raise RuntimeError(f"{function} probe failed ({done.returncode}):\n{done.stderr[-3000:]}")
        result = {"bytecode": mode, **json.loads(out_path.read_text())}
        result["process_ms"] = round(wall, 1)
        return result, done.stderr

    # One untimed round per mode first: in the cached mode it writes the .pyc files (as a
    # deployed package ships them); for both it warms the file system cache.
    for mode in envs:
        for function in FUNCTIONS:
            probe(function, f"w{mode[0]}{function[0]}", mode, False)
    for run in range(runs):
        for mode in envs:  # interleaved, so a change in the machine's load hits both modes
            started = time.perf_counter()
            subprocess.run([python, "-c", "pass"], env=envs[mode], check=True)
            samples[BASELINE + MODES[mode]].append(
                {"bytecode": mode, "process_ms": round((time.perf_counter() - started) * 1000, 1)}
            )
            for function in FUNCTIONS:
                result, _ = probe(function, f"r{run}{mode[0]}{function[0]}", mode, False)
                samples[function + MODES[mode]].append(result)
    for mode in envs:
        for function in FUNCTIONS:
            _, stderr = probe(function, f"i{mode[0]}{function[0]}", mode, True)
            breakdown[function + MODES[mode]] = by_package(stderr)
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
    modes: tuple[str, ...],
    external_db: bool,
    url: str,
    interpreter: dict[str, Any],
    linked: int,
    written: int,
) -> list[dict[str, Any]]:
    """Print the tables; returns one summary per row (for --json)."""
    bytecode = []
    if "cached" in modes:
        bytecode.append("rows without a suffix load cached .pyc files (a bundle that ships bytecode)")
    if "none" in modes:
        bytecode.append(
            "(no .pyc) rows run with PYTHONDONTWRITEBYTECODE=1 and a fresh PYTHONPYCACHEPREFIX holding "
            f"only links to the standard library's .pyc ({linked:,}): site-packages, src and functions "
            "compile from source at every start (a read-only bundle without bytecode)"
        )
    bench.header(
        "Cold start per function (median of fresh interpreters, ms)",
        runs=runs,
        interpreter=f"{interpreter['path']}: {interpreter['implementation']} {interpreter['version']} "
        "(probes and python -c pass)",
        bytecode="; ".join(bytecode),
        postgresql=bench.postgres_version(url) + (" (DATABASE_URL)" if external_db else " (embedded)"),
        dynamodb="moto over HTTP on 127.0.0.1",
    )
    baselines = {
        mode: bench.median([s["process_ms"] for s in samples[BASELINE + MODES[mode]]]) for mode in modes
    }
    summaries: list[dict[str, Any]] = []
    rows = []
    for function in FUNCTIONS:
        for mode in modes:
            label = function + MODES[mode]
            runs_ = samples[label]
            process = bench.median([s["process_ms"] for s in runs_])
            summary = {
                "label": label,
                "function": function,
                "bytecode": mode,
                "import_ms": round(bench.median([s["import_ms"] for s in runs_]), 2),
                "init_ms": round(bench.median([s["init_ms"] for s in runs_]), 2),
                "import_init_ms": round(bench.median([s["import_ms"] + s["init_ms"] for s in runs_]), 2),
                "import_init_cpu_ms": round(
                    bench.median([s["import_cpu_ms"] + s["init_cpu_ms"] for s in runs_]), 2
                ),
                "first_ms": round(bench.median([s["first_ms"] for s in runs_]), 2),
                "second_ms": round(bench.median([s["second_ms"] for s in runs_]), 2),
                "process_ms": process,
                "vs_pass": round(process / baselines[mode], 1),
                "modules": runs_[0]["modules"],
                "compiled_from_source": max(s["compiled"] for s in runs_),
                "compiled_stdlib": max(s["compiled_stdlib"] for s in runs_),
            }
            summaries.append(summary)
            rows.append(
                [
                    label,
                    summary["import_ms"],
                    summary["init_ms"],
                    summary["import_init_ms"],
                    summary["import_init_cpu_ms"],
                    "yes" if summary["import_init_ms"] < TARGET_MS else "no",
                    summary["first_ms"],
                    summary["second_ms"],
                    process,
                    f"{process / baselines[mode]:.0f}x",
                    summary["modules"],
                ]
            )
    for mode in modes:
        label = BASELINE + MODES[mode]
        rows.append([label, "", "", "", "", "", "", "", baselines[mode], "1x", ""])
        summaries.append(
            {"label": label, "function": BASELINE, "bytecode": mode, "process_ms": baselines[mode]}
        )
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
        "1st call: the first invocation, which opens the PostgreSQL and HTTP connections (loopback here) "
        "and loads the CA bundle as the first HTTPS request on AWS does. "
        "vs pass: against python -c pass in the same bytecode mode."
    )
    compiled = ", ".join(
        f"{s['label']} {s['compiled_from_source']} (stdlib {s['compiled_stdlib']})"
        for s in summaries
        if "compiled_from_source" in s
    )
    written_note = f"; .pyc files written under the prefix: {written}" if "none" in modes else ""
    print(f"Modules compiled from source per start: {compiled}{written_note}.")
    print(
        "\nSelf time by package during import + init + two calls (python -X importtime; inflates totals"
        + ("; in the (no .pyc) columns it includes compiling each module" if "none" in modes else "")
        + "):\n"
    )
    columns = [function + MODES[mode] for function in FUNCTIONS for mode in modes]
    names: list[str] = []
    for column in columns:
        for name, _ in breakdown[column][:14]:
            if name not in names:
                names.append(name)
    lookup = {column: dict(breakdown[column]) for column in columns}
    print(
        bench.table(
            ["package", *columns],
            [[name, *(lookup[c].get(name, 0.0) for c in columns)] for name in names]
            + [["(all)", *(round(sum(lookup[c].values()), 1) for c in columns)]],
        )
    )
    return summaries


if __name__ == "__main__":
    raise SystemExit(main())
