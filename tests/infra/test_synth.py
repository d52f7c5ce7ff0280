"""End to end: ``cdk synth`` through ``cdk.json`` with every check a deploy would run.

The fixtures synthesise in-process with CDK's built-in CloudFormation validation off
(``CDK_VALIDATION=false``, seconds saved per synth). This test runs the app the way the
CLI does, in a fresh process with that validation on and cdk-nag registered by
``build_app``, so a dependency cycle or a nag finding fails here even if nobody ran
``cdk synth``. It uses the pinned CLI when ``infra/node_modules`` has it (``npm ci``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .support import INFRA_DIR, cdk_json_context

pytestmark = pytest.mark.infra

PINNED_CLI = INFRA_DIR / "node_modules" / ".bin" / "cdk"


def test_the_app_synthesises_with_nag_and_cloudformation_validation(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "CDK_VALIDATION"}
    environment |= {
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    if PINNED_CLI.exists():
        command = [
            str(PINNED_CLI),
            "synth",
            "--quiet",
            "--no-notices",
            "-c",
            "skip_bundling=true",
            "-o",
            str(tmp_path),
        ]
    else:  # what the CLI would run, given the context it would pass
        environment |= {
            "CDK_OUTDIR": str(tmp_path),
            "CDK_CONTEXT_JSON": json.dumps({**cdk_json_context(), "skip_bundling": True}),
        }
        command = [sys.executable, "app.py"]

    completed = subprocess.run(
        command, cwd=INFRA_DIR, env=environment, capture_output=True, text=True, timeout=300
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    template = json.loads((tmp_path / "Csms-dev.template.json").read_text())
    assert "Custom::CsmsMigration" in {r["Type"] for r in template["Resources"].values()}
