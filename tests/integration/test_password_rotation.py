"""rotate-password over real WebSockets, for a 1.6 charger (ChangeConfiguration AuthorizationKey)
and a 2.0.1 station (SetVariables SecurityCtrlr.BasicAuthPassword): accepted, refused, failed,
unanswered, and a reconnect with each password at each stage. The new password is never in the
command, its answer, the device model, the events or the idempotency records."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidStatus

from csms.app import wiring
from csms.clock import FixedClock
from csms.local.stack import LocalStack
from csms.security import verify_password
from csms.services.provisioning import ProvisioningService
from tests.integration.api_client import ApiClient, Reply
from tests.integration.charger import open_socket
from tests.integration.command_helpers import get, next_frame
from tests.integration.conftest import rows

pytestmark = pytest.mark.integration
V1 = "/api/v1"
OLD = "the-old-password-16"
V16, V201 = "ocpp1.6", "ocpp2.0.1"


@pytest.fixture
def operator(api: ApiClient) -> ApiClient:
    return api.as_("acme", "operator")


def station(provisioning: ProvisioningService, station_id: str) -> str:
    provisioning.add_charger(station_id, "acme", datetime.now(UTC), password=OLD)
    return station_id


async def rotate(
    client: ApiClient, station_id: str, body: dict[str, Any], wait: float = 0, **headers: str
) -> Reply:
    return await asyncio.to_thread(
        client.post,
        f"{V1}/stations/{station_id}/commands/rotate-password?wait={wait}",
        body,
        headers=headers or None,
    )


async def admitted(stack: LocalStack, station_id: str, password: str, protocol: str) -> bool:
    """Whether a new connection with ``password`` is admitted (then closed)."""
    try:
        socket = await open_socket(stack, station_id, password=password, subprotocols=[protocol])
    except InvalidStatus as refused:
        if refused.response.status_code != 401:
            raise
        return False
    await socket.close()
    return True


async def who_gets_in(stack: LocalStack, station_id: str, protocol: str, *passwords: str) -> list[bool]:
    return [await admitted(stack, station_id, p, protocol) for p in passwords]


async def answer(socket: ClientConnection, frame: list[Any], payload: dict[str, Any]) -> None:
    await socket.send(json.dumps([3, frame[1], payload]))


async def finished(client: ApiClient, command_id: str) -> Reply:
    for _ in range(100):
        got = await get(client, f"/commands/{command_id}")
        if got.body["status"] not in ("queued", "sent"):
            return got
        await asyncio.sleep(0.1)
    return got


def nothing_keeps(engine: Engine, *secrets: str) -> None:
    """No table holds the password, in plain text or hex-encoded (the command secret is gone)."""
    assert rows(engine, "SELECT count(*) AS n FROM command_secrets") == [{"n": 0}]
    for table in ("commands", "device_model_variables", "domain_events", "charge_points"):
        dump = json.dumps(rows(engine, f"SELECT * FROM {table}"), default=str)
        for secret in secrets:
            assert secret not in dump, table
            assert secret.encode().hex() not in dump, table


def hashes(engine: Engine, station_id: str) -> dict[str, Any]:
    [row] = rows(
        engine,
        "SELECT password_hash, pending_password_hash, previous_password_hash, password_rotation "
        "FROM charge_points WHERE id = :id",
        id=station_id,
    )
    return row


#: What each protocol's station is sent, and how it accepts or refuses it.
PROTOCOLS: dict[str, tuple[Callable[[list[Any]], str], Callable[[bool], dict[str, Any]]]] = {
    V16: (
        lambda frame: (
            bytes.fromhex(frame[3]["value"]).decode() if frame[3]["key"] == "AuthorizationKey" else ""
        ),
        lambda ok: {"status": "Accepted" if ok else "Rejected"},
    ),
    V201: (
        lambda frame: frame[3]["setVariableData"][0]["attributeValue"],
        lambda ok: {
            "setVariableResult": [
                {
                    "attributeStatus": "Accepted" if ok else "Rejected",
                    "component": {"name": "SecurityCtrlr"},
                    "variable": {"name": "BasicAuthPassword"},
                }
            ]
        },
    ),
}


@pytest.mark.parametrize("protocol", [V16, V201])
async def test_an_accepted_rotation_never_locks_the_station_out(
    operator: ApiClient,
    stack: LocalStack,
    provisioning: ProvisioningService,
    engine: Engine,
    protocol: str,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    cs = station(provisioning, f"ROT-{protocol[-3:].replace('.', '')}")
    received, accepted = PROTOCOLS[protocol]
    socket = await open_socket(stack, cs, password=OLD, subprotocols=[protocol])
    # When the operator rotates without giving a password, with an Idempotency-Key
    submitted = await rotate(operator, cs, {}, **{"Idempotency-Key": "rotate-1"})
    new = submitted.body["generatedPassword"]
    frame = await next_frame(socket)
    # Then the station is sent the new password (1.6: hex-encoded, as the security whitepaper asks)
    assert received(frame) == new
    assert len(new) == 20
    # and the command shows it nowhere
    assert submitted.body["request"] == {"passwordLength": 20}
    assert new not in json.dumps(submitted.body["ocppRequest"])
    # While it is in flight, both passwords are admitted (and nothing else)
    assert await who_gets_in(stack, cs, protocol, new, OLD, "not-the-password-1") == [True, True, False]
    # When the station accepts (on the connection it has now)
    socket = await open_socket(stack, cs, password=OLD, subprotocols=[protocol])
    await answer(socket, frame, accepted(True))
    done = await finished(operator, submitted.body["id"])
    await socket.close()
    assert done.body["status"] == "accepted"
    assert "generatedPassword" not in done.body or done.body["generatedPassword"] is None  # shown once
    stored = hashes(engine, cs)
    assert verify_password(new, stored["password_hash"])
    assert verify_password(OLD, stored["previous_password_hash"])
    # Then the old password still gets in until the station first connects with the new one
    assert await who_gets_in(stack, cs, protocol, OLD, new, OLD, new) == [True, True, False, True]
    assert hashes(engine, cs)["previous_password_hash"] is None
    # and the password was kept nowhere, nor its answer replayed with it
    nothing_keeps(engine, new)
    socket = await open_socket(stack, cs, password=new, subprotocols=[protocol])
    again = await rotate(operator, cs, {}, **{"Idempotency-Key": "rotate-1"})
    assert again.status == 202
    assert again.body["generatedPassword"] != new
    await answer(socket, await next_frame(socket), accepted(False))  # (refused: new stays the password)
    await finished(operator, again.body["id"])
    await socket.close()
    assert await who_gets_in(stack, cs, protocol, new, again.body["generatedPassword"]) == [True, False]
    # and no log line holds a password
    logged = caplog.text + "".join(capfd.readouterr())
    for secret in (new, again.body["generatedPassword"]):
        assert secret not in logged
        assert secret.encode().hex() not in logged


@pytest.mark.parametrize("protocol", [V16, V201])
async def test_a_refused_or_failed_rotation_forgets_the_new_password(
    operator: ApiClient, stack: LocalStack, provisioning: ProvisioningService, engine: Engine, protocol: str
) -> None:
    cs = station(provisioning, f"REF-{protocol[-3:].replace('.', '')}")
    received, accepted = PROTOCOLS[protocol]
    given = "an-operator-choice1"
    socket = await open_socket(stack, cs, password=OLD, subprotocols=[protocol])
    refused = await rotate(operator, cs, {"password": given})
    frame = await next_frame(socket)
    assert received(frame) == given
    assert "generatedPassword" not in refused.body or refused.body["generatedPassword"] is None
    await answer(socket, frame, accepted(False))
    done = await finished(operator, refused.body["id"])
    assert done.body["status"] == "rejected"
    assert await who_gets_in(stack, cs, protocol, given, OLD) == [False, True]
    # A CALLERROR (the station cannot) forgets it too
    socket = await open_socket(stack, cs, password=OLD, subprotocols=[protocol])
    failed = await rotate(operator, cs, {"password": given})
    frame = await next_frame(socket)
    await socket.send(json.dumps([4, frame[1], "NotSupported", "no", {}]))
    assert (await finished(operator, failed.body["id"])).body["status"] == "failed"
    await socket.close()
    assert await who_gets_in(stack, cs, protocol, given, OLD) == [False, True]
    assert {k: v for k, v in hashes(engine, cs).items() if k != "password_hash"} == {
        "pending_password_hash": None,
        "previous_password_hash": None,
        "password_rotation": None,
    }
    nothing_keeps(engine, given)


async def unanswered_rotation(operator: ApiClient, stack: LocalStack, cs: str, password: str) -> str:
    """A rotation the station got and never answered, timed out by the sweeper: its password."""
    socket = await open_socket(stack, cs, password=password, subprotocols=[V201])
    lost = await rotate(operator, cs, {})
    await next_frame(socket)
    await socket.close()
    later = FixedClock(datetime.now(UTC) + timedelta(minutes=5))
    assert (await asyncio.to_thread(wiring.commands(later).sweep))["timed_out"] == 1
    return str(lost.body["generatedPassword"])


async def test_an_unanswered_rotation_keeps_both_until_the_station_shows_which_it_holds(
    operator: ApiClient, stack: LocalStack, provisioning: ProvisioningService, engine: Engine
) -> None:
    cs = station(provisioning, "ROT-LOST")
    # When nobody answers before the deadline: the station may hold either password
    new = await unanswered_rotation(operator, stack, cs, OLD)
    assert hashes(engine, cs)["password_rotation"] == "unconfirmed"
    # Then a second rotation waits (409)
    assert (await rotate(operator, cs, {})).status == 409
    # and both are admitted until the station connects with one: the new one, from then on alone
    assert await who_gets_in(stack, cs, V201, "wrong-password-123", new, OLD, new) == [
        False,
        True,
        False,
        True,
    ]
    # When another rotation is lost and the station comes back with the password it had
    newer = await unanswered_rotation(operator, stack, cs, new)
    assert await who_gets_in(stack, cs, V201, new, newer) == [True, False]
    # Then it kept it: the lost one is forgotten
    assert hashes(engine, cs)["pending_password_hash"] is None
    nothing_keeps(engine, new, newer)


async def test_what_cannot_be_rotated_is_refused(
    operator: ApiClient, stack: LocalStack, provisioning: ProvisioningService, api: ApiClient, engine: Engine
) -> None:
    cs = station(provisioning, "ROT-16")
    assert await admitted(stack, cs, OLD, V16)  # it speaks 1.6
    too_long = await rotate(operator, cs, {"password": "a-password-of-24-chars-x"})
    assert too_long.status == 422
    assert "password" in too_long.body["detail"]
    assert "AuthorizationKey" in too_long.body["detail"]
    bad = await rotate(operator, cs, {"password": "short"})
    assert (bad.status, "password" in bad.body["detail"]) == (422, True)
    # (a refused request leaves no rotation behind)
    assert hashes(engine, cs)["pending_password_hash"] is None
    nothing_keeps(engine, "a-password-of-24-chars-x")
    # a station provisioned without a password has none to rotate
    assert (
        api.as_("acme", "admin")
        .post(f"{V1}/stations", {"id": "NO-PASSWORD", "ocppVersion": V201, "securityProfile": 0})
        .status
        == 201
    )
    assert (await rotate(operator, "NO-PASSWORD", {})).status == 409
    # and set-variables / ChangeConfiguration are not ways around it
    variables = await asyncio.to_thread(
        operator.post,
        f"{V1}/stations/{cs}/commands/set-variables",
        {
            "variables": [
                {
                    "component": {"name": "SecurityCtrlr"},
                    "variable": {"name": "BasicAuthPassword"},
                    "attributeValue": "sneaky-password-123",
                }
            ]
        },
    )
    raw = await asyncio.to_thread(
        operator.post,
        f"{V1}/stations/{cs}/ocpp/ChangeConfiguration",
        {"key": "AuthorizationKey", "value": "00" * 16},
    )
    assert (variables.status, raw.status) == (422, 422)
    assert "rotate-password" in raw.body["detail"]
