"""Runs inside a fresh interpreter for bench_coldstart.py: load one function like Lambda does,
build its collaborators, then serve its first and second invocation. Writes the phase
timings (ms) as JSON to the file named by argv[2], with how many of the loaded modules were
compiled from source (no usable .pyc) in this process.

It finds ``csms`` through ``PYTHONPATH`` (the parent puts the repository's ``src`` first) or
an installed package, and ``functions/<name>/handler.py`` through its path, so it runs under
any interpreter that has the runtime dependencies (``bench_coldstart.py --python``)."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()
STARTED_CPU = time.process_time()

ROOT = Path(__file__).resolve().parents[1]


class Context:
    function_name = "cold"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:cold"
    memory_limit_in_mb = 512
    aws_request_id = "cold"
    log_group_name = "/aws/lambda/cold"
    log_stream_name = "cold"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def main() -> None:
    function, out_path, event_path = sys.argv[1], sys.argv[2], sys.argv[3]
    events: list[dict[str, Any]] = json.loads(Path(event_path).read_text())
    spec = importlib.util.spec_from_file_location(
        f"handler_{function}", ROOT / "functions" / function / "handler.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # Lambda's INIT phase
    imported, imported_cpu = time.perf_counter(), time.process_time()

    # What the first invocation builds before any I/O (clients, engine, dispatcher).
    from csms.app import wiring

    if function == "connect":
        wiring.admission()
        wiring.connections()
        wiring.sender(events[0])
    elif function == "message":
        wiring.dispatcher("ocpp1.6")
        wiring.connections()
        wiring.sender(events[0])
    else:
        wiring.connections()
    initialised, initialised_cpu = time.perf_counter(), time.process_time()

    results = []
    for number, event in enumerate(events):  # first invocation (connects), then warm
        started = time.perf_counter()
        if number == 0:
            # On AWS the endpoints are HTTPS and the first request loads the CA bundle once
            # (csms.aws.signed.tls_context); the local ones are plain HTTP, so do it here.
            from csms.aws.signed import tls_context

            tls_context()
        results.append(module.lambda_handler(event, Context()))
        results.append(round((time.perf_counter() - started) * 1000, 2))
    timings = {
        "import_ms": round((imported - STARTED) * 1000, 2),
        "init_ms": round((initialised - imported) * 1000, 2),
        "import_cpu_ms": round((imported_cpu - STARTED_CPU) * 1000, 2),
        "init_cpu_ms": round((initialised_cpu - imported_cpu) * 1000, 2),
        "first_ms": results[1],
        "second_ms": results[3] if len(results) > 3 else None,
        "status": results[0],
        "modules": len(sys.modules),
        **compiled_from_source(),
    }
    Path(out_path).write_text(json.dumps(timings))


def compiled_from_source() -> dict[str, int]:
    """Modules whose bytecode cache file does not exist now (after the timings: not measured).

    With PYTHONDONTWRITEBYTECODE=1 nothing is written, so these were compiled from source in
    this process; with bytecode writing on (the cached mode, after the untimed round) every
    module has its .pyc and the count is 0. ``compiled_stdlib``: how many of them are the
    standard library's (Lambda's runtime ships those compiled; so does the no-.pyc mode).
    """
    import sysconfig

    stdlib = str(Path(sysconfig.get_paths()["stdlib"])) + "/"
    compiled = stdlib_compiled = 0
    for module in list(sys.modules.values()):
        cached = getattr(module, "__cached__", None)
        if isinstance(cached, str) and not Path(cached).exists():
            compiled += 1
            origin = str(getattr(module, "__file__", "") or "")
            if origin.startswith(stdlib) and "-packages/" not in origin:
                stdlib_compiled += 1
    return {"compiled": compiled, "compiled_stdlib": stdlib_compiled}


if __name__ == "__main__":
    main()
