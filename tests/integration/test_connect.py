"""$connect / $disconnect through the local gateway: admission, auth, reconnects, health."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from datetime import datetime

import pytest
import websockets
from ocpp.v16 import call
from sqlalchemy import Engine, text
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from csms.app import wiring
from csms.local.stack import LocalStack
from csms.services.provisioning import ProvisioningService
from tests.integration.charger import connected, open_socket, raw_exchange
from tests.integration.conftest import rows

pytestmark = pytest.mark.integration
PASSWORD = "correct-horse-battery"


async def refused_status(coro: object) -> int:
    with pytest.raises(InvalidStatus) as refused:
        await coro  # type: ignore[misc]
    return refused.value.response.status_code


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (["ocpp1.6"], "ocpp1.6"),
        (["ocpp1.5", "ocpp1.6"], "ocpp1.6"),
        (["ocpp2.0.1"], "ocpp2.0.1"),
        # the newer version wins whatever the order the station lists them in
        (["ocpp1.6", "ocpp2.0.1"], "ocpp2.0.1"),
    ],
)
async def test_the_handshake_echoes_exactly_one_supported_subprotocol(
    stack: LocalStack, provisioning: ProvisioningService, now: datetime, offered: list[str], chosen: str
) -> None:
    provisioning.add_charger("CP-P", "default", now, security_profile=0)
    socket = await open_socket(stack, "CP-P", subprotocols=offered)
    assert socket.subprotocol == chosen
    await socket.close()


async def test_other_subprotocols_are_refused_with_400(
    stack: LocalStack, provisioning: ProvisioningService, now: datetime
) -> None:
    provisioning.add_charger("CP-P", "default", now, security_profile=0)
    assert await refused_status(open_socket(stack, "CP-P", subprotocols=["ocpp2.0", "ocpp1.5"])) == 400
    assert await refused_status(open_socket(stack, "CP-P", subprotocols=[])) == 400


async def test_a_pinned_station_gets_its_protocol_and_its_last_protocol_is_recorded(
    stack: LocalStack, provisioning: ProvisioningService, now: datetime, engine: Engine
) -> None:
    provisioning.add_charger("CP-PIN", "default", now, security_profile=0)
    # Unpinned, a station offering both gets 2.0.1, which is recorded as its last protocol
    socket = await open_socket(stack, "CP-PIN", subprotocols=["ocpp1.6", "ocpp2.0.1"])
    assert socket.subprotocol == "ocpp2.0.1"
    await socket.close()
    assert rows(engine, "SELECT last_protocol FROM charge_points") == [{"last_protocol": "ocpp2.0.1"}]
    # Pinned to 1.6, it gets 1.6 for the same offer, and is refused when 1.6 is not offered
    with engine.begin() as conn:
        conn.execute(text("UPDATE charge_points SET ocpp_version = 'ocpp1.6'"))
    socket = await open_socket(stack, "CP-PIN", subprotocols=["ocpp2.0.1", "ocpp1.6"])
    assert socket.subprotocol == "ocpp1.6"
    await socket.close()
    assert await refused_status(open_socket(stack, "CP-PIN", subprotocols=["ocpp2.0.1"])) == 400
    assert rows(engine, "SELECT last_protocol FROM charge_points") == [{"last_protocol": "ocpp1.6"}]


async def test_a_subprotocol_header_sent_twice_is_one_list_and_an_encoded_newline_is_no_id(
    stack: LocalStack, provisioning: ProvisioningService, now: datetime, engine: Engine, reconfigure: object
) -> None:
    reconfigure(CSMS_ALLOW_UNKNOWN_CHARGERS="true")  # type: ignore[operator]
    provisioning.add_charger("CP-2L", "default", now, security_profile=0)
    # "Sec-WebSocket-Protocol: ocpp1.6" and a second line "...: ocpp1.5" (RFC 6455 11.3.4)
    ocpp16 = [Subprotocol("ocpp1.6")]
    async with websockets.connect(
        stack.charger_url("CP-2L"),
        subprotocols=ocpp16,
        additional_headers=[("Sec-WebSocket-Protocol", "ocpp1.5")],
    ) as socket:
        assert socket.subprotocol == "ocpp1.6"
    # The gateway percent-decodes the path: "CP-NL%0A" is "CP-NL\n", not a charger id
    assert await refused_status(websockets.connect(stack.charger_url("CP-NL%0A"), subprotocols=ocpp16)) == 400
    assert rows(engine, "SELECT id FROM charge_points WHERE id LIKE 'CP-NL%'") == []


async def test_unknown_chargers_are_refused_with_401_as_a_wrong_password_is(stack: LocalStack) -> None:
    assert await refused_status(open_socket(stack, "NOBODY")) == 401


async def test_unknown_chargers_register_as_pending_when_allowed(
    stack: LocalStack, engine: Engine, reconfigure: object
) -> None:
    # Given a deployment that admits unknown chargers
    reconfigure(CSMS_ALLOW_UNKNOWN_CHARGERS="true")  # type: ignore[operator]
    # When one connects and boots
    socket = await open_socket(stack, "NEWCOMER")
    boot = await raw_exchange(
        socket, json.dumps([2, "b1", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}])
    )
    # Then it is Pending, and may do nothing else until accepted
    assert boot[2]["status"] == "Pending"
    reply = await raw_exchange(socket, json.dumps([2, "a1", "Authorize", {"idTag": "X"}]))
    assert reply[:3] == [4, "a1", "SecurityError"]
    await socket.close()
    assert rows(
        engine, "SELECT tenant_id, registration_status, vendor FROM charge_points WHERE id = 'NEWCOMER'"
    ) == [{"tenant_id": "default", "registration_status": "Pending", "vendor": "V"}]


async def test_basic_auth_is_required_for_chargers_with_a_password(
    stack: LocalStack, provisioning: ProvisioningService, now: datetime, caplog: pytest.LogCaptureFixture
) -> None:
    provisioning.add_charger("CP-A", "default", now, password=PASSWORD)
    # missing, wrong password, wrong username: 401
    assert await refused_status(open_socket(stack, "CP-A")) == 401
    assert await refused_status(open_socket(stack, "CP-A", password="wrong")) == 401
    from tests.integration.charger import basic_auth

    assert await refused_status(open_socket(stack, "CP-A", headers=basic_auth("CP-B", PASSWORD))) == 401
    # the right one: accepted
    async with connected(stack, "CP-A", password=PASSWORD) as cp:
        assert (await cp.call(call.Heartbeat())).current_time
    # and the secret never reaches the logs
    assert PASSWORD not in caplog.text
    assert "wrong" not in [r.getMessage() for r in caplog.records]


async def test_a_newer_connection_replaces_the_older_and_a_late_disconnect_keeps_it_online(
    stack: LocalStack, provisioning: ProvisioningService, now: datetime
) -> None:
    provisioning.add_charger("CP-R", "default", now, security_profile=0)
    first = await open_socket(stack, "CP-R")
    old_id = wiring.connections().current_connection("CP-R")
    # When the charger reconnects while the old socket is still open
    async with connected(stack, "CP-R") as cp:
        new_id = wiring.connections().current_connection("CP-R")
        # Then the old connection is closed by the server and its $disconnect does not
        # take the charger offline
        await asyncio.wait_for(first.wait_closed(), 5)
        for _ in range(50):
            if old_id not in stack.gateway.connections():
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # let the old connection's $disconnect run
        assert new_id != old_id
        assert wiring.connections().current_connection("CP-R") == new_id
        # and a $disconnect replayed late for the old connection changes nothing
        assert wiring.connections().unregister(old_id or "") is None
        assert (await cp.call(call.Heartbeat())).current_time
    # Once the current connection closes, the charger is offline
    for _ in range(50):
        if wiring.connections().current_connection("CP-R") is None:
            break
        await asyncio.sleep(0.05)
    assert wiring.connections().current_connection("CP-R") is None


async def test_health_reports_dependencies_and_connected_chargers(
    stack: LocalStack, provisioning: ProvisioningService, now: datetime
) -> None:
    provisioning.add_charger("CP-H", "default", now, security_profile=0)

    def get(path: str) -> dict[str, object]:
        with urllib.request.urlopen(f"http://127.0.0.1:{stack.config.port}{path}", timeout=5) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    async with connected(stack, "CP-H"):
        health = await asyncio.to_thread(get, "/health")
    assert health["status"] == "ok"
    assert health["database"] == {"reachable": True}
    assert health["dynamodb"] == {"reachable": True}
    assert health["chargers"] == {"connected": 1}
    index = await asyncio.to_thread(get, "/")
    assert index["ocpp"] == {
        "url": f"ws://127.0.0.1:{stack.config.port}/ocpp/{{chargePointId}}",
        "subprotocols": ["ocpp2.0.1", "ocpp1.6"],
    }


async def test_websockets_client_without_ocpp_library_sees_plain_frames(
    stack: LocalStack, provisioning: ProvisioningService, now: datetime
) -> None:
    provisioning.add_charger("CP-W", "default", now, security_profile=0)
    async with websockets.connect(stack.charger_url("CP-W"), subprotocols=["ocpp1.6"]) as socket:  # type: ignore[list-item]
        reply = await raw_exchange(socket, '[2,"hb-1","Heartbeat",{}]')
    assert reply[0:2] == [3, "hb-1"]
    assert set(reply[2]) == {"currentTime"}
