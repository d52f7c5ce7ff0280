"""FirmwareManagement end to end: UpdateFirmware and GetDiagnostics through the REST API to a
real charger, and its FirmwareStatusNotification / DiagnosticsStatusNotification recorded as
timelines per charger."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action
from sqlalchemy import Engine, text
from websockets.asyncio.client import ClientConnection

from csms.local.stack import LocalStack
from tests.integration.api_client import ApiClient
from tests.integration.charger import SimulatedCharger, connected, open_socket
from tests.integration.command_helpers import get, next_frame, provision, send
from tests.integration.conftest import rows

pytestmark = pytest.mark.integration
CP = "FW-1"
T = "2026-11-22T03:00:00Z"


class FirmwareCharger(SimulatedCharger):
    """Accepts firmware updates; has a diagnostics file unless told otherwise."""

    def __init__(self, charge_point_id: str, connection: ClientConnection) -> None:
        super().__init__(charge_point_id, connection)
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.diagnostics_file: str | None = "diag-FW-1.tar.gz"

    @on(Action.update_firmware)
    def update_firmware(self, **kwargs: Any) -> call_result.UpdateFirmware:
        self.received.append(("UpdateFirmware", kwargs))
        return call_result.UpdateFirmware()

    @on(Action.get_diagnostics)
    def get_diagnostics(self, **kwargs: Any) -> call_result.GetDiagnostics:
        self.received.append(("GetDiagnostics", kwargs))
        return call_result.GetDiagnostics(file_name=self.diagnostics_file)


@pytest.fixture
def operator(api: ApiClient) -> ApiClient:
    return provision(api, "acme", CP)


async def test_update_firmware_then_the_chargers_progress_is_a_timeline(
    operator: ApiClient, stack: LocalStack, engine: Engine
) -> None:
    async with connected(stack, CP, FirmwareCharger) as charger:
        # When the operator asks for a firmware update
        update = await send(
            operator,
            CP,
            "update-firmware",
            {
                "location": "https://firmware.example.com/fw-2.1.bin",
                "retrieveDateTime": "2026-11-22T03:00:00+01:00",
                "retries": 3,
                "retryInterval": 60,
            },
        )
        # and the charger reports its progress
        for status in ("Downloading", "Downloaded", "Installing", "Installed"):
            await charger.call(call.FirmwareStatusNotification(status=status))
    # Then the command is accepted, and the charger got the request in OCPP form (UTC)
    assert (update.status, update.body["status"], update.body["response"]) == (200, "accepted", {})
    assert isinstance(charger, FirmwareCharger)
    assert charger.received == [
        (
            "UpdateFirmware",
            {
                "location": "https://firmware.example.com/fw-2.1.bin",
                "retrieve_date": "2026-11-22T02:00:00.000Z",
                "retries": 3,
                "retry_interval": 60,
            },
        )
    ]
    # And the timeline reads newest first, paginated
    timeline = await get(operator, f"/stations/{CP}/firmware-status")
    assert timeline.status == 200
    assert [e["status"] for e in timeline.body["items"]] == [
        "Installed",
        "Installing",
        "Downloaded",
        "Downloading",
    ]
    assert timeline.body["total"] == 4
    page = await get(operator, f"/stations/{CP}/firmware-status", limit=2, offset=1)
    assert [e["status"] for e in page.body["items"]] == ["Installing", "Downloaded"]
    assert (page.body["total"], page.body["limit"], page.body["offset"]) == (4, 2, 1)
    stored = rows(engine, "SELECT tenant_id, kind, status FROM charge_point_events ORDER BY id")
    assert stored == [
        {"tenant_id": "acme", "kind": "firmware", "status": s}
        for s in ("Downloading", "Downloaded", "Installing", "Installed")
    ]
    # and the diagnostics timeline is separate
    assert (await get(operator, f"/stations/{CP}/diagnostics-status")).body["total"] == 0


async def test_get_diagnostics_records_the_file_name_and_the_upload_progress(
    operator: ApiClient, stack: LocalStack, engine: Engine
) -> None:
    async with connected(stack, CP, FirmwareCharger) as charger:
        diagnostics = await send(
            operator,
            CP,
            "upload-logs",
            {
                "location": "sftp://uploads.example.com/diag/",
                "oldestTimestamp": "2026-11-20T00:00:00Z",
                "latestTimestamp": "2026-11-21T00:00:00Z",
                "retries": 1,
            },
        )
        await charger.call(call.DiagnosticsStatusNotification(status="Uploading"))
        await charger.call(call.DiagnosticsStatusNotification(status="Uploaded"))
        assert isinstance(charger, FirmwareCharger)
        charger.diagnostics_file = None
        nothing = await send(operator, CP, "upload-logs", {"location": "sftp://uploads.example.com/diag/"})
    # Then the answer's fileName is kept with the command
    assert (diagnostics.body["status"], diagnostics.body["response"]) == (
        "accepted",
        {"fileName": "diag-FW-1.tar.gz"},
    )
    assert diagnostics.body["result"] == {"filename": "diag-FW-1.tar.gz"}
    assert diagnostics.body["ocppRequest"] == {
        "location": "sftp://uploads.example.com/diag/",
        "startTime": "2026-11-20T00:00:00.000Z",
        "stopTime": "2026-11-21T00:00:00.000Z",
        "retries": 1,
    }
    # and an answer without a file says there was nothing to upload
    assert (nothing.body["status"], nothing.body["reason"]) == (
        "accepted",
        "no diagnostics information available",
    )
    timeline = await get(operator, f"/stations/{CP}/diagnostics-status")
    assert [e["status"] for e in timeline.body["items"]] == ["Uploaded", "Uploading"]
    assert rows(engine, "SELECT count(*) AS n FROM charge_point_events WHERE kind = 'diagnostics'") == [
        {"n": 2}
    ]


async def test_invalid_firmware_commands_are_refused(operator: ApiClient) -> None:
    not_a_uri = await send(
        operator,
        CP,
        "update-firmware",
        {"location": "firmware.bin", "retrieveDateTime": "2026-11-22T03:00:00Z"},
    )
    no_zone = await send(
        operator,
        CP,
        "update-firmware",
        {"location": "https://x.example/fw", "retrieveDateTime": "2026-11-22T03:00:00"},
    )
    backwards = await send(
        operator,
        CP,
        "upload-logs",
        {
            "location": "sftp://x.example/",
            "oldestTimestamp": "2026-11-21T00:00:00Z",
            "latestTimestamp": "2026-11-20T00:00:00Z",
        },
    )
    assert [r.status for r in (not_a_uri, no_zone, backwards)] == [422, 422, 422]
    assert "location" in not_a_uri.body["detail"]
    assert "latestTimestamp" in backwards.body["detail"]


async def test_a_call_error_answer_fails_the_update(operator: ApiClient, stack: LocalStack) -> None:
    socket = await open_socket(stack, CP)
    pending = asyncio.create_task(
        send(
            operator,
            CP,
            "update-firmware",
            {"location": "https://x.example/fw", "retrieveDateTime": "2026-11-22T03:00:00Z"},
        )
    )
    frame = await next_frame(socket)
    assert frame[2:] == [
        "UpdateFirmware",
        {"location": "https://x.example/fw", "retrieveDate": "2026-11-22T03:00:00.000Z"},
    ]
    await socket.send(json.dumps([4, frame[1], "NotSupported", "no firmware updates here", {}]))
    answer = await pending
    await socket.close()
    assert (answer.body["status"], answer.body["errorCode"]) == ("failed", "NotSupported")


async def test_notifications_with_an_invalid_status_are_refused_and_not_recorded(
    operator: ApiClient, stack: LocalStack, engine: Engine
) -> None:
    socket = await open_socket(stack, CP)
    await socket.send(json.dumps([2, "n1", "FirmwareStatusNotification", {"status": "Exploded"}]))
    answer = await next_frame(socket)
    await socket.close()
    assert answer[:3] == [4, "n1", "PropertyConstraintViolation"]
    assert rows(engine, "SELECT count(*) AS n FROM charge_point_events") == [{"n": 0}]


async def test_timelines_are_tenant_scoped(operator: ApiClient, api: ApiClient, stack: LocalStack) -> None:
    async with connected(stack, CP) as charger:
        await charger.call(call.FirmwareStatusNotification(status="Idle"))
    other = api.as_("globex", "viewer")
    assert (await get(other, f"/stations/{CP}/firmware-status")).status == 404
    assert (await get(other, f"/stations/{CP}/diagnostics-status")).status == 404
    viewer = api.as_("acme", "viewer")
    assert (await get(viewer, f"/stations/{CP}/firmware-status")).body["total"] == 1


async def test_firmware_and_diagnostics_urls_keep_to_the_tenants_schemes_and_hosts(
    operator: ApiClient, engine: Engine
) -> None:
    # By default: encrypted transports only, any host; a 422 names the field
    plain = await send(
        operator, CP, "update-firmware", {"location": "http://x.example/fw", "retrieveDateTime": T}
    )
    ftp = await send(operator, CP, "upload-logs", {"location": "ftp://uploads.example/"})
    assert (plain.status, ftp.status) == (422, 422)
    assert plain.body["detail"].startswith("location: the URL scheme 'http' is not allowed")
    assert "https, ftps, sftp" in ftp.body["detail"]
    accepted = await send(operator, CP, "upload-logs", {"location": "ftps://uploads.example/"}, wait=0)
    assert (accepted.status, accepted.body["status"]) == (202, "queued")  # (it waits for the station)
    # A tenant that sets its own rules gets those: here plain FTP, to its own hosts only
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE tenants SET file_url_schemes = '{ftp,https}', file_url_hosts = '{*.acme.example}'"
                " WHERE id = 'acme'"
            )
        )
    own_host = await send(operator, CP, "upload-logs", {"location": "ftp://logs.acme.example/"}, wait=0)
    assert own_host.status in (200, 202)
    elsewhere = await send(
        operator, CP, "update-firmware", {"location": "https://evil.example/fw", "retrieveDateTime": T}
    )
    assert (elsewhere.status, elsewhere.body["detail"]) == (
        422,
        "location: the host 'evil.example' is not allowed for this tenant",
    )
