"""The fault-injection suite, at its smallest: every scenario, counted (never timed).

``make faults`` runs it at a useful size; figures are in docs/operations.md. The script exits
1 when a scenario loses, duplicates or falsely acknowledges anything, leaves a command
pending, or never recovers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_faults.py"


def test_every_fault_scenario_loses_duplicates_and_falsely_acknowledges_nothing(tmp_path: Path) -> None:
    # The suite starts a stack of its own (function containers, moto, a supervised embedded
    # PostgreSQL); the session's settings must not leak into it.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CSMS_", "AWS_", "DATABASE_URL"))}
    out = tmp_path / "faults.json"
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--chargers",
            "2",
            "--sessions",
            "1",
            "--meter-values",
            "1",
            "--json",
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    summary = [
        line for line in done.stdout.splitlines() if line.startswith(("|", "MISSED", "  ", "scenario"))
    ]
    assert done.returncode == 0, ("\n".join(summary), done.stderr[-2000:])
    reported = json.loads(out.read_text())["results"]
    assert [r["scenario"] for r in reported] == json.loads(out.read_text())["parameters"]["scenarios"]
    assert len(reported) == 6  # PostgreSQL, DynamoDB, EventBridge, SQS, a killed function, the 2-hour cut
    # the bar, from the counts (the script's exit code says the same)
    assert all(r["lost"] == r["duplicates"] == r["false_acks"] == r["commands_lost"] == 0 for r in reported)
    assert "zero lost, zero duplicated, zero false acknowledgements" in done.stdout
