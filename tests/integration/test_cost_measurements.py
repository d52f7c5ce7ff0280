"""The per-frame costs the cost model reads are what the code does now: the measuring script
runs the message path again and fails on any count that differs from ``measured.json``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "measure_frames.py"


def test_the_committed_frame_costs_match_a_fresh_measurement(database_url: str) -> None:
    # Like the benchmark smoke tests: the script sets up its own moto, on the session's PostgreSQL.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CSMS_", "AWS_"))}
    env["DATABASE_URL"] = database_url
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--iterations", "4", "--check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "no drift" in done.stdout
