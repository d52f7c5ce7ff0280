#!/usr/bin/env python3
"""CDK entry point: ``npx cdk synth|deploy -c stage=dev|prod`` (run from ``infra/``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# jsii starts Node when aws_cdk is imported: silence its Node 20 end-of-life banner first.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

_SRC = Path(__file__).resolve().parent.parent / "src"
try:
    import csms  # noqa: F401  (installed in the repo's venv)
except ImportError:  # plain python3 without the project installed
    sys.path.insert(0, str(_SRC))

from csms_infra.application import build_app  # noqa: E402


def main() -> None:
    app, _ = build_app()
    app.synth()


if __name__ == "__main__":
    main()
