"""Server-initiated commands end to end: REST API → SQS → commands function → charger →
message function → PostgreSQL, with real chargers over real WebSockets."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action
from sqlalchemy import Engine
from websockets.asyncio.client import ClientConnection

from csms.app import wiring
from csms.clock import FixedClock
from csms.domain.connections import ConnectionRecord
from csms.local.stack import LocalStack
from tests.integration.api_client import ApiClient
from tests.integration.charger import SimulatedCharger, connected, open_socket
from tests.integration.command_helpers import eventually
from tests.integration.conftest import rows

pytestmark = pytest.mark.integration
V1 = "/api/v1"


class ObedientCharger(SimulatedCharger):
    """Answers our CALLs like a well-behaved 1.6 charger and remembers what it got."""

    received: list[tuple[str, dict[str, Any]]]

    def __init__(self, charge_point_id: str, connection: ClientConnection) -> None:
        super().__init__(charge_point_id, connection)
        self.received = []

    @on(Action.reset)
    def reset(self, type: str) -> call_result.Reset:
        self.received.append(("Reset", {"type": type}))
        return call_result.Reset(status="Accepted")

    @on(Action.remote_start_transaction)
    def remote_start(self, id_tag: str, **kwargs: Any) -> call_result.RemoteStartTransaction:
        self.received.append(("RemoteStartTransaction", {"id_tag": id_tag, **kwargs}))
        return call_result.RemoteStartTransaction(status="Accepted" if id_tag != "NOPE" else "Rejected")

    @on(Action.get_configuration)
    def get_configuration(self, key: list[str] | None = None) -> call_result.GetConfiguration:
        self.received.append(("GetConfiguration", {"key": key}))
        return call_result.GetConfiguration(
            configuration_key=[
                {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
                {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
            ],
            unknown_key=["Bogus"],
        )

    @on(Action.change_configuration)
    def change_configuration(self, key: str, value: str) -> call_result.ChangeConfiguration:
        self.received.append(("ChangeConfiguration", {"key": key, "value": value}))
        return call_result.ChangeConfiguration(
            status="Accepted" if key != "NumberOfConnectors" else "Rejected"
        )

    @on(Action.unlock_connector)
    def unlock(self, connector_id: int) -> call_result.UnlockConnector:
        return call_result.UnlockConnector(status="Unlocked")


@pytest.fixture
def operator(api: ApiClient) -> ApiClient:
    admin = api.as_("acme", "admin")
    for cp in ("CMD-1", "CMD-OFF"):
        assert admin.post(f"{V1}/stations", {"id": cp, "securityProfile": 0}).status == 201
    return api.as_("acme", "operator")


async def send(client: ApiClient, cp: str, name: str, body: dict[str, Any], wait: float = 10) -> Any:
    return await asyncio.to_thread(client.post, f"{V1}/stations/{cp}/commands/{name}?wait={wait}", body)


async def send_ocpp(client: ApiClient, cp: str, action: str, body: dict[str, Any], wait: float = 10) -> Any:
    return await asyncio.to_thread(client.post, f"{V1}/stations/{cp}/ocpp/{action}?wait={wait}", body)


async def test_core_commands_reach_the_charger_and_record_the_outcome(
    operator: ApiClient, stack: LocalStack, engine: Engine
) -> None:
    async with connected(stack, "CMD-1", ObedientCharger) as charger:
        reset = await send(operator, "CMD-1", "reset", {"type": "Immediate"})
        start = await send(
            operator, "CMD-1", "start-transaction", {"idToken": {"idToken": "TAG1"}, "evseId": 1}
        )
        refused = await send(operator, "CMD-1", "start-transaction", {"idToken": {"idToken": "NOPE"}})
        config = await send(operator, "CMD-1", "get-variables", {})
        change = await send(
            operator,
            "CMD-1",
            "set-variables",
            {
                "variables": [
                    {
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "HeartbeatInterval"},
                        "attributeValue": "120",
                    }
                ]
            },
        )
        readonly = await send_ocpp(
            operator, "CMD-1", "ChangeConfiguration", {"key": "NumberOfConnectors", "value": "3"}
        )
        unlock = await send(operator, "CMD-1", "unlock-connector", {"evseId": 1})
    assert (reset.status, reset.body["status"], reset.body["response"]) == (
        200,
        "accepted",
        {"status": "Accepted"},
    )
    # the neutral body and the 1.6 payload it became
    assert (reset.body["name"], reset.body["protocol"], reset.body["action"]) == ("reset", "ocpp1.6", "Reset")
    assert (reset.body["request"], reset.body["ocppRequest"]) == ({"type": "Immediate"}, {"type": "Soft"})
    assert start.body["status"] == "accepted"
    assert start.body["ocppRequest"] == {"idTag": "TAG1", "connectorId": 1}
    assert (refused.body["status"], refused.body["reason"]) == ("rejected", "station answered Rejected")
    assert change.body["ocppRequest"] == {"key": "HeartbeatInterval", "value": "120"}
    assert config.body["status"] == "accepted"
    assert change.body["status"] == "accepted"
    assert readonly.body["status"] == "rejected"
    assert unlock.body["status"] == "accepted"
    assert isinstance(charger, ObedientCharger)
    assert [name for name, _ in charger.received] == [
        "Reset",
        "RemoteStartTransaction",
        "RemoteStartTransaction",
        "GetConfiguration",
        "ChangeConfiguration",
        "ChangeConfiguration",
    ]
    # GetConfiguration is stored in the device model (each key under its 2.0.1 variable, or
    # component OCPP16 without one), kept current by ChangeConfiguration
    known = await asyncio.to_thread(operator.get, f"{V1}/stations/CMD-1/variables")
    assert [
        (
            v["component"]["name"],
            v["variable"]["name"],
            v["ocpp16Key"],
            v["value"],
            v["mutability"],
            v["known"],
        )
        for v in known.body["items"]
    ] == [
        ("OCPP16", "Bogus", "Bogus", None, None, False),
        ("OCPP16", "NumberOfConnectors", "NumberOfConnectors", "2", "ReadOnly", True),
        ("OCPPCommCtrlr", "HeartbeatInterval", "HeartbeatInterval", "120", "ReadWrite", True),
    ]
    assert [v["source"] for v in known.body["items"]] == [
        "GetConfiguration",
        "GetConfiguration",
        "ChangeConfiguration",
    ]
    # and every command is in the audit trail
    listed = await asyncio.to_thread(operator.get, f"{V1}/stations/CMD-1/commands")
    assert listed.body["total"] == 7
    assert rows(engine, "SELECT count(*) AS n FROM commands WHERE status IN ('accepted', 'rejected')") == [
        {"n": 7}
    ]


async def test_a_command_waits_for_an_offline_charger_and_goes_when_it_is_back(
    operator: ApiClient, stack: LocalStack, engine: Engine
) -> None:
    # Given a 1.6 charger that connected once and went away (API Gateway's 2-hour cut)
    async with connected(stack, "CMD-OFF", ObedientCharger) as charger:
        await charger.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
    # When an operator resets it meanwhile
    queued = await send(operator, "CMD-OFF", "reset", {"type": "Hard"}, wait=0)
    waiting = await asyncio.to_thread(operator.get, f"{V1}/commands/{queued.body['id']}?wait=0.5")
    # Then the command waits, queued, until its expiry (not failed)
    assert (queued.status, waiting.body["status"], waiting.body["attempts"]) == (202, "queued", 0)
    expires = datetime.fromisoformat(waiting.body["expiresAt"])
    created = datetime.fromisoformat(waiting.body["createdAt"])
    assert expires - created == timedelta(seconds=900)
    # and when the charger reconnects and speaks, it gets the reset and the outcome lands
    async with connected(stack, "CMD-OFF", ObedientCharger) as charger:
        await charger.call(call.Heartbeat())
        done = await asyncio.to_thread(operator.get, f"{V1}/commands/{queued.body['id']}?wait=10")
    assert isinstance(charger, ObedientCharger)
    assert charger.received == [("Reset", {"type": "Hard"})]
    assert (done.body["status"], done.body["response"], done.body["attempts"]) == (
        "accepted",
        {"status": "Accepted"},
        1,
    )
    assert rows(engine, "SELECT status FROM commands WHERE id = :id", id=queued.body["id"]) == [
        {"status": "accepted"}
    ]


async def test_a_command_whose_station_stays_away_past_its_expiry_times_out_with_the_reason(
    operator: ApiClient, stack: LocalStack
) -> None:
    async with connected(stack, "CMD-OFF", ObedientCharger) as charger:
        await charger.call(call.Heartbeat())
    queued = await send(operator, "CMD-OFF", "reset", {"type": "Hard"}, wait=0)
    short = await asyncio.to_thread(
        operator.post, f"{V1}/stations/CMD-OFF/commands/clear-cache?expiresIn=30", {}
    )
    assert (short.status, short.body["status"]) == (202, "queued")
    # When the sweeper runs a minute later, the station still away
    later = FixedClock(datetime.now(UTC) + timedelta(minutes=1))
    swept = await asyncio.to_thread(wiring.commands(later).sweep)
    # Then the short one is timed out, saying why; the other still waits for the station
    expired = await asyncio.to_thread(operator.get, f"{V1}/commands/{short.body['id']}")
    assert (swept["expired"], expired.body["status"], expired.body["attempts"]) == (1, "timed_out", 0)
    assert expired.body["reason"] == (
        f"expired at {datetime.fromisoformat(short.body['expiresAt']).isoformat()} before it could be "
        "sent: the station did not connect in time"
    )
    still = await asyncio.to_thread(operator.get, f"{V1}/commands/{queued.body['id']}")
    assert still.body["status"] == "queued"
    # and an expiry out of bounds is refused naming the field
    bad = await asyncio.to_thread(
        operator.post, f"{V1}/stations/CMD-OFF/commands/clear-cache?expiresIn=5", {}
    )
    assert bad.status == 422
    assert "expiresIn" in json.dumps(bad.body)


async def test_a_send_that_finds_the_connection_gone_requeues_the_command(
    operator: ApiClient, stack: LocalStack
) -> None:
    # Given a connection record API Gateway no longer knows (cut; $disconnect not handled yet)
    await asyncio.to_thread(
        wiring.connections().register,
        ConnectionRecord("gone-connection", "CMD-OFF", "acme", "ocpp1.6", datetime.now(UTC)),
    )
    # When a command is sent to it, @connections answers 410 Gone
    queued = await send(operator, "CMD-OFF", "reset", {"type": "Immediate"}, wait=0)
    requeued = await eventually(
        lambda: asyncio.to_thread(operator.get, f"{V1}/commands/{queued.body['id']}"),
        lambda reply: reply.body["attempts"] == 1,
    )
    # Then it is queued again for the next connection, not failed
    assert (requeued.body["status"], requeued.body["ocppUniqueId"]) == ("queued", None)
    assert requeued.body["reason"] == (
        "the connection was gone when it was sent: waiting for the station's next connection"
    )
    # and the charger's next connection gets it once it speaks
    async with connected(stack, "CMD-OFF", ObedientCharger) as charger:
        await charger.call(call.Heartbeat())
        done = await asyncio.to_thread(operator.get, f"{V1}/commands/{queued.body['id']}?wait=10")
    assert isinstance(charger, ObedientCharger)
    assert charger.received == [("Reset", {"type": "Soft"})]
    assert (done.body["status"], done.body["attempts"], done.body["reason"]) == ("accepted", 2, None)


async def test_invalid_bodies_and_roles(operator: ApiClient, api: ApiClient) -> None:
    bad = await send(operator, "CMD-1", "reset", {"type": "Sideways"})
    assert bad.status == 422
    assert "type" in bad.body["detail"]
    viewer = api.as_("acme", "viewer")
    assert (await send(viewer, "CMD-1", "reset", {"type": "Immediate"})).status == 403
    other = api.as_("globex", "operator")
    assert (await send(other, "CMD-1", "reset", {"type": "Immediate"})).status == 404
    queued = await send(operator, "CMD-OFF", "clear-cache", {}, wait=0)
    assert (await asyncio.to_thread(other.get, f"{V1}/commands/{queued.body['id']}")).status == 404
    # a viewer reads what was sent (the console's command history), and sends nothing
    read = await asyncio.to_thread(viewer.get, f"{V1}/commands/{queued.body['id']}")
    assert (read.status, read.body["name"]) == (200, queued.body["name"])
    history = await asyncio.to_thread(viewer.get, f"{V1}/stations/CMD-OFF/commands")
    assert history.status == 200
    assert queued.body["id"] in [c["id"] for c in history.body["items"]]


async def _next_frame(socket: ClientConnection, timeout: float = 10) -> list[Any]:
    return json.loads(await asyncio.wait_for(socket.recv(), timeout))  # type: ignore[no-any-return]


async def test_one_outstanding_call_under_a_burst(operator: ApiClient, stack: LocalStack) -> None:
    socket = await open_socket(stack, "CMD-1")
    # When five commands arrive at once
    queued = await asyncio.gather(
        *(
            send_ocpp(operator, "CMD-1", "ChangeConfiguration", {"key": f"K{i}", "value": str(i)}, wait=0)
            for i in range(5)
        )
    )
    order = sorted(queued, key=lambda r: r.body["createdAt"])
    received = []
    for _ in range(5):
        frame = await _next_frame(socket)
        received.append(frame[3]["key"])
        # Then nothing else arrives while this CALL is unanswered
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(socket.recv(), 0.4)
        await socket.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
    await socket.close()
    assert received == [r.body["request"]["key"] for r in order]  # in the order they were queued


async def test_an_answer_sent_just_before_closing_still_counts(
    operator: ApiClient, stack: LocalStack
) -> None:
    # $default and $disconnect race on API Gateway: the last frame must not be lost
    socket = await open_socket(stack, "CMD-1")
    pending = asyncio.create_task(send(operator, "CMD-1", "clear-cache", {}))
    frame = await _next_frame(socket)
    await socket.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
    await socket.close()
    answer = await pending
    assert answer.body["status"] == "accepted"


async def test_call_error_answers_fail_the_command(operator: ApiClient, stack: LocalStack) -> None:
    socket = await open_socket(stack, "CMD-1")
    pending = asyncio.create_task(send(operator, "CMD-1", "clear-cache", {}))
    frame = await _next_frame(socket)
    await socket.send(json.dumps([4, frame[1], "NotSupported", "no cache here", {}]))
    answer = await pending
    await socket.close()
    assert (answer.body["status"], answer.body["errorCode"], answer.body["reason"]) == (
        "failed",
        "NotSupported",
        "no cache here",
    )


async def test_an_invalid_answer_fails_the_command(operator: ApiClient, stack: LocalStack) -> None:
    socket = await open_socket(stack, "CMD-1")
    pending = asyncio.create_task(send(operator, "CMD-1", "reset", {"type": "Immediate"}))
    frame = await _next_frame(socket)
    await socket.send(json.dumps([3, frame[1], {"status": "Maybe"}]))
    answer = await pending
    await socket.close()
    assert answer.body["status"] == "failed"
    assert answer.body["reason"].startswith("invalid response")


async def test_timeout_then_late_answer_is_recorded(operator: ApiClient, stack: LocalStack) -> None:
    socket = await open_socket(stack, "CMD-1")
    queued = await send(operator, "CMD-1", "reset", {"type": "Immediate"}, wait=0)
    frame = await _next_frame(socket)
    # When nobody answers before the deadline and the sweeper runs
    later = FixedClock(datetime.now(UTC) + timedelta(minutes=5))
    swept = await asyncio.to_thread(wiring.commands(later).sweep)
    assert swept["timed_out"] == 1
    timed_out = await asyncio.to_thread(operator.get, f"{V1}/commands/{queued.body['id']}")
    assert timed_out.body["status"] == "timed_out"
    # Then a late answer is kept, not lost, and the command stays timed out
    await socket.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
    for _ in range(50):
        late = await asyncio.to_thread(operator.get, f"{V1}/commands/{queued.body['id']}")
        if late.body["lateResponse"]:
            break
        await asyncio.sleep(0.1)
    await socket.close()
    assert late.body["status"] == "timed_out"
    assert late.body["lateResponse"] == {"status": "Accepted"}


async def test_a_charger_disconnecting_mid_command_times_it_out_and_frees_the_slot(
    operator: ApiClient, stack: LocalStack
) -> None:
    socket = await open_socket(stack, "CMD-1")
    first = await send(operator, "CMD-1", "reset", {"type": "Immediate"}, wait=0)
    await _next_frame(socket)
    await socket.close()
    second = await send(operator, "CMD-1", "clear-cache", {}, wait=0)
    # the charger comes back; the sweeper times the first command out and sends the second
    socket = await open_socket(stack, "CMD-1")
    later = FixedClock(datetime.now(UTC) + timedelta(minutes=5))
    await asyncio.to_thread(wiring.commands(later).sweep)
    frame = await _next_frame(socket)
    assert frame[2] == "ClearCache"
    await socket.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
    done = await asyncio.to_thread(operator.get, f"{V1}/commands/{second.body['id']}?wait=5")
    await socket.close()
    assert done.body["status"] == "accepted"
    assert (await asyncio.to_thread(operator.get, f"{V1}/commands/{first.body['id']}")).body[
        "status"
    ] == "timed_out"


async def test_the_chargers_own_calls_and_its_answers_interleave(
    operator: ApiClient, stack: LocalStack
) -> None:
    socket = await open_socket(stack, "CMD-1")
    pending = asyncio.create_task(send(operator, "CMD-1", "reset", {"type": "Immediate"}))
    frame = await _next_frame(socket)
    # the charger sends its own CALL and its answer to ours back to back
    await socket.send(json.dumps([2, "own-1", "Heartbeat", {}]))
    await socket.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
    heartbeat = await _next_frame(socket)
    answer = await pending
    await socket.close()
    assert heartbeat[:2] == [3, "own-1"]
    assert answer.body["status"] == "accepted"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        # PostgreSQL text and jsonb hold neither NUL nor a lone surrogate: replaced, not lost
        (
            '[4, "{id}", "GenericError", "no\\u0000pe", {{}}]',
            {"status": "failed", "errorCode": "GenericError", "reason": "no\ufffdpe"},
        ),
        (
            '[3, "{id}", {{"status": "Accepted\\ud800"}}]',
            {"status": "failed", "response": {"status": "Accepted\ufffd"}},
        ),
    ],
)
async def test_answers_with_text_postgresql_cannot_store_still_finish_the_command(
    operator: ApiClient, stack: LocalStack, answer: str, expected: dict[str, Any]
) -> None:
    socket = await open_socket(stack, "CMD-1")
    pending = asyncio.create_task(send(operator, "CMD-1", "reset", {"type": "Immediate"}))
    frame = await _next_frame(socket)
    await socket.send(answer.format(id=frame[1]))
    done = await pending
    await socket.close()
    assert done.status == 200
    assert {key: done.body[key] for key in expected} == expected


async def test_a_malformed_answer_is_not_answered_and_the_command_times_out(
    operator: ApiClient, stack: LocalStack
) -> None:
    socket = await open_socket(stack, "CMD-1")
    queued = await send(operator, "CMD-1", "reset", {"type": "Immediate"}, wait=0)
    frame = await _next_frame(socket)
    # NaN is not JSON: the answer cannot be read, so it is dropped (never answered)
    await socket.send(f'[3, "{frame[1]}", {{"status": NaN}}]')
    await socket.send(json.dumps([2, "own-1", "Heartbeat", {}]))
    assert (await _next_frame(socket))[:2] == [3, "own-1"]
    await socket.close()
    # and the command's slot was kept, so the sweeper times it out instead of leaving it sent
    later = FixedClock(datetime.now(UTC) + timedelta(minutes=5))
    assert (await asyncio.to_thread(wiring.commands(later).sweep))["timed_out"] == 1
    command = await asyncio.to_thread(operator.get, f"{V1}/commands/{queued.body['id']}")
    assert command.body["status"] == "timed_out"


async def test_a_command_left_sent_without_its_pending_call_is_timed_out_by_the_safety_net(
    operator: ApiClient, stack: LocalStack
) -> None:
    socket = await open_socket(stack, "CMD-1")
    queued = await send(operator, "CMD-1", "reset", {"type": "Immediate"}, wait=0)
    frame = await _next_frame(socket)
    await socket.close()
    # Given the answer took the charger's slot and then could not be stored (PostgreSQL down,
    # or the function killed), so the command is still "sent" with no pending call behind it
    service = wiring.commands()
    assert await asyncio.to_thread(service._pending.pop, "CMD-1", frame[1]) is not None
    # When the sweeper runs just after the deadline, the slot-based timeout has nothing to do
    soon = FixedClock(datetime.now(UTC) + timedelta(minutes=2))
    assert (await asyncio.to_thread(wiring.commands(soon).sweep))["timed_out"] == 0
    # Then, once the grace has passed, the safety net times it out
    later = FixedClock(datetime.now(UTC) + timedelta(minutes=10))
    swept = await asyncio.to_thread(wiring.commands(later).sweep)
    assert (swept["timed_out"], swept["orphaned"]) == (1, 1)
    command = await asyncio.to_thread(operator.get, f"{V1}/commands/{queued.body['id']}")
    assert command.body["status"] == "timed_out"
    assert "could not be stored" in command.body["reason"]
    # and only once
    assert (await asyncio.to_thread(wiring.commands(later).sweep))["orphaned"] == 0


async def test_one_charger_the_sweeper_cannot_serve_does_not_stop_it_for_the_others(
    operator: ApiClient, api: ApiClient, stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from csms.app.scheduled import run
    from csms.services.commands import CommandService

    station = {"id": "CMD-2", "securityProfile": 0}
    assert api.as_("acme", "admin").post(f"{V1}/stations", station).status == 201
    # Given two chargers that never answer their command
    sockets = [await open_socket(stack, cp) for cp in ("CMD-1", "CMD-2")]
    sent = [await send(operator, cp, "reset", {"type": "Immediate"}, wait=0) for cp in ("CMD-1", "CMD-2")]
    for socket in sockets:
        await _next_frame(socket)
    # and sending the next command to CMD-1 fails (DynamoDB throttled, a command it cannot build)
    deliver_next = CommandService.deliver_next

    def failing(self: CommandService, charge_point_id: str) -> Any:
        if charge_point_id == "CMD-1":
            raise RuntimeError("cannot deliver to CMD-1")
        return deliver_next(self, charge_point_id)

    monkeypatch.setattr(CommandService, "deliver_next", failing)
    # When the command-timeouts job runs after the deadline
    later = datetime.now(UTC) + timedelta(minutes=5)
    swept = await asyncio.to_thread(run, "command-timeouts", later)
    for socket in sockets:
        await socket.close()
    # Then both commands are timed out, and the failure is counted, not raised
    assert (swept["timed_out"], swept["errors"]) == (2, 1)
    for command in sent:
        got = await asyncio.to_thread(operator.get, f"{V1}/commands/{command.body['id']}")
        assert got.body["status"] == "timed_out"
