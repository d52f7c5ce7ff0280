"""What the WebSocket functions import at cold start (each in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib.util, json, os, sys
os.environ.setdefault("DATABASE_URL", "postgresql+psycopg://u:p@127.0.0.1:1/db")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "x")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "x")
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from csms.app import wiring
wiring.connections()
wiring.sender({"requestContext": {"domainName": "example.com", "stage": "prod"}})
if sys.argv[2] == "message":
    wiring.dispatcher("ocpp1.6")
    wiring.dispatcher("ocpp2.0.1")
print(json.dumps(sorted(sys.modules)))
"""


def imported_by(function: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT / "functions" / function / "handler.py"), function],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("function", ["connect", "message", "disconnect"])
def test_the_websocket_functions_build_their_collaborators_without_boto3(function: str) -> None:
    modules = imported_by(function)
    assert "boto3" not in modules
    assert "botocore.client" not in modules


@pytest.mark.parametrize("function", ["connect", "message", "disconnect"])
def test_the_websocket_functions_read_their_settings_without_pydantic(function: str) -> None:
    # pydantic and pydantic-settings cost ~150 ms of every cold start (ADR 0015)
    modules = imported_by(function)
    assert "csms.settings" in modules
    assert not {"pydantic", "pydantic_core", "pydantic_settings"} & modules


def test_the_message_function_does_not_import_the_librarys_charge_point_for_either_version() -> None:
    modules = imported_by("message")
    assert "ocpp.v16.enums" in modules
    assert not {"ocpp.v16", "ocpp.v201", "ocpp.charge_point", "jsonschema"} & modules


def test_the_preloaded_enums_are_the_ones_the_library_uses_when_imported_later() -> None:
    code = (
        "import csms.ocpp16, sys\n"
        "from ocpp.v16.enums import Action\n"
        "assert 'ocpp.v16' not in sys.modules\n"
        "from ocpp.v16 import ChargePoint, call_result, datatypes\n"
        "import ocpp.v16.enums as enums\n"
        "assert enums.Action is Action and datatypes.enums is enums\n"
        "boot = call_result.BootNotification(current_time='t', interval=1, status='Accepted')\n"
        "assert boot.status == 'Accepted'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
