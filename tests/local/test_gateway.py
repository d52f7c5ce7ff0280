"""The local API Gateway emulator, driven by real clients.

Chargers are ``websockets`` clients; the backend side is boto3's ``apigatewaymanagementapi``
client, exactly as the Lambda code uses it. The Lambda handlers are recording fakes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models.apigw_websocket import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from csms.constants import (
    CHARGE_POINT_ID_HEADER,
    MAX_FRAME_BYTES,
    MAX_MESSAGE_BYTES,
    ORIGIN_VERIFY_HEADER,
)
from csms.local.gateway import LocalGateway

CONNECTION_ID = re.compile(r"^[A-Za-z0-9_-]{15}=$")
FIXED_NOW = 1_700_000_000.25  # 2023-11-14T22:13:20.250Z


class FakeLambda:
    """A Lambda-style handler that records every event and answers with a chosen result."""

    def __init__(
        self,
        result: dict[str, Any] | None = None,
        error: Exception | None = None,
        on_event: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.result = result
        self.error = error
        self.on_event = on_event
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any] | None:
        with self._lock:
            self.events.append(event)
            self.contexts.append(context)
        if self.on_event is not None:
            self.on_event(event)
        if self.error is not None:
            raise self.error
        return self.result


class Lambdas:
    """The three route handlers of one gateway."""

    def __init__(self) -> None:
        self.connect = FakeLambda(result={"statusCode": 200})
        self.default = FakeLambda(result={"statusCode": 200})
        self.disconnect = FakeLambda(result={"statusCode": 200})

    def as_routes(self) -> dict[str, Any]:
        return {"$connect": self.connect, "$default": self.default, "$disconnect": self.disconnect}


GatewayFactory = Callable[..., Awaitable[LocalGateway]]


@pytest.fixture
def lambdas() -> Lambdas:
    return Lambdas()


@pytest.fixture
async def make_gateway(lambdas: Lambdas) -> AsyncIterator[GatewayFactory]:
    started: list[LocalGateway] = []

    async def factory(**overrides: Any) -> LocalGateway:
        gateway = LocalGateway(lambdas.as_routes(), port=0, **overrides)
        await gateway.start()
        started.append(gateway)
        return gateway

    yield factory
    for gateway in started:
        await gateway.stop()


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> LocalGateway:
    return await make_gateway()


@pytest.fixture(scope="module")
def boto_session() -> boto3.session.Session:
    # One session per module: loading the service model is the slow part of a client.
    return boto3.session.Session()


@pytest.fixture
def management(boto_session: boto3.session.Session, gateway: LocalGateway) -> Any:
    return management_client(boto_session, gateway)


def management_client(session: boto3.session.Session, gateway: LocalGateway) -> Any:
    return session.client(
        "apigatewaymanagementapi",
        endpoint_url=gateway.management_endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def charger(gateway: LocalGateway, path: str = "/ocpp/CP001", **kwargs: Any) -> Any:
    return connect(f"ws://127.0.0.1:{gateway.port}{path}", proxy=None, open_timeout=2, **kwargs)


async def eventually(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


async def closed(ws: ClientConnection) -> tuple[int | None, str | None]:
    await asyncio.wait_for(ws.wait_closed(), 2)
    return ws.close_code, ws.close_reason


def only_connection(gateway: LocalGateway) -> str:
    (connection_id,) = gateway.connections()
    return connection_id


# --- $connect -------------------------------------------------------------------------------


async def test_connect_event_has_the_handshake_and_the_front_door_headers(
    make_gateway: GatewayFactory, lambdas: Lambdas
) -> None:
    # Given a gateway with an origin secret and a frozen clock
    gateway = await make_gateway(origin_verify_secret="s3cret", clock=lambda: FIXED_NOW)
    spoofed = {CHARGE_POINT_ID_HEADER: "SOMEONE-ELSE", ORIGIN_VERIFY_HEADER: "forged", "X-Custom": "kept"}

    # When a charger whose id needs URL-encoding connects with spoofed front-door headers
    async with charger(gateway, "/ocpp/CP%20001?tenant=a&tenant=b", additional_headers=spoofed):
        pass

    # Then $connect sees the client's headers (case kept) and the gateway's own values
    (event,) = lambdas.connect.events
    APIGatewayWebSocketConnectEventModel.model_validate(event)
    assert event["headers"]["X-Custom"] == "kept"
    assert event["headers"]["Sec-WebSocket-Version"] == "13"
    assert event["headers"][CHARGE_POINT_ID_HEADER] == "CP 001"
    assert event["headers"][ORIGIN_VERIFY_HEADER] == "s3cret"
    assert event["multiValueHeaders"][CHARGE_POINT_ID_HEADER] == ["CP 001"]
    assert event["multiValueHeaders"][ORIGIN_VERIFY_HEADER] == ["s3cret"]
    assert event["queryStringParameters"] == {"tenant": "b"}
    assert event["multiValueQueryStringParameters"] == {"tenant": ["a", "b"]}
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert CONNECTION_ID.match(context["connectionId"])
    assert context | {"connectionId": "-", "requestId": "-", "extendedRequestId": "-"} == {
        "routeKey": "$connect",
        "eventType": "CONNECT",
        "messageDirection": "IN",
        "connectionId": "-",
        "connectedAt": 1_700_000_000_250,
        "requestTimeEpoch": 1_700_000_000_250,
        "requestTime": "14/Nov/2023:22:13:20 +0000",
        "requestId": "-",
        "extendedRequestId": "-",
        "domainName": f"127.0.0.1:{gateway.port}",
        "stage": "local",
        "apiId": "local",
        "identity": {"sourceIp": "127.0.0.1", "userAgent": event["headers"]["User-Agent"]},
    }
    # and the Lambda context carries what Powertools reads
    (lambda_context,) = lambdas.connect.contexts
    assert lambda_context.function_name == "connect"
    assert lambda_context.invoked_function_arn.endswith(":function:connect")
    assert 0 < lambda_context.get_remaining_time_in_millis() <= 29_000


async def test_connect_without_origin_secret_strips_a_spoofed_one_and_omits_empty_query(
    gateway: LocalGateway, lambdas: Lambdas
) -> None:
    # When a client sends an origin header to a gateway without a secret
    async with charger(gateway, additional_headers={ORIGIN_VERIFY_HEADER: "forged"}):
        pass

    # Then the header is gone and the event has no query keys at all
    (event,) = lambdas.connect.events
    assert ORIGIN_VERIFY_HEADER.lower() not in {name.lower() for name in event["headers"]}
    assert "queryStringParameters" not in event
    assert "multiValueQueryStringParameters" not in event


async def test_connect_echoes_the_subprotocol_that_the_handler_chose(
    gateway: LocalGateway, lambdas: Lambdas
) -> None:
    # Given a $connect that picks ocpp1.6 (header name in any case)
    lambdas.connect.result = {"statusCode": 200, "headers": {"sec-websocket-protocol": "ocpp1.6"}}

    # When a charger offers two versions
    async with charger(gateway, subprotocols=["ocpp2.0.1", "ocpp1.6"]) as ws:
        # Then the handshake settles on the handler's choice
        assert ws.subprotocol == "ocpp1.6"


@pytest.mark.parametrize("status", [400, 401])
async def test_a_refusal_from_connect_reaches_the_client_as_http_status(
    gateway: LocalGateway, lambdas: Lambdas, status: int
) -> None:
    # Given a $connect that refuses
    lambdas.connect.result = {"statusCode": status}

    # When a charger connects
    with pytest.raises(InvalidStatus) as refused:
        async with charger(gateway):
            pass

    # Then it gets that status, and no connection exists to disconnect
    assert refused.value.response.status_code == status
    assert gateway.connection_count() == 0
    await asyncio.sleep(0.02)
    assert lambdas.disconnect.events == []


async def test_a_failing_connect_handler_gives_500(gateway: LocalGateway, lambdas: Lambdas) -> None:
    lambdas.connect.error = RuntimeError("database down")

    with pytest.raises(InvalidStatus) as refused:
        async with charger(gateway):
            pass

    assert refused.value.response.status_code == 500


@pytest.mark.parametrize("path", ["/somewhere/CP001", "/ocpp/", "/ocpp/CP001/extra"])
async def test_a_path_without_a_charger_id_is_404_without_connect(
    gateway: LocalGateway, lambdas: Lambdas, path: str
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with charger(gateway, path):
            pass

    assert refused.value.response.status_code == 404
    assert lambdas.connect.events == []


async def test_a_trailing_slash_after_the_charger_id_is_tolerated(
    gateway: LocalGateway, lambdas: Lambdas
) -> None:
    async with charger(gateway, "/ocpp/CP001/"):
        pass

    assert lambdas.connect.events[0]["headers"][CHARGE_POINT_ID_HEADER] == "CP001"


# --- $default -------------------------------------------------------------------------------


async def test_each_message_becomes_one_default_event(gateway: LocalGateway, lambdas: Lambdas) -> None:
    async with charger(gateway) as ws:
        connection_id = only_connection(gateway)

        # When the charger sends a text and a binary message
        await ws.send('[2,"1","Heartbeat",{}]')
        await ws.send(b"\x00\xff")
        await eventually(lambda: len(lambdas.default.events) == 2)

    # Then each is one event; binary arrives base64-encoded
    events = sorted(lambdas.default.events, key=lambda event: event["isBase64Encoded"])
    for event in events:
        APIGatewayWebSocketMessageEventModel.model_validate(event)
        assert event["requestContext"]["routeKey"] == "$default"
        assert event["requestContext"]["eventType"] == "MESSAGE"
        assert event["requestContext"]["connectionId"] == connection_id
    assert (events[0]["body"], events[0]["isBase64Encoded"]) == ('[2,"1","Heartbeat",{}]', False)
    assert (events[1]["body"], events[1]["isBase64Encoded"]) == (base64.b64encode(b"\x00\xff").decode(), True)
    assert events[0]["requestContext"]["messageId"] != events[1]["requestContext"]["messageId"]
    assert lambdas.default.contexts[0].function_name == "message"


async def test_a_slow_message_does_not_hold_back_the_next_one(
    gateway: LocalGateway, lambdas: Lambdas
) -> None:
    # Given a handler that blocks the first message until the second has been seen
    second_seen = threading.Event()

    def on_event(event: dict[str, Any]) -> None:
        if event["body"] == "first":
            assert second_seen.wait(timeout=2), "second message was not dispatched concurrently"
        else:
            second_seen.set()

    lambdas.default.on_event = on_event

    # When both arrive back to back
    async with charger(gateway) as ws:
        await ws.send("first")
        await ws.send("second")
        await eventually(lambda: len(lambdas.default.events) == 2)

    # Then the second was handled while the first was still running
    assert second_seen.is_set()


async def test_a_failing_default_handler_answers_like_api_gateway(
    gateway: LocalGateway, lambdas: Lambdas
) -> None:
    lambdas.default.error = RuntimeError("bug")

    async with charger(gateway) as ws:
        await ws.send('[2,"1","Heartbeat",{}]')
        reply = json.loads(await asyncio.wait_for(ws.recv(), 2))

    (event,) = lambdas.default.events
    assert reply == {
        "message": "Internal server error",
        "connectionId": event["requestContext"]["connectionId"],
        "requestId": event["requestContext"]["requestId"],
    }


async def test_an_inbound_message_over_128_kb_closes_with_1009(
    gateway: LocalGateway, lambdas: Lambdas
) -> None:
    async with charger(gateway) as ws:
        # When a message of legal 32 KB frames adds up to more than 128 KB
        text = "x" * (MAX_MESSAGE_BYTES + 1)
        await ws.send([text[i : i + MAX_FRAME_BYTES] for i in range(0, len(text), MAX_FRAME_BYTES)])

        # Then the socket closes with 1009 and the message is never delivered
        assert (await closed(ws))[0] == 1009
    await eventually(lambda: len(lambdas.disconnect.events) == 1)
    assert lambdas.disconnect.events[0]["requestContext"]["disconnectStatusCode"] == 1009
    assert lambdas.default.events == []


async def test_an_inbound_frame_over_32_kb_closes_with_1009(gateway: LocalGateway, lambdas: Lambdas) -> None:
    async with charger(gateway) as ws:
        # When a message well under 128 KB is sent as one 40 KB frame
        await ws.send("x" * 40_000)

        # Then API Gateway's frame limit closes the socket
        assert (await closed(ws))[0] == 1009
    assert lambdas.default.events == []


async def test_a_large_message_in_legal_frames_is_delivered_whole(
    gateway: LocalGateway, lambdas: Lambdas
) -> None:
    text = "y" * MAX_MESSAGE_BYTES

    async with charger(gateway) as ws:
        await ws.send([text[i : i + MAX_FRAME_BYTES] for i in range(0, len(text), MAX_FRAME_BYTES)])
        await eventually(lambda: len(lambdas.default.events) == 1)

    assert lambdas.default.events[0]["body"] == text


# --- @connections ---------------------------------------------------------------------------


async def test_post_to_connection_reaches_the_charger(gateway: LocalGateway, management: Any) -> None:
    async with charger(gateway) as ws:
        connection_id = only_connection(gateway)

        # When the backend posts a text and a non-UTF-8 message
        await asyncio.to_thread(management.post_to_connection, ConnectionId=connection_id, Data=b'[3,"1",{}]')
        await asyncio.to_thread(management.post_to_connection, ConnectionId=connection_id, Data=b"\xff\x00")

        # Then the charger gets a text frame and a binary frame
        assert await asyncio.wait_for(ws.recv(), 2) == '[3,"1",{}]'
        assert await asyncio.wait_for(ws.recv(), 2) == b"\xff\x00"


async def test_a_post_over_32_kb_arrives_in_32_kb_frames(gateway: LocalGateway, management: Any) -> None:
    text = "z" * (2 * MAX_FRAME_BYTES + 10)

    async with charger(gateway) as ws:
        await asyncio.to_thread(
            management.post_to_connection, ConnectionId=only_connection(gateway), Data=text.encode()
        )

        fragments = [fragment async for fragment in ws.recv_streaming()]

    assert [len(fragment) for fragment in fragments] == [MAX_FRAME_BYTES, MAX_FRAME_BYTES, 10]
    assert "".join(str(fragment) for fragment in fragments) == text


async def test_get_connection_describes_the_connection(
    make_gateway: GatewayFactory, boto_session: Any
) -> None:
    # Given a connection made at a known time
    gateway = await make_gateway(clock=lambda: FIXED_NOW)
    management = management_client(boto_session, gateway)

    async with charger(gateway, user_agent_header="ChargerOS/1.0"):
        # When the backend asks about it
        described = await asyncio.to_thread(management.get_connection, ConnectionId=only_connection(gateway))

    # Then boto3 parses the same shape AWS returns
    expected_time = datetime(2023, 11, 14, 22, 13, 20, 250_000, tzinfo=UTC)
    assert described["ConnectedAt"] == expected_time
    assert described["LastActiveAt"] == expected_time
    assert described["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "ChargerOS/1.0"}


async def test_delete_connection_closes_the_charger_and_fires_disconnect(
    gateway: LocalGateway, lambdas: Lambdas, management: Any
) -> None:
    async with charger(gateway) as ws:
        connection_id = only_connection(gateway)

        await asyncio.to_thread(management.delete_connection, ConnectionId=connection_id)

        assert (await closed(ws))[0] == 1000
    await eventually(lambda: len(lambdas.disconnect.events) == 1)
    assert lambdas.disconnect.events[0]["requestContext"]["connectionId"] == connection_id
    assert gateway.connection_count() == 0


@pytest.mark.parametrize("operation", ["post_to_connection", "get_connection", "delete_connection"])
async def test_an_unknown_connection_is_gone(gateway: LocalGateway, management: Any, operation: str) -> None:
    arguments: dict[str, Any] = {"ConnectionId": "AAAAAAAAAAAAAAA="}
    if operation == "post_to_connection":
        arguments["Data"] = b"[]"

    with pytest.raises(management.exceptions.GoneException):
        await asyncio.to_thread(getattr(management, operation), **arguments)


async def test_a_post_over_128_kb_is_too_large(gateway: LocalGateway, management: Any) -> None:
    async with charger(gateway):
        connection_id = only_connection(gateway)

        with pytest.raises(management.exceptions.PayloadTooLargeException):
            await asyncio.to_thread(
                management.post_to_connection, ConnectionId=connection_id, Data=b"x" * (MAX_MESSAGE_BYTES + 1)
            )


# --- $disconnect and limits -----------------------------------------------------------------


async def test_a_client_close_fires_disconnect_exactly_once_after_the_connection_is_gone(
    gateway: LocalGateway, lambdas: Lambdas, boto_session: Any
) -> None:
    # Given a $disconnect that tries to post to the closing connection
    management = management_client(boto_session, gateway)
    gone_errors: list[str] = []

    def on_disconnect(event: dict[str, Any]) -> None:
        try:
            management.post_to_connection(ConnectionId=event["requestContext"]["connectionId"], Data=b"[]")
        except management.exceptions.GoneException as error:
            gone_errors.append(type(error).__name__)

    lambdas.disconnect.on_event = on_disconnect

    # When the charger closes with a code and a reason
    async with charger(gateway) as ws:
        connection_id = only_connection(gateway)
        await ws.close(code=4000, reason="rebooting")
    await eventually(lambda: len(gone_errors) == 1)
    await asyncio.sleep(0.02)

    # Then one $disconnect reports it, and the connection was already gone by then
    (event,) = lambdas.disconnect.events
    APIGatewayWebSocketDisconnectEventModel.model_validate(event)
    context = event["requestContext"]
    assert (context["routeKey"], context["eventType"], context["connectionId"]) == (
        "$disconnect",
        "DISCONNECT",
        connection_id,
    )
    assert (context["disconnectStatusCode"], context["disconnectReason"]) == (4000, "rebooting")
    assert event["headers"]["Host"] == f"127.0.0.1:{gateway.port}"
    assert gone_errors == ["GoneException"]
    assert lambdas.disconnect.contexts[0].function_name == "disconnect"


async def test_stop_closes_every_connection_and_fires_their_disconnects(
    make_gateway: GatewayFactory, lambdas: Lambdas
) -> None:
    gateway = await make_gateway()
    async with charger(gateway, "/ocpp/CP1") as first, charger(gateway, "/ocpp/CP2") as second:
        ids = set(gateway.connections())

        await gateway.stop()

        assert await closed(first) == (1001, "Going away")
        assert await closed(second) == (1001, "Going away")
    assert {event["requestContext"]["connectionId"] for event in lambdas.disconnect.events} == ids
    assert [event["requestContext"]["disconnectStatusCode"] for event in lambdas.disconnect.events] == [
        1001,
        1001,
    ]
    assert gateway.connection_count() == 0


async def test_an_idle_connection_is_closed_with_1001(make_gateway: GatewayFactory, lambdas: Lambdas) -> None:
    gateway = await make_gateway(idle_timeout=0.1)

    async with charger(gateway) as ws:
        assert await closed(ws) == (1001, "Going away")
    await eventually(lambda: len(lambdas.disconnect.events) == 1)
    assert lambdas.disconnect.events[0]["requestContext"]["disconnectStatusCode"] == 1001


async def test_traffic_keeps_a_connection_alive_until_its_maximum_age(make_gateway: GatewayFactory) -> None:
    # Given short idle and maximum-age limits
    gateway = await make_gateway(idle_timeout=0.1, max_connection_seconds=0.3)

    async with charger(gateway) as ws:
        # When the charger keeps talking more often than the idle timeout
        async def keep_busy() -> None:
            with contextlib.suppress(ConnectionClosed):
                while True:
                    await ws.send('[2,"1","Heartbeat",{}]')
                    await asyncio.sleep(0.02)

        opened = time.monotonic()
        busy = asyncio.create_task(keep_busy())

        # Then it outlives the idle timeout but not its maximum age
        assert await closed(ws) == (1001, "Going away")
        assert time.monotonic() - opened >= 0.25
        await busy


def test_the_management_endpoint_is_what_boto3_takes() -> None:
    gateway = LocalGateway({}, host="127.0.0.1", port=8180, stage="dev")

    assert gateway.base_url == "http://127.0.0.1:8180"
    assert gateway.management_endpoint == "http://127.0.0.1:8180/dev"


# --- @connections beyond loopback ---------------------------------------------------------------


async def test_signed_management_calls_pass_and_others_are_forbidden(
    make_gateway: GatewayFactory, boto_session: boto3.session.Session
) -> None:
    # Given a gateway that requires the stack's signature on @connections (bound beyond loopback)
    from aiohttp import ClientSession

    from csms.aws.signed import Credentials

    gateway = await make_gateway(management_credentials=Credentials("local", "the-stack-secret"))
    signed = boto_session.client(
        "apigatewaymanagementapi",
        endpoint_url=gateway.management_endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="the-stack-secret",
    )
    forged = management_client(boto_session, gateway)  # signed with another secret

    async with charger(gateway) as ws:
        connection_id = only_connection(gateway)
        # When the functions post with the stack's credentials, the frame arrives
        await asyncio.to_thread(signed.post_to_connection, ConnectionId=connection_id, Data=b"hello")
        assert await asyncio.wait_for(ws.recv(), 2) == "hello"

        # When anyone else posts, signed with other credentials or not at all, it is refused
        with pytest.raises(forged.exceptions.ForbiddenException):
            await asyncio.to_thread(forged.post_to_connection, ConnectionId=connection_id, Data=b"evil")
        async with ClientSession() as http:
            url = f"{gateway.management_endpoint}/@connections/{connection_id}"
            for method in ("POST", "GET", "DELETE"):
                async with http.request(method, url, data=b"evil") as answer:
                    assert answer.status == 403
        # Then nothing reached the charger and the connection is still open
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.recv(), 0.2)
        assert gateway.connections() == [connection_id]


# --- API Gateway's quotas, shortened ------------------------------------------------------------


async def test_new_connections_beyond_the_rate_are_refused_with_429(
    make_gateway: GatewayFactory, lambdas: Lambdas
) -> None:
    # Given a new-connection rate of 2 at once and hardly any refill
    from csms.local.gateway import GatewayLimits

    gateway = await make_gateway(
        limits=GatewayLimits(new_connections_per_second=0.01, new_connections_burst=2)
    )

    # When three chargers connect at once
    async with charger(gateway, "/ocpp/CP1"), charger(gateway, "/ocpp/CP2"):
        with pytest.raises(InvalidStatus) as refused:
            async with charger(gateway, "/ocpp/CP3"):
                pass
    # Then the third handshake is refused before $connect runs
    assert refused.value.response.status_code == 429
    assert len(lambdas.connect.events) == 2
    assert gateway.throttled_connections == 1


async def test_an_answer_after_the_integration_timeout_is_not_the_route_response(
    make_gateway: GatewayFactory, lambdas: Lambdas
) -> None:
    # Given a $default handler slower than the (shortened) integration timeout
    from csms.local.gateway import GatewayLimits

    lambdas.default.on_event = lambda event: time.sleep(0.3)
    gateway = await make_gateway(limits=GatewayLimits(integration_timeout=0.1))

    async with charger(gateway) as ws:
        await ws.send('[2,"1","Heartbeat",{}]')
        # Then the charger hears API Gateway's timeout message, as on AWS
        answer = json.loads(await asyncio.wait_for(ws.recv(), 2))
        assert answer["message"] == "Endpoint request timed out"
    assert lambdas.default.contexts[0].get_remaining_time_in_millis() == 0
