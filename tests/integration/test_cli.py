"""The csms command: provisioning against the stack's database, and the csms dev lifecycle."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import websockets
from sqlalchemy import Engine

from csms.cli import main
from csms.local.stack import LocalStack, free_port
from csms.security import verify_password
from tests.integration.conftest import rows

pytestmark = pytest.mark.integration


def test_chargers_add_list_remove(
    stack: LocalStack, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["chargers", "add", "CLI-1", "--password", "sixteen-chars-pw", "--tenant", "acme"]) == 0
    assert main(["chargers", "add", "CLI-2", "--generate-password"]) == 0
    out = capsys.readouterr().out
    generated = out.split("password (shown once): ")[1].strip()
    (stored,) = rows(engine, "SELECT password_hash FROM charge_points WHERE id = 'CLI-2'")
    assert verify_password(generated, str(stored["password_hash"]))
    assert generated not in str(stored["password_hash"])

    assert main(["chargers", "add", "CLI-1", "--no-password"]) == 1
    assert "exists already" in capsys.readouterr().err

    assert main(["chargers", "list", "--tenant", "acme"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split()[:4] == ["ID", "TENANT", "STATUS", "PASSWORD"]
    assert listing[1].split()[:4] == ["CLI-1", "acme", "Accepted", "yes"]
    assert len(listing) == 2

    assert main(["chargers", "remove", "CLI-1"]) == 0
    assert main(["chargers", "remove", "CLI-1"]) == 1
    assert rows(engine, "SELECT id FROM charge_points") == [{"id": "CLI-2"}]


def test_invalid_charger_ids_are_refused(stack: LocalStack, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chargers", "add", "has/slash", "--no-password"]) == 1
    assert "invalid charge point id" in capsys.readouterr().err


def test_chargers_add_needs_a_password_or_an_explicit_no_password(
    stack: LocalStack, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    # Without any of --password, --generate-password, --no-password: a usage error (argparse)
    with pytest.raises(SystemExit) as usage:
        main(["chargers", "add", "CLI-3"])
    assert usage.value.code == 2
    assert "--password" in capsys.readouterr().err
    # A password outside 16-40 characters is refused
    assert main(["chargers", "add", "CLI-3", "--password", "short"]) == 1
    assert "16-40 characters" in capsys.readouterr().err
    # --no-password is security profile 0, said so and listed
    assert main(["chargers", "add", "CLI-3", "--no-password"]) == 0
    assert "security profile 0" in capsys.readouterr().out
    assert rows(engine, "SELECT security_profile, password_hash FROM charge_points") == [
        {"security_profile": 0, "password_hash": None}
    ]
    assert main(["chargers", "list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert (listing[0].split()[-1], listing[1].split()[3], listing[1].split()[-1]) == ("PROFILE", "no", "0")


def test_idtokens_add_and_list(stack: LocalStack, engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["idtags", "add", "PARENT"]) == 0  # the 1.6 name still works
    assert (
        main(
            [
                "idtags",
                "add",
                "CARD-1",
                "--status",
                "Blocked",
                "--expiry",
                "2027-01-01T00:00:00",
                "--parent",
                "PARENT",
            ]
        )
        == 0
    )
    assert main(["idtokens", "add", "0000", "--type", "KeyCode", "--status", "NoCredit"]) == 0
    assert rows(
        engine,
        "SELECT id_token, type, tenant_id, status, expiry_date::text AS expiry, group_id_token, "
        "group_id_token_type FROM id_tokens WHERE id_token = 'CARD-1'",
    ) == [
        {
            "id_token": "CARD-1",
            "type": "ISO14443",
            "tenant_id": "default",
            "status": "Blocked",
            "expiry": "2027-01-01 00:00:00+00",
            "group_id_token": "PARENT",
            "group_id_token_type": "Central",
        }
    ]
    assert main(["idtokens", "add", "X" * 37]) == 1
    with pytest.raises(SystemExit):
        main(["idtokens", "add", "CARD-2", "--status", "Sometimes"])
    with pytest.raises(SystemExit):
        main(["idtokens", "add", "CARD-2", "--type", "NoAuthorization"])
    capsys.readouterr()
    assert main(["idtokens", "list"]) == 0
    listed = [line.split()[:2] for line in capsys.readouterr().out.splitlines()]
    assert listed == [["ID", "TOKEN"], ["0000", "KeyCode"], ["CARD-1", "ISO14443"], ["PARENT", "ISO14443"]]


def _clean_env() -> dict[str, str]:
    """The environment of a developer's shell: none of the session stack's settings."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CSMS_", "AWS_ENDPOINT_URL", "POWERTOOLS_")) and k != "DATABASE_URL"
    }


