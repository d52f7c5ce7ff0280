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

    # When CP-FLOOD sends heartbeats one after another, the first answers are results, then
    # (past 20 in the window) a refusal comes and the connection stays open. (Sent one at a
    # time, a refusal always precedes the close at twice the limit, even when the counting
    # window turns over meanwhile; sent all at once, workers may close before answering.)
    results = 0
    refused: list[object] = []
    for i in range(2 * 20 + 1):
        await flood.send(heartbeat(f"s-{i}"))
        answer = json.loads(await asyncio.wait_for(flood.recv(), 10))
        if answer[0] == 4:
            refused = answer
            break
        results += 1
    assert refused, "no refusal within twice the limit"
    assert results <= 2 * 20  # 20 unless the window turned over in between
    assert refused[2] == "InternalError"
    assert "rate limit" in str(refused[3])
    # Then, flooding on, it is closed by the server
    reader = asyncio.create_task(read_flood())
    for i in range(60):
        try:
            await flood.send(heartbeat(f"f-{i}"))
        except ConnectionClosed:
            break
    # while CP-CALM, sending every so often, is answered
    calm_answers = []
    for i in range(5):
        await calm.send(heartbeat(f"c-{i}"))
        calm_answers.append(json.loads(await asyncio.wait_for(calm.recv(), 10)))
    assert await asyncio.wait_for(reader, 15)
    assert all(a[0] == 3 or (a[2] == "InternalError" and "rate limit" in str(a[3])) for a in answers)
    # and the calm station got every answer
    assert [answer[0] for answer in calm_answers] == [3] * 5
    await calm.close()
