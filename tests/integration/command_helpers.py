"""Helpers shared by the per-profile command tests: send a command through the REST API,
poll until something landed, read a raw frame."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from websockets.asyncio.client import ClientConnection

from tests.integration.api_client import ApiClient, Reply

V1 = "/api/v1"
T = TypeVar("T")


async def send(client: ApiClient, cp: str, action: str, body: dict[str, Any], wait: float = 10) -> Reply:
    """POST a command; with ``wait`` the outcome comes back inline (200) if it arrives in time."""
    return await asyncio.to_thread(client.post, f"{V1}/stations/{cp}/commands/{action}?wait={wait}", body)


async def get(client: ApiClient, path: str, **params: Any) -> Reply:
    return await asyncio.to_thread(client.get, f"{V1}{path}", **params)


async def eventually(probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float = 10) -> T:
    """Poll ``probe`` until ``done`` holds for its result (frames are handled asynchronously)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await probe()
        if done(result) or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.1)


async def next_frame(socket: ClientConnection, timeout: float = 10) -> list[Any]:
    return json.loads(await asyncio.wait_for(socket.recv(), timeout))  # type: ignore[no-any-return]


def provision(api: ApiClient, tenant: str, *charge_points: str) -> ApiClient:
    """Provision the chargers in ``tenant``; returns an operator of that tenant."""
    admin = api.as_(tenant, "admin")
    for cp in charge_points:
        assert admin.post(f"{V1}/stations", {"id": cp, "securityProfile": 0}).status == 201
    return api.as_(tenant, "operator")
