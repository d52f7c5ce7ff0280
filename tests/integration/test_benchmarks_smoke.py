"""Each benchmark script runs in its smallest configuration and prints its figures.

Timing is never asserted: the benchmarks measure, docs/benchmarks.md interprets. The scripts
share the test session's PostgreSQL server (DATABASE_URL) instead of starting their own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

CASES = {
    "bench_message.py": (
        ["--iterations", "5", "--warmup", "2"],
        [
            "| Heartbeat",
            "| MeterValues (10)",
            "lib one loop",
            # 2.0.1 through the 2.0.1 dispatcher and the library's v201 ChargePoint
            "| 2.0.1 Heartbeat",
            "| 2.0.1 TransactionEvent Started",
            "| 2.0.1 TransactionEvent Updated (10)",
            "| 2.0.1 TransactionEvent Ended",
            "| 2.0.1 MeterValues (10)",
        ],
    ),
    "bench_coldstart.py": (
        ["--runs", "1", "--bytecode", "both"],
        ["| connect", "| message", "| disconnect", "python -c pass", "| message (no .pyc)"],
    ),
    "bench_load.py": (
        ["--chargers", "5", "--duration", "2", "--ramp", "1"],
        ["| product", "| stateful", "p95 ms", "rows in PG"],
    ),
    # A mixed fleet: half the chargers speak 2.0.1 to both servers; figures per protocol too.
    "bench_load.py --ocpp201-share": (
        ["--chargers", "4", "--duration", "2", "--ramp", "1", "--ocpp201-share", "0.5"],
        ["| product", "| stateful", "Per protocol", "| 2.0.1 ", "| 2.0.1 BootNotification"],
    ),
    "bench_storm.py": (
        ["--chargers", "5", "--ramp", "1", "--duration", "30"],
        ["| product", "| stateful", "tx open after"],
    ),
    "bench_ingest.py": (["--samples", "500"], ["| handler", "| repository", "| COPY", "samples/s"]),
    "bench_live.py": (["--changes", "3", "--gap", "0.1"], ["| frame → event on the console", "p95 ms"]),
    "bench_fleet.py": (
        ["--stations", "60", "--online", "10", "--minutes", "2", "--history", "1", "--repeat", "1"],
        ["| GET /stations/{id} (baseline)", "| GET /stations online=true", "before: list + /evses", "by key"],
    ),
    "bench_allocation.py": (
        ["--evses", "40", "--sites", "3", "--site-evses", "20", "--repeat", "1"],
        ["| one site of 40", "| tenant: 3 x 20", "proportional ms"],
    ),
    # Not a timing: the per-frame counts the cost model reads (src/csms/cost/measured.json) must
    # be what the message path does now; the script exits 1 on any difference.
    "measure_frames.py": (["--iterations", "4", "--check"], ["no drift against"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_benchmark_runs_and_prints_its_figures(case: str, database_url: str) -> None:
    args, expected = CASES[case]
    script = case.split()[0]  # "script.py" or "script.py --what-the-case-adds"
    # The session's local stack configured this process like a Lambda (CSMS_*, AWS_* pointing
    # at its moto and gateway); each script sets up its own.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CSMS_", "AWS_"))}
    env["DATABASE_URL"] = database_url
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    for marker in expected:
        assert marker in done.stdout, f"{marker!r} missing from:\n{done.stdout[-4000:]}"