def _csms(state_dir: Path, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "csms.cli", "--state-dir", str(state_dir), *args],
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **kwargs,  # type: ignore[call-overload]
    )


def _wait_for_health(port: int, process: subprocess.Popen[str], timeout: float = 90) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"csms dev exited early: {process.stdout.read() if process.stdout else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                return json.loads(response.read())  # type: ignore[no-any-return]
        except OSError:
            time.sleep(0.2)
    raise AssertionError("csms dev did not become healthy")


def test_run_job_lists_the_jobs_and_runs_one(stack: LocalStack, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as shown:
        main(["run-job", "--help"])
    assert shown.value.code == 0
    listing = capsys.readouterr().out
    for name in ("liveness", "command-timeouts", "reservations", "stuck-transactions", "meter-housekeeping"):
        assert f"\n  {name} " in listing
    # With the stack's DATABASE_URL in the environment it runs right there and prints its result.
    assert main(["run-job", "reservations"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {
        "job": "reservations",
        "expired": 0,
        "status_requested": 0,
    }
    with pytest.raises(SystemExit) as refused:
        main(["run-job", "celery-beat"])
    assert refused.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_csms_dev_runs_until_interrupted_and_keeps_its_data(pg_tmp_path: Path) -> None:
    state_dir = pg_tmp_path / "state"
    port = free_port()
    # Given a charger provisioned before csms dev ever ran
    added = _csms(state_dir, "chargers", "add", "DEV-1", "--no-password")
    assert added.returncode == 0, added.stderr
    dev = subprocess.Popen(
        [sys.executable, "-m", "csms.cli", "--state-dir", str(state_dir), "dev", "--port", str(port)],
        env=_clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # When csms dev runs
        health = _wait_for_health(port, dev)
        assert health["status"] == "ok"
        # Then the CLI works alongside it (same database, left running), and says so
        alongside = _csms(state_dir, "idtags", "add", "DEV-TAG")
        assert alongside.returncode == 0, alongside.stderr
        assert (
            f"Using the PostgreSQL server of `csms dev` (pid {dev.pid}); it keeps running."
            in alongside.stderr
        )
        assert "earlier run" not in alongside.stderr

        async def boot() -> list[object]:
            async with websockets.connect(
                f"ws://127.0.0.1:{port}/ocpp/DEV-1", subprotocols=["ocpp1.6"]
            ) as ws:  # type: ignore[list-item]
                await ws.send('[2,"b","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]')
                await ws.send('[2,"a","Authorize",{"idTag":"DEV-TAG"}]')
                return sorted([json.loads(await ws.recv()) for _ in range(2)], key=lambda f: str(f[1]))

        authorize, booted = asyncio.run(boot())
        assert booted[2]["status"] == "Accepted"  # type: ignore[index]
        assert authorize[2] == {"idTagInfo": {"status": "Accepted"}}
        # And Ctrl-C stops everything it started
        dev.send_signal(signal.SIGINT)
        output, _ = dev.communicate(timeout=60)
    finally:
        if dev.poll() is None:
            dev.kill()
    assert dev.returncode == 0, output
    assert " frame  " in output  # the one line per frame (every frame locally: sample rate 1)
    assert "action=BootNotification" in output
    assert not (state_dir / "pgdata" / "postmaster.pid").exists()
    # And the data survived: the boot is in the database after a restart
    listing = _csms(state_dir, "chargers", "list")
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.splitlines()[1].split()[:6] == ["DEV-1", "default", "Accepted", "no", "V", "M"]
    assert not (state_dir / "pgdata" / "postmaster.pid").exists()
