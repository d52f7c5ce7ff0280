"""A simulated OCPP 2.0.1 station: the ``ocpp`` library's v201 ChargePoint over ``websockets``.

The library validates every answer it receives against the official 2.0.1 schemas (it does
not check date-time formats or integer ranges: :func:`check_201` does), so a reply that does
not conform fails the test that received it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from ocpp.v201 import ChargePoint
from websockets.asyncio.client import ClientConnection

from csms.local.stack import LocalStack
from tests.integration.charger import open_socket

#: RFC 3339 with at most three fraction digits, as 2.0.1 asks of every dateTime.
DATETIME_201 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$")


def ocpp_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SimulatedStation(ChargePoint):  # type: ignore[misc]
    """ChargePoint with a shorter timeout, so a missing answer fails fast."""

    def __init__(self, station_id: str, connection: ClientConnection) -> None:
        super().__init__(station_id, connection, response_timeout=10)


@asynccontextmanager
async def connected_201(
    stack: LocalStack,
    station_id: str,
    station_class: type[SimulatedStation] | None = None,
    **kwargs: Any,
) -> AsyncIterator[SimulatedStation]:
    socket = await open_socket(stack, station_id, subprotocols=["ocpp2.0.1"], **kwargs)
    assert socket.subprotocol == "ocpp2.0.1"
    station = (station_class or SimulatedStation)(station_id, socket)
    listener = asyncio.create_task(station.start())
    try:
        yield station
    finally:
        listener.cancel()
        await socket.close()


def check_201(value: Any, path: str = "") -> None:
    """What the library does not check in an answer: dateTimes (at most three fraction digits),
    32-bit integers, no nulls (2.0.1 leaves an absent field out)."""
    if value is None:
        raise AssertionError(f"{path or 'payload'} is null: 2.0.1 leaves absent fields out")
    if isinstance(value, dict):
        for key, item in value.items():
            check_201(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_201(item, f"{path}[{index}]")
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        assert -(2**31) <= value < 2**31, f"{path} = {value} is not a 32-bit integer"
    elif isinstance(value, str) and path.rsplit(".", 1)[-1] in {"currentTime", "timestamp", "expiryDate"}:
        assert DATETIME_201.match(value), f"{path} = {value!r} is not a 2.0.1 dateTime"
