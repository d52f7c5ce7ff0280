"""Console live updates (ADR 0025), end to end on the local stack: operators' consoles on the
live WebSocket (``/live``, the token offered as the subprotocol ``bearer.<token>``) receive
their tenant's domain events as they are published, through the same rule on the bus and the
same fan-out function as on AWS; real chargers over real WebSockets change the state.

Waits are generous and never measured: each test waits for the event it expects."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.client import ClientConnection

from csms.app import wiring
from csms.constants import LIVE_SUBPROTOCOL
from csms.domain.events import new_event
from csms.local.stack import LocalStack
from csms.local.tokens import AUDIENCE, ISSUER, create_token
from csms.services.provisioning import ProvisioningService
from tests.integration.api_client import ApiClient
from tests.integration.charger import SimulatedCharger, connected
from tests.integration.conftest import API_KEY
from tests.integration.event_helpers import check

pytestmark = pytest.mark.integration
V1 = "/api/v1"
WAIT = 20.0


def tenant() -> str:
    return f"live-{uuid.uuid4().hex[:8]}"


async def console(stack: LocalStack, token: str) -> ClientConnection:
    """A console's live connection, as the browser opens it."""
    return await websockets.connect(
        stack.live_url,
        subprotocols=[LIVE_SUBPROTOCOL, f"bearer.{token}"],  # type: ignore[list-item]
        open_timeout=10,
    )


def token(tenant_id: str, role: str) -> str:
    return create_token(API_KEY, tenant_id, role, 3600)


