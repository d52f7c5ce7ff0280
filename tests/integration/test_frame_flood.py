"""A station flooding frames is slowed, then disconnected, and another keeps its answers
(issue 13, part 2)."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.exceptions import ConnectionClosed

from csms.local.stack import LocalStack
from csms.services.provisioning import ProvisioningService
from tests.integration.charger import open_socket

pytestmark = pytest.mark.integration


def heartbeat(unique_id: str) -> str:
    return json.dumps([2, unique_id, "Heartbeat", {}])


async def test_a_flooding_station_is_refused_then_closed_while_another_is_answered(
    stack: LocalStack, provisioning: ProvisioningService, now: object, reconfigure: object
) -> None:
    reconfigure(CSMS_FRAME_RATE_LIMIT="20", CSMS_FRAME_COUNT_BATCH="1")  # type: ignore[operator]
    for station in ("CP-FLOOD", "CP-CALM"):
        provisioning.add_charger(station, "acme", now, security_profile=0)  # type: ignore[arg-type]
    flood = await open_socket(stack, "CP-FLOOD")
    calm = await open_socket(stack, "CP-CALM")
    answers: list[list[object]] = []

    async def read_flood() -> bool:
        try:
            while True:
                answers.append(json.loads(await flood.recv()))
        except ConnectionClosed:
            return True

    reader = asyncio.create_task(read_flood())
    # When CP-FLOOD sends 60 heartbeats at once, and CP-CALM one every so often
    for i in range(60):
        await flood.send(heartbeat(f"f-{i}"))
    calm_answers = []
    for i in range(5):
        await calm.send(heartbeat(f"c-{i}"))
        calm_answers.append(json.loads(await asyncio.wait_for(calm.recv(), 10)))
    # Then the flooding station's connection is closed by the server
    assert await asyncio.wait_for(reader, 15)
    kinds = [answer[0] for answer in answers]
    assert kinds.count(3) <= 20  # at most the limit answered
    refused = [answer for answer in answers if answer[0] == 4]
    assert refused
    assert all(answer[2] == "InternalError" and "rate limit" in str(answer[3]) for answer in refused)
    # and the calm station got every answer
    assert [answer[0] for answer in calm_answers] == [3] * 5
    await calm.close()
