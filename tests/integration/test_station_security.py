"""Station credentials (issue 13, part 2): a password by default, security profile 0 only when
asked for, and a change of credentials or status closing the live connection at once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from csms.local.stack import LocalStack
from tests.integration.api_client import ApiClient
from tests.integration.charger import open_socket
from tests.integration.conftest import rows

pytestmark = pytest.mark.integration
V1 = "/api/v1"
PASSWORD = "sixteen-or-more-chars"


@pytest.fixture
def admin(api: ApiClient) -> ApiClient:
    return api.as_("acme", "admin")


async def refused(stack: LocalStack, station: str, password: str | None = None) -> int:
    with pytest.raises(InvalidStatus) as refusal:
        await open_socket(stack, station, password=password)
    return refusal.value.response.status_code


async def closed_within(socket: ClientConnection, seconds: float = 5) -> bool:
    """Whether the server closes ``socket`` within ``seconds`` (frames before that are read)."""
    try:
        async with asyncio.timeout(seconds):
            while True:
                await socket.recv()
    except ConnectionClosed:
        return True
    except TimeoutError:
        return False


def test_a_station_needs_a_password_unless_profile_0_is_asked_for(admin: ApiClient) -> None:
    # Given nothing about credentials: refused, naming the way out
    bare = admin.post(f"{V1}/stations", {"id": "CP-BARE"})
    assert bare.status == 422
    assert "securityProfile 0" in bare.body["detail"]
    # A password shorter than 16 (or longer than 40) characters is refused, naming the field
    short = admin.post(f"{V1}/stations", {"id": "CP-SHORT", "password": "a"})
    assert short.status == 422
    assert short.body["errors"][0]["field"] == "body.password"
    assert admin.post(f"{V1}/stations", {"id": "CP-LONG", "password": "x" * 41}).status == 422
    # Profile 0 with a password is a contradiction
    both = admin.post(f"{V1}/stations", {"id": "CP-BOTH", "password": PASSWORD, "securityProfile": 0})
    assert both.status == 422
    # A password gives profile 2 (Basic auth over TLS) unless 1 is asked for
    with_password = admin.post(f"{V1}/stations", {"id": "CP-PW", "password": PASSWORD})
    assert with_password.status == 201
    assert with_password.body["station"]["securityProfile"] == 2
    assert with_password.body["station"]["hasPassword"] is True
    profile_1 = admin.post(f"{V1}/stations", {"id": "CP-P1", "generatePassword": True, "securityProfile": 1})
    assert profile_1.body["station"]["securityProfile"] == 1
    # Profile 0 is shown on the station, in the list too
    open_station = admin.post(f"{V1}/stations", {"id": "CP-OPEN", "securityProfile": 0})
    assert open_station.status == 201
    assert admin.get(f"{V1}/stations/CP-OPEN").body["securityProfile"] == 0
    listed = {s["id"]: s["securityProfile"] for s in admin.get(f"{V1}/stations").body["items"]}
    assert listed == {"CP-OPEN": 0, "CP-P1": 1, "CP-PW": 2}


def test_clearing_a_password_needs_profile_0_and_a_profile_needs_a_password(admin: ApiClient) -> None:
    assert admin.post(f"{V1}/stations", {"id": "CP-C", "password": PASSWORD}).status == 201
    assert admin.patch(f"{V1}/stations/CP-C", {"clearPassword": True}).status == 422
    cleared = admin.patch(f"{V1}/stations/CP-C", {"clearPassword": True, "securityProfile": 0})
    assert (cleared.status, cleared.body["securityProfile"], cleared.body["hasPassword"]) == (200, 0, False)
    # Back to Basic auth: only with a password
    assert admin.patch(f"{V1}/stations/CP-C", {"securityProfile": 2}).status == 422
    again = admin.patch(f"{V1}/stations/CP-C", {"password": PASSWORD})
    assert (again.status, again.body["securityProfile"], again.body["hasPassword"]) == (200, 2, True)


async def test_profile_0_connects_without_a_password_and_profile_2_only_with_it(
    admin: ApiClient, stack: LocalStack
) -> None:
    admin.post(f"{V1}/stations", {"id": "CP-OPEN", "securityProfile": 0})
    admin.post(f"{V1}/stations", {"id": "CP-PW", "password": PASSWORD})
    socket = await open_socket(stack, "CP-OPEN")
    await socket.close()
    assert await refused(stack, "CP-PW") == 401
    assert await refused(stack, "CP-PW", "wrong-password-of-16") == 401
    socket = await open_socket(stack, "CP-PW", password=PASSWORD)
    await socket.close()


async def test_unknown_stations_admitted_in_dev_are_profile_0_until_given_a_password(
    admin: ApiClient, api: ApiClient, stack: LocalStack, reconfigure: object
) -> None:
    reconfigure(CSMS_ALLOW_UNKNOWN_CHARGERS="true")  # type: ignore[operator]
    socket = await open_socket(stack, "CP-NEW")
    await socket.close()
    registered = api.as_("default", "admin").get(f"{V1}/stations/CP-NEW").body
    assert (registered["registrationStatus"], registered["securityProfile"]) == ("Pending", 0)


async def test_a_new_password_closes_the_live_connection_at_once(admin: ApiClient, stack: LocalStack) -> None:
    admin.post(f"{V1}/stations", {"id": "CP-ROT", "password": PASSWORD})
    socket = await open_socket(stack, "CP-ROT", password=PASSWORD)
    assert admin.patch(f"{V1}/stations/CP-ROT", {"password": "another-password-16"}).status == 200
    assert await closed_within(socket)
    assert await refused(stack, "CP-ROT", PASSWORD) == 401
    socket = await open_socket(stack, "CP-ROT", password="another-password-16")
    await socket.close()


async def test_rejecting_or_decommissioning_a_station_closes_its_connection(
    admin: ApiClient, stack: LocalStack
) -> None:
    admin.post(f"{V1}/stations", {"id": "CP-REJ", "password": PASSWORD})
    admin.post(f"{V1}/stations", {"id": "CP-DEC", "password": PASSWORD})
    rejected = await open_socket(stack, "CP-REJ", password=PASSWORD)
    decommissioned = await open_socket(stack, "CP-DEC", password=PASSWORD)
    assert admin.patch(f"{V1}/stations/CP-REJ", {"registrationStatus": "Rejected"}).status == 200
    assert admin.delete(f"{V1}/stations/CP-DEC").status == 204
    assert await closed_within(rejected)
    assert await closed_within(decommissioned)
    assert await refused(stack, "CP-DEC", PASSWORD) == 401


async def test_changing_the_location_leaves_the_connection_open(admin: ApiClient, stack: LocalStack) -> None:
    admin.post(f"{V1}/locations", {"id": "L-1", "name": "Depot"})
    admin.post(f"{V1}/stations", {"id": "CP-STAY", "password": PASSWORD})
    socket = await open_socket(stack, "CP-STAY", password=PASSWORD)
    assert admin.patch(f"{V1}/stations/CP-STAY", {"locationId": "L-1"}).status == 200
    assert not await closed_within(socket, 1)
    await socket.close()


def test_a_station_with_basic_auth_cannot_lose_its_password_in_the_database(
    engine: Engine, admin: ApiClient
) -> None:
    # (test_migration_populated.py checks what 0017 makes of existing stations)
    admin.post(f"{V1}/stations", {"id": "CP-PW", "password": PASSWORD})
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE charge_points SET password_hash = NULL WHERE id = 'CP-PW'"))
    assert rows(engine, "SELECT security_profile FROM charge_points") == [{"security_profile": 2}]
