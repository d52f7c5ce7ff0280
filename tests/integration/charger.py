"""A simulated charger: the ``ocpp`` library's ChargePoint over ``websockets``.

The library validates every answer it receives against the official OCPP 1.6 schemas, so
a reply that does not conform fails the test that received it.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import websockets
from ocpp.v16 import ChargePoint
from websockets.asyncio.client import ClientConnection

from csms.local.stack import LocalStack


def basic_auth(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def open_socket(
    stack: LocalStack,
    charge_point_id: str,
    *,
    password: str | None = None,
    headers: dict[str, str] | None = None,
    subprotocols: list[str] | None = None,
) -> ClientConnection:
    extra = dict(headers or {})
    if password is not None:
        extra.update(basic_auth(charge_point_id, password))
    return await websockets.connect(
        stack.charger_url(charge_point_id),
        subprotocols=subprotocols if subprotocols is not None else ["ocpp1.6"],  # type: ignore[arg-type]
        additional_headers=extra,
        open_timeout=10,
    )


class SimulatedCharger(ChargePoint):  # type: ignore[misc]
    """ChargePoint with a shorter timeout, so a missing answer fails fast."""

    #: Seconds to wait for an answer: a missing one fails fast.
    response_timeout = 10

    def __init__(self, charge_point_id: str, connection: ClientConnection) -> None:
        super().__init__(charge_point_id, connection, response_timeout=self.response_timeout)


@asynccontextmanager
async def connected(
    stack: LocalStack,
    charge_point_id: str,
    charger_class: type[SimulatedCharger] | None = None,
    **kwargs: Any,
) -> AsyncIterator[SimulatedCharger]:
    socket = await open_socket(stack, charge_point_id, **kwargs)
    charger = (charger_class or SimulatedCharger)(charge_point_id, socket)
    listener = asyncio.create_task(charger.start())
    try:
        yield charger
    finally:
        listener.cancel()
        await socket.close()


async def raw_exchange(socket: ClientConnection, frame: str, timeout: float = 10) -> list[Any]:
    """Send a raw frame and return the decoded answer."""
    await socket.send(frame)
    return json.loads(await asyncio.wait_for(socket.recv(), timeout))  # type: ignore[no-any-return]


class RawCharger:
    """One raw socket: every CALL is sent as given and its CALLRESULT payload returned."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.sent = 0

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.sent += 1
        reply = await raw_exchange(self.socket, json.dumps([2, f"m{self.sent}", action, payload]))
        assert reply[0] == 3, reply
        answer: dict[str, Any] = reply[2]
        return answer


async def raw_charger(stack: LocalStack, charge_point_id: str) -> RawCharger:
    return RawCharger(await open_socket(stack, charge_point_id))