class Received:
    """Everything one console received, read in the background."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.events: list[dict[str, Any]] = []
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.socket:
            self.events += [check(envelope) for envelope in json.loads(message)["events"]]

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + WAIT
        while asyncio.get_running_loop().time() < deadline:
            found = next((e for e in self.events if predicate(e)), None)
            if found is not None:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"not received within {WAIT} s; got {[e['type'] for e in self.events]}")

    async def close(self) -> None:
        await self.socket.close()
        await self._task


def of_type(kind: str, **data: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e["type"] == kind and all(e["data"].get(k) == v for k, v in data.items())


class ObedientCharger(SimulatedCharger):
    @on(Action.reset)
    def reset(self, type: str) -> call_result.Reset:
        return call_result.Reset(status="Accepted")


def now_text() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


async def test_a_tenants_consoles_receive_its_events_live_and_never_another_tenants(
    stack: LocalStack, provisioning: ProvisioningService, api: ApiClient, now: datetime
) -> None:
    a, b = tenant(), tenant()
    cp_a, cp_b = f"LA-{uuid.uuid4().hex[:6]}", f"LB-{uuid.uuid4().hex[:6]}"
    provisioning.add_charger(cp_a, a, now, security_profile=0)
    provisioning.add_charger(cp_b, b, now, security_profile=0)
    provisioning.add_id_token("TAG-LIVE", a, now)
    # Given an operator and a viewer of tenant A, and a viewer of tenant B, on the live API
    operator = Received(await console(stack, token(a, "operator")))
    viewer = Received(await console(stack, token(a, "viewer")))
    other = Received(await console(stack, token(b, "viewer")))
    assert operator.socket.subprotocol == LIVE_SUBPROTOCOL
    try:
        async with connected(stack, cp_a, ObedientCharger) as charger, connected(stack, cp_b) as elsewhere:
            # When A's charger changes status, starts charging, meters, and obeys a command
            await charger.call(call.BootNotification(charge_point_vendor="ACME", charge_point_model="X1"))
            await charger.call(
                call.StatusNotification(
                    connector_id=1, error_code="NoError", status="Charging", timestamp=now_text()
                )
            )
            started = await charger.call(
                call.StartTransaction(
                    connector_id=1, id_tag="TAG-LIVE", meter_start=100, timestamp=now_text()
                )
            )
            await charger.call(
                call.MeterValues(
                    connector_id=1,
                    transaction_id=started.transaction_id,
                    meter_value=[
                        {
                            "timestamp": now_text(),
                            "sampledValue": [{"value": "1500", "measurand": "Energy.Active.Import.Register"}],
                        }
                    ],
                )
            )
            reset = await asyncio.to_thread(
                api.as_(a, "operator").post,
                f"{V1}/stations/{cp_a}/commands/reset?wait=10",
                {"type": "Immediate"},
            )
            assert reset.body["status"] == "accepted"
            # and B's charger changes status too
            await elsewhere.call(
                call.StatusNotification(
                    connector_id=1, error_code="NoError", status="Faulted", timestamp=now_text()
                )
            )
            # Then A's consoles get each of A's events, the viewer as well as the operator
            for received in (operator, viewer):
                status = await received.wait_for(of_type("ConnectorStatusChanged", status="Charging"))
                assert status["stationId"] == cp_a
                begun = await received.wait_for(of_type("TransactionStarted"))
                assert begun["stationId"] == cp_a
                await received.wait_for(of_type("MeterValuesReceived"))
                finished = await received.wait_for(of_type("CommandFinished"))
                assert finished["data"]["commandId"] == reset.body["id"]
            # and B's console gets B's event
            await other.wait_for(of_type("ConnectorStatusChanged", status="Faulted"))
    finally:
        for received in (operator, viewer, other):
            await received.close()
    # and never another tenant's
    assert {e["tenantId"] for e in operator.events + viewer.events} == {a}
    assert {e["tenantId"] for e in other.events} == {b}


def _expired(tenant_id: str) -> str:
    issued = int(time.time()) - 7200
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "someone",
        "iat": issued,
        "exp": issued + 60,
        "custom:tenant": tenant_id,
        "custom:role": "admin",
    }
    return jwt.encode(claims, API_KEY, algorithm="HS256")


@pytest.mark.parametrize(
    "offered",
    [
        pytest.param([LIVE_SUBPROTOCOL], id="no token"),
        pytest.param([LIVE_SUBPROTOCOL, "bearer.not-a-jwt"], id="garbage"),
        pytest.param([LIVE_SUBPROTOCOL, "bearer." + _expired("acme")], id="expired"),
        pytest.param(
            [
                LIVE_SUBPROTOCOL,
                "bearer." + create_token(b"another-signing-key-0123456789abcdef", "acme", "admin", 3600),
            ],
            id="another signer",
        ),
        pytest.param(
            [LIVE_SUBPROTOCOL, "bearer." + create_token(API_KEY, "acme", "root", 3600)], id="no such role"
        ),
    ],
)
async def test_a_bad_or_expired_token_is_refused(stack: LocalStack, offered: list[str]) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(stack.live_url, subprotocols=offered, open_timeout=10)  # type: ignore[arg-type]
    assert refused.value.response.status_code == 401


async def test_a_token_revoked_since_it_was_issued_is_refused(stack: LocalStack) -> None:
    # Given an operator whose tokens issued before a moment were revoked (removed or demoted,
    # ADR 0023), that moment after this token
    a = tenant()
    subject = f"revoked-{uuid.uuid4().hex[:8]}"
    revoked = create_token(API_KEY, a, "admin", 3600, subject=subject)
    wiring.limits().revoke(subject, datetime.now(UTC) + timedelta(minutes=5))
    # When the console connects with it, Then the handshake is refused
    with pytest.raises(websockets.InvalidStatus) as refused:
        await console(stack, revoked)
    assert refused.value.response.status_code == 401
    assert wiring.live_subscribers().of_tenant(a) == []


async def _eventually(check_: Callable[[], bool]) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while not await asyncio.to_thread(check_):
        assert asyncio.get_running_loop().time() < deadline, "not within the wait"
        await asyncio.sleep(0.05)


async def test_connections_are_recorded_and_forgotten_and_a_gone_one_is_dropped(stack: LocalStack) -> None:
    a = tenant()
    subscribers = wiring.live_subscribers()
    # Given a console connected: its connection is recorded under its tenant
    received = Received(await console(stack, token(a, "admin")))
    await _eventually(lambda: len(subscribers.of_tenant(a)) == 1)
    # (the console's keep-alive goes to $default, which answers nothing and keeps it open)
    await received.socket.send('{"action":"keepalive"}')
    # and a connection whose $disconnect never arrived (API Gateway says it is gone)
    from csms.domain.live import LiveSubscriber
    from csms.domain.tenancy import Role

    subscribers.add(LiveSubscriber("gone-connection=", a, Role.VIEWER, "ghost", datetime.now(UTC)))
    assert "gone-connection=" in subscribers.of_tenant(a)
    # When an event of the tenant is published
    event = new_event(
        "ChargerConnected",
        a,
        "LIVE-GONE",
        datetime.now(UTC),
        {
            "connectionId": "c-1",
            "protocol": "ocpp1.6",
            "registrationStatus": "Accepted",
            "replacedConnectionId": None,
        },
    )
    assert await asyncio.to_thread(wiring.emit, [event])
    # Then the live console gets it and the gone connection is dropped
    got = await received.wait_for(lambda e: e["id"] == event.id)
    assert got["stationId"] == "LIVE-GONE"
    await _eventually(lambda: "gone-connection=" not in subscribers.of_tenant(a))
    # and a console that closes is forgotten ($disconnect)
    await received.close()
    await _eventually(lambda: subscribers.of_tenant(a) == [])
