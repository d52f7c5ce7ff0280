"""A local stand-in for an AWS API Gateway WebSocket API, built on aiohttp.

Chargers connect to ``ws://host:port/ocpp/{chargePointId}`` as they would to the CloudFront
distribution in AWS. The emulator does what CloudFront and API Gateway do together:

- copies the charger id from the path into ``CHARGE_POINT_ID_HEADER`` (and adds
  ``ORIGIN_VERIFY_HEADER``), then calls the ``$connect`` handler with an API-Gateway-shaped
  event; a non-2xx ``statusCode`` refuses the handshake with that HTTP status, and a returned
  ``Sec-WebSocket-Protocol`` header is echoed in the 101 response;
- calls ``$default`` once per inbound message, concurrently and without ordering, and
  ``$disconnect`` exactly once when the socket closes for any reason;
- serves the ``@connections`` management API (POST, GET, DELETE) on the same port, with the
  status codes and ``x-amzn-ErrorType`` headers that botocore turns into ``GoneException``
  and ``PayloadTooLargeException``, so ``boto3.client("apigatewaymanagementapi",
  endpoint_url=gateway.management_endpoint)`` works unchanged;
- enforces API Gateway's quotas: 32 KB frames and 128 KB messages (1009), the 10-minute idle
  timeout and the 2-hour connection limit (1001), the 29-second integration timeout.

Handlers are the same synchronous Lambda entry points that run in AWS. They run in a thread
pool because they do blocking I/O, including HTTP calls back into this gateway.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hmac
import json
import logging
import re
import secrets
import struct
import time
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from aiohttp import WebSocketError, WSCloseCode, WSMsgType, web
from aiohttp.http_websocket import WebSocketWriter

from csms.aws.signed import Credentials, sign
from csms.constants import (
    CHARGE_POINT_ID_HEADER,
    IDLE_TIMEOUT_SECONDS,
    MAX_CONNECTION_SECONDS,
    MAX_FRAME_BYTES,
    MAX_MESSAGE_BYTES,
    OCPP_PATH_PREFIX,
    ORIGIN_VERIFY_HEADER,
    ROUTE_FUNCTIONS,
    VIEWER_ADDRESS_HEADER,
)
from csms.local.lambdas import INTEGRATION_TIMEOUT_SECONDS, LocalLambdaContext

logger = logging.getLogger("csms.local.gateway")

#: A Lambda entry point: ``handler(event, context) -> result``.
LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any] | None]
#: A REQUEST authorizer, locally: the handshake's headers → the context to pass on, or None (401).
Authorizer = Callable[[dict[str, str]], dict[str, Any] | None]

_SEC_WEBSOCKET_PROTOCOL: Final = "Sec-WebSocket-Protocol"
_OPCODE_CONTINUATION: Final = 0x0
_OPCODE_TEXT: Final = 0x1
_OPCODE_BINARY: Final = 0x2
_FIN: Final = 0x80
#: RFC 6455 close code for "no status code was present" (aiohttp has no name for it).
_NO_STATUS_RECEIVED: Final = 1005


def _new_id() -> str:
    """An id shaped like API Gateway's connection and request ids (16 chars, ending in '=')."""
    return secrets.token_urlsafe(12)[:15] + "="


def _iso8601(epoch_seconds: float) -> str:
    return (
        datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def _request_time(epoch_seconds: float) -> str:
    # The CLF-style format API Gateway uses in requestContext.requestTime. Month names are
    # spelled out here because %b depends on the process locale.
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    month = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")[
        moment.month - 1
    ]
    return f"{moment:%d}/{month}/{moment:%Y:%H:%M:%S} +0000"


class _FrameSizeGuard:
    """Sits in front of aiohttp's WebSocket parser and drops data frames over MAX_FRAME_BYTES.

    aiohttp only limits whole messages (``max_msg_size``) and has no per-frame limit or hook,
    so frame headers (RFC 6455 section 5.2) are parsed a second time here. Only whole headers
    and payloads of accepted frames reach the real parser, so after an oversized frame the
    stream stays parseable and the close handshake still completes.
    """

    def __init__(self, inner: Any, on_oversized: Callable[[int], None]) -> None:
        self._inner = inner
        self._on_oversized = on_oversized
        self._header = bytearray()
        self._payload_left = 0
        self._dropping = False

    def feed_eof(self) -> None:
        self._inner.feed_eof()

    def feed_data(self, data: bytes | bytearray | memoryview) -> tuple[bool, bytes]:
        view = memoryview(data)
        forward = bytearray()
        position, end = 0, len(view)
        while position < end:
            if self._payload_left:
                step = min(self._payload_left, end - position)
                if not self._dropping:
                    forward += view[position : position + step]
                self._payload_left -= step
                position += step
                continue
            self._header.append(view[position])
            position += 1
            size = _frame_header_size(self._header)
            if size is None or len(self._header) < size:
                continue
            opcode = self._header[0] & 0x0F
            length = _frame_payload_length(self._header)
            self._dropping = (
                opcode in (_OPCODE_CONTINUATION, _OPCODE_TEXT, _OPCODE_BINARY) and length > MAX_FRAME_BYTES
            )
            if self._dropping:
                self._on_oversized(length)
            else:
                forward += self._header
            self._header.clear()
            self._payload_left = length
        if not forward:
            return False, b""
        result: tuple[bool, bytes] = self._inner.feed_data(bytes(forward))
        return result


def _frame_header_size(header: bytearray) -> int | None:
    if len(header) < 2:
        return None
    length_flag = header[1] & 0x7F
    extended = 2 if length_flag == 126 else 8 if length_flag == 127 else 0
    mask = 4 if header[1] & 0x80 else 0
    return 2 + extended + mask


def _frame_payload_length(header: bytearray) -> int:
    length_flag = header[1] & 0x7F
    if length_flag == 126:
        return int.from_bytes(header[2:4], "big")
    if length_flag == 127:
        return int.from_bytes(header[2:10], "big")
    return length_flag


def _server_frame(first_byte: int, payload: bytes) -> bytes:
    # Server frames are never masked; callers keep payloads at or below MAX_FRAME_BYTES.
    if len(payload) < 126:
        return struct.pack("!BB", first_byte, len(payload)) + payload
    return struct.pack("!BBH", first_byte, 126, len(payload)) + payload


class _GatewayWebSocket(web.WebSocketResponse):
    """A WebSocketResponse whose parser is wrapped by :class:`_FrameSizeGuard`."""

    def __init__(self, on_oversized_frame: Callable[[int], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_oversized_frame = on_oversized_frame
        self.frame_guard_installed = False

    def _post_start(self, request: web.BaseRequest, protocol: str | None, writer: WebSocketWriter) -> None:
        super()._post_start(request, protocol, writer)
        # Swapped in here, synchronously after aiohttp installs its parser, so no frame can
        # slip past the guard. If a future aiohttp renames these internals the guard is
        # simply absent (frame_guard_installed stays False and the gateway warns).
        handler = request.protocol
        inner = getattr(handler, "_payload_parser", None)
        if inner is not None and hasattr(inner, "feed_data"):
            handler._payload_parser = _FrameSizeGuard(inner, self._on_oversized_frame)
            self.frame_guard_installed = True


@dataclass(eq=False)
class _Connection:
    connection_id: str
    charge_point_id: str
    source_ip: str
    user_agent: str | None
    connected_at: float
    last_active_at: float
    opened_monotonic: float
    last_active_monotonic: float
    ws: _GatewayWebSocket | None = None
    transport: asyncio.Transport | None = None
    close_code: int | None = None
    close_reason: str = ""
    finished: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)
    watchdog: asyncio.Task[None] | None = None
    #: What the $connect authorizer returned as context: every route's requestContext.authorizer.
    authorizer: dict[str, Any] | None = None

    @property
    def is_open(self) -> bool:
        return (
            self.ws is not None
            and not self.ws.closed
            and self.close_code is None
            and self.transport is not None
            and not self.transport.is_closing()
        )


@dataclass(frozen=True)
class GatewayLimits:
    """API Gateway's WebSocket quotas, enforced by the emulator by default; tests shorten them.

    Source: "Amazon API Gateway quotas for configuring and running a WebSocket API"
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html):
    idle connection timeout 10 minutes, maximum connection duration 2 hours, frame size 32 KB,
    message payload 128 KB, integration timeout 29 seconds, 500 new connections per second
    per account and Region (adjustable; a token bucket of that rate and burst here).
    """

    idle_timeout: float = IDLE_TIMEOUT_SECONDS
    max_connection_seconds: float = MAX_CONNECTION_SECONDS
    integration_timeout: float = INTEGRATION_TIMEOUT_SECONDS
    new_connections_per_second: float = 500.0
    new_connections_burst: int = 500


class _TokenBucket:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate, self._burst, self._clock = rate, float(burst), clock
        self._tokens, self._at = float(burst), clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class _IntegrationTimeout(Exception):
    """The handler did not return within INTEGRATION_TIMEOUT_SECONDS."""


class LocalGateway:
    """An API Gateway WebSocket API on localhost that invokes Lambda-style handlers.

    ``handlers`` maps route keys (``$connect``, ``$default``, ``$disconnect``) to
    synchronous ``handler(event, context)`` functions. A missing route behaves as in API
    Gateway: no ``$connect`` accepts every charger, no ``$disconnect`` is silent, and no
    ``$default`` answers each message with ``{"message": "Forbidden", ...}``.
    """

    def __init__(
        self,
        handlers: Mapping[str, LambdaHandler],
        *,
        host: str = "127.0.0.1",
        port: int = 8180,
        stage: str = "local",
        api_id: str = "local",
        origin_verify_secret: str | None = None,
        max_workers: int = 32,
        idle_timeout: float | None = None,
        max_connection_seconds: float | None = None,
        clock: Callable[[], float] = time.time,
        limits: GatewayLimits | None = None,
        management_credentials: Credentials | None = None,
        path: str | None = None,
        authorize: Authorizer | None = None,
        app: web.Application | None = None,
        front_door: bool = True,
    ) -> None:
        """``path``, ``authorize``, ``app`` and ``front_door`` make a second API beside the
        chargers' (the consoles' live API, ADR 0025): its WebSocket at one fixed ``path``, a
        REQUEST authorizer run before ``$connect`` (None refuses the handshake with 401; its
        context reaches every route as ``requestContext.authorizer``), served by another
        gateway's ``app`` (same port), without the CloudFront headers of the chargers' front door."""
        self.host = host
        #: When set, @connections calls must be signed (SigV4) with these credentials, as IAM
        #: demands on AWS; the local stack sets them when it listens beyond loopback.
        self._management_credentials = management_credentials
        self.port = port
        self.stage = stage
        self.api_id = api_id
        self._handlers = dict(handlers)
        self._origin_verify_secret = origin_verify_secret
        limits = limits or GatewayLimits()
        self.limits = limits
        self._idle_timeout = limits.idle_timeout if idle_timeout is None else idle_timeout
        self._max_connection_seconds = (
            limits.max_connection_seconds if max_connection_seconds is None else max_connection_seconds
        )
        self._new_connections = _TokenBucket(limits.new_connections_per_second, limits.new_connections_burst)
        #: Handshakes refused with 429 by the new-connection rate.
        self.throttled_connections = 0
        #: Fault injection (rehearsals only): called with each @connections POST before it is
        #: delivered; True drops it (e.g. after killing the function that sent it).
        self.intercept_post: Callable[[str, bytes], bool] | None = None
        self._clock = clock
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="gateway-lambda")
        self._connections: dict[str, _Connection] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._warned_no_frame_guard = False
        self._authorize = authorize
        self._front_door = front_door
        self._shares_app = app is not None

        self.app = app if app is not None else web.Application()
        if path is not None:
            self.app.router.add_get(path, self._handle_charger)
        else:
            ocpp_route = f"{OCPP_PATH_PREFIX}{{chargePointId}}"
            self.app.router.add_get(ocpp_route, self._handle_charger)
            self.app.router.add_get(ocpp_route + "/", self._handle_charger)
        connection_route = f"/{stage}/@connections/{{connectionId}}"
        self.app.router.add_post(connection_route, self._post_to_connection)
        self.app.router.add_get(connection_route, self._get_connection)
        self.app.router.add_delete(connection_route, self._delete_connection)

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind the socket and start serving; ``port`` then holds the real port (useful with 0).
        A gateway on another's ``app`` is served by that one: set its ``port`` instead."""
        if self._shares_app:
            return
        runner = web.AppRunner(self.app, handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        logger.info(
            "gateway listening on %s (management endpoint %s)", self.base_url, self.management_endpoint
        )

    async def stop(self) -> None:
        """Close every socket with 1001, deliver their ``$disconnect`` and shut everything down."""
        connections = list(self._connections.values())
        await asyncio.gather(
            *(self._close(conn, WSCloseCode.GOING_AWAY, "Going away") for conn in connections),
            return_exceptions=True,
        )
        await asyncio.gather(*(conn.done.wait() for conn in connections))
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        # Invocations that outlived the integration timeout may still hold a thread; like
        # Lambda, they are left to finish on their own rather than blocking shutdown.
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def cut_all(self) -> int:
        """Close every connection at once, as API Gateway does when they reach their 2-hour
        maximum together (1001 Going away); each gets its ``$disconnect``. Returns how many."""
        connections = list(self._connections.values())
        await asyncio.gather(
            *(self._close(conn, WSCloseCode.GOING_AWAY, "Going away") for conn in connections),
            return_exceptions=True,
        )
        return len(connections)

    @property
    def base_url(self) -> str:
        """``http://host:port``, where chargers connect under ``/ocpp/{chargePointId}``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def management_endpoint(self) -> str:
        """The ``endpoint_url`` for boto3's ``apigatewaymanagementapi`` client."""
        return f"{self.base_url}/{self.stage}"

    @property
    def domain_name(self) -> str:
        """What ``requestContext.domainName`` carries: ``host:port``."""
        return f"{self.host}:{self.port}"

    def connection_count(self) -> int:
        """Number of open connections."""
        return len(self._connections)

    def connections(self) -> list[str]:
        """Ids of the open connections."""
        return list(self._connections)

    # --- charger endpoint -------------------------------------------------------------------

    async def _handle_charger(self, request: web.Request) -> web.StreamResponse:
        charge_point_id = request.match_info.get("chargePointId", "")
        # A header check rather than WebSocketResponse().can_prepare(): that probe knows no
        # subprotocols and logs a spurious "protocols don't overlap" warning per charger.
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return web.Response(status=426, headers={"Upgrade": "websocket"})
        if not self._new_connections.take():
            # API Gateway refuses handshakes beyond the account's new-connection rate.
            self.throttled_connections += 1
            return web.Response(status=429, text="Too Many Requests")

        now = self._clock()
        monotonic = time.monotonic()
        conn = _Connection(
            connection_id=_new_id(),
            charge_point_id=charge_point_id,
            source_ip=request.remote or "127.0.0.1",
            user_agent=request.headers.get("User-Agent"),
            connected_at=now,
            last_active_at=now,
            opened_monotonic=monotonic,
            last_active_monotonic=monotonic,
        )
        if self._authorize is not None:
            loop = asyncio.get_running_loop()
            conn.authorizer = await loop.run_in_executor(
                self._executor, self._authorize, dict(request.headers)
            )
            if conn.authorizer is None:
                return web.Response(status=401, text="Unauthorized")
        status, subprotocol = await self._call_connect(request, conn)
        if not 200 <= status < 300:
            logger.info(
                "connect refused charge_point_id=%s connection_id=%s status=%s",
                charge_point_id,
                conn.connection_id,
                status,
            )
            return web.Response(status=status)

        ws = _GatewayWebSocket(
            on_oversized_frame=functools.partial(self._on_oversized_frame, conn),
            protocols=(subprotocol,) if subprotocol else (),
            compress=False,
            # aiohttp refuses a message whose size reaches max_msg_size; API Gateway allows
            # exactly 128 KB.
            max_msg_size=MAX_MESSAGE_BYTES + 1,
        )
        if subprotocol:
            # Echo what $connect chose even if the client did not offer it, as API Gateway
            # does; the client then fails the handshake itself.
            ws.headers[_SEC_WEBSOCKET_PROTOCOL] = subprotocol
        conn.ws = ws
        try:
            await ws.prepare(request)
        except ConnectionError:
            # The charger left while $connect ran. The handler has already recorded the
            # connection, so it still gets its $disconnect.
            self._finish(conn)
            raise
        if not ws.frame_guard_installed and not self._warned_no_frame_guard:
            self._warned_no_frame_guard = True
            logger.warning("aiohttp internals changed: the 32 KB frame limit is not enforced")

        conn.transport = request.transport
        self._connections[conn.connection_id] = conn
        conn.watchdog = asyncio.create_task(self._watchdog(conn))
        logger.info(
            "connected charge_point_id=%s connection_id=%s subprotocol=%s",
            charge_point_id,
            conn.connection_id,
            subprotocol,
        )
        try:
            await self._receive_loop(conn, ws)
        finally:
            self._finish(conn)
        return ws

    async def _call_connect(self, request: web.Request, conn: _Connection) -> tuple[int, str | None]:
        """Run ``$connect``; return the HTTP status for the handshake and the subprotocol."""
        if "$connect" not in self._handlers:
            return 200, None
        event = self._connect_event(request, conn)
        try:
            result = await self._invoke("$connect", event)
        except _IntegrationTimeout:
            return 504, None
        except Exception:
            logger.exception("$connect handler failed connection_id=%s", conn.connection_id)
            return 500, None
        if result is None:
            return 200, None
        if not isinstance(result, Mapping):
            logger.error(
                "$connect returned a %s, not an object connection_id=%s", type(result), conn.connection_id
            )
            return 500, None
        try:
            status = int(result.get("statusCode", 200))
        except (TypeError, ValueError):
            logger.error("$connect returned a malformed statusCode connection_id=%s", conn.connection_id)
            return 500, None
        if not 200 <= status <= 599:
            return 500, None
        headers = result.get("headers") or {}
        subprotocol = next(
            (
                str(value)
                for name, value in headers.items()
                if name.lower() == _SEC_WEBSOCKET_PROTOCOL.lower()
            ),
            None,
        )
        return status, subprotocol

    def _connect_event(self, request: web.Request, conn: _Connection) -> dict[str, Any]:
        front_door = {
            name.lower() for name in (CHARGE_POINT_ID_HEADER, ORIGIN_VERIFY_HEADER, VIEWER_ADDRESS_HEADER)
        }
        pairs = [(name, value) for name, value in request.headers.items() if name.lower() not in front_door]
        # What the CloudFront Function and origin custom header add in production; a value
        # the client sent for either header is never trusted.
        if self._front_door:
            pairs.append((CHARGE_POINT_ID_HEADER, conn.charge_point_id))
        if self._front_door and self._origin_verify_secret is not None:
            pairs.append((ORIGIN_VERIFY_HEADER, self._origin_verify_secret))
            # CloudFront's own header with the viewer's address and port (origin request policy).
            peer = request.transport.get_extra_info("peername") if request.transport else None
            port = peer[1] if isinstance(peer, tuple) and len(peer) > 1 else 0
            pairs.append((VIEWER_ADDRESS_HEADER, f"{conn.source_ip}:{port}"))
        present = {name.lower() for name, _ in pairs}
        forwarded = {
            "X-Forwarded-For": conn.source_ip,
            "X-Forwarded-Port": str(self.port),
            "X-Forwarded-Proto": "http",
        }
        pairs.extend((name, value) for name, value in forwarded.items() if name.lower() not in present)

        headers: dict[str, str] = {}
        multi_value_headers: dict[str, list[str]] = {}
        for name, value in pairs:
            headers[name] = value
            multi_value_headers.setdefault(name, []).append(value)

        event: dict[str, Any] = {"headers": headers, "multiValueHeaders": multi_value_headers}
        if request.query:
            event["queryStringParameters"] = dict(request.query.items())
            multi_query: dict[str, list[str]] = {}
            for key, value in request.query.items():
                multi_query.setdefault(key, []).append(value)
            event["multiValueQueryStringParameters"] = multi_query
        event["requestContext"] = self._request_context(conn, "$connect", "CONNECT")
        event["isBase64Encoded"] = False
        return event

    # --- messages ---------------------------------------------------------------------------

    async def _receive_loop(self, conn: _Connection, ws: web.WebSocketResponse) -> None:
        while True:
            message = await ws.receive()
            if message.type is WSMsgType.TEXT:
                self._dispatch_message(conn, message.data, is_base64=False)
            elif message.type is WSMsgType.BINARY:
                self._dispatch_message(conn, base64.b64encode(message.data).decode("ascii"), is_base64=True)
            elif message.type is WSMsgType.CLOSE:
                code = int(message.data) or _NO_STATUS_RECEIVED
                reason = message.extra or (
                    "Client-side close frame status not set" if code == _NO_STATUS_RECEIVED else ""
                )
                self._record_close(conn, code, reason)
                return
            elif message.type is WSMsgType.ERROR:
                error = message.data
                if isinstance(error, WebSocketError) and error.code == WSCloseCode.MESSAGE_TOO_BIG:
                    self._record_close(conn, error.code, "Message too big")
                elif isinstance(error, WebSocketError):
                    self._record_close(conn, error.code, str(error))
                else:
                    self._record_close(conn, WSCloseCode.ABNORMAL_CLOSURE, "Connection closed abnormally")
                return
            else:
                # CLOSING or CLOSED: we closed it (the code is already recorded) or the
                # peer vanished without a close frame.
                self._record_close(conn, WSCloseCode.ABNORMAL_CLOSURE, "Connection closed abnormally")
                return

    def _dispatch_message(self, conn: _Connection, body: str, *, is_base64: bool) -> None:
        self._touch(conn)
        event: dict[str, Any] = {
            "requestContext": self._request_context(conn, "$default", "MESSAGE"),
            "body": body,
            "isBase64Encoded": is_base64,
        }
        # API Gateway invokes the integration once per message, concurrently and without
        # ordering, so a slow message must never hold back the next one.
        self._spawn(self._deliver_message(conn, event))

    async def _deliver_message(self, conn: _Connection, event: dict[str, Any]) -> None:
        request_id = event["requestContext"]["requestId"]
        if "$default" not in self._handlers:
            await self._send_gateway_error(conn, "Forbidden", request_id)
            return
        try:
            await self._invoke("$default", event)
        except _IntegrationTimeout:
            await self._send_gateway_error(conn, "Endpoint request timed out", request_id)
        except Exception:
            logger.exception("$default handler failed connection_id=%s", conn.connection_id)
            await self._send_gateway_error(conn, "Internal server error", request_id)

    async def _send_gateway_error(self, conn: _Connection, text: str, request_id: str) -> None:
        payload = {"message": text, "connectionId": conn.connection_id, "requestId": request_id}
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self._send(conn, json.dumps(payload).encode())

    async def _send(self, conn: _Connection, data: bytes) -> None:
        """Send one message; raise ConnectionError when the socket is gone."""
        if not conn.is_open or conn.ws is None or conn.transport is None:
            raise ConnectionResetError(conn.connection_id)
        try:
            text: str | None = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if len(data) <= MAX_FRAME_BYTES:
            if text is not None:
                await conn.ws.send_str(text)
            else:
                await conn.ws.send_bytes(data)
        else:
            # API Gateway splits messages over 32 KB into frames of at most 32 KB. aiohttp's
            # writer always sets FIN, so the fragments are written to the transport directly.
            # No await between writes: nothing else can interleave a frame.
            opcode = _OPCODE_TEXT if text is not None else _OPCODE_BINARY
            pieces = [data[i : i + MAX_FRAME_BYTES] for i in range(0, len(data), MAX_FRAME_BYTES)]
            for index, piece in enumerate(pieces):
                first_byte = (opcode if index == 0 else _OPCODE_CONTINUATION) | (
                    _FIN if index == len(pieces) - 1 else 0
                )
                conn.transport.write(_server_frame(first_byte, piece))
        self._touch(conn)

    # --- limits and closing -----------------------------------------------------------------

    def _touch(self, conn: _Connection) -> None:
        conn.last_active_at = self._clock()
        conn.last_active_monotonic = time.monotonic()

    async def _watchdog(self, conn: _Connection) -> None:
        while True:
            hard_deadline = conn.opened_monotonic + self._max_connection_seconds
            idle_deadline = conn.last_active_monotonic + self._idle_timeout
            now = time.monotonic()
            if now >= min(hard_deadline, idle_deadline):
                await self._close(conn, WSCloseCode.GOING_AWAY, "Going away")
                return
            await asyncio.sleep(min(hard_deadline, idle_deadline) - now)

    def _on_oversized_frame(self, conn: _Connection, length: int) -> None:
        logger.info(
            "frame of %d bytes over the %d byte limit connection_id=%s",
            length,
            MAX_FRAME_BYTES,
            conn.connection_id,
        )
        # Called from aiohttp's data_received callback, where nothing can be awaited.
        self._spawn(self._close(conn, WSCloseCode.MESSAGE_TOO_BIG, "Message too big"))

    def _record_close(self, conn: _Connection, code: int, reason: str) -> None:
        # The first cause wins: a close we started is not overwritten by its echo.
        if conn.close_code is None:
            conn.close_code, conn.close_reason = code, reason

    async def _close(self, conn: _Connection, code: int, reason: str) -> None:
        self._record_close(conn, code, reason)
        if conn.ws is not None and conn.ws.prepared:
            await conn.ws.close(code=code, message=reason.encode())

    def _finish(self, conn: _Connection) -> None:
        """Forget the connection and fire its one ``$disconnect``."""
        if conn.finished:
            return
        conn.finished = True
        self._connections.pop(conn.connection_id, None)
        if conn.watchdog is not None:
            conn.watchdog.cancel()
        if conn.close_code is None:
            conn.close_code, conn.close_reason = WSCloseCode.ABNORMAL_CLOSURE, "Connection closed abnormally"
        logger.info(
            "disconnected charge_point_id=%s connection_id=%s code=%s reason=%s",
            conn.charge_point_id,
            conn.connection_id,
            conn.close_code,
            conn.close_reason,
        )
        if "$disconnect" in self._handlers:
            self._spawn(self._deliver_disconnect(conn))
        conn.done.set()

    async def _deliver_disconnect(self, conn: _Connection) -> None:
        context = self._request_context(conn, "$disconnect", "DISCONNECT")
        context["disconnectStatusCode"] = conn.close_code
        context["disconnectReason"] = conn.close_reason
        headers = {"Host": self.domain_name, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
        event = {
            "headers": headers,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "requestContext": context,
            "isBase64Encoded": False,
        }
        try:
            await self._invoke("$disconnect", event)
        except Exception:
            logger.exception("$disconnect handler failed connection_id=%s", conn.connection_id)

    # --- @connections management API --------------------------------------------------------

    async def _post_to_connection(self, request: web.Request) -> web.Response:
        refused = await self._refuse_unsigned(request)
        if refused is not None:
            return refused
        connection_id = request.match_info["connectionId"]
        if request.content_length is not None and request.content_length > MAX_MESSAGE_BYTES:
            return _payload_too_large(request.content_length)
        try:
            data = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _payload_too_large(None)
        if len(data) > MAX_MESSAGE_BYTES:
            return _payload_too_large(len(data))
        conn = self._connections.get(connection_id)
        if conn is None:
            return _gone(connection_id)
        if self.intercept_post is not None and self.intercept_post(connection_id, data):
            return web.Response(status=200)
        try:
            await self._send(conn, data)
        except (ConnectionError, RuntimeError):
            return _gone(connection_id)
        return web.Response(status=200)

    async def _get_connection(self, request: web.Request) -> web.Response:
        refused = await self._refuse_unsigned(request)
        if refused is not None:
            return refused
        connection_id = request.match_info["connectionId"]
        conn = self._connections.get(connection_id)
        if conn is None or not conn.is_open:
            return _gone(connection_id)
        # The wire names are the botocore model's locationNames; boto3 maps them to
        # ConnectedAt, LastActiveAt and Identity.SourceIp/UserAgent.
        body: dict[str, Any] = {
            "connectedAt": _iso8601(conn.connected_at),
            "lastActiveAt": _iso8601(conn.last_active_at),
            "identity": {"sourceIp": conn.source_ip, "userAgent": conn.user_agent},
        }
        return web.json_response(body)

    async def _delete_connection(self, request: web.Request) -> web.Response:
        refused = await self._refuse_unsigned(request)
        if refused is not None:
            return refused
        connection_id = request.match_info["connectionId"]
        conn = self._connections.get(connection_id)
        if conn is None or not conn.is_open:
            return _gone(connection_id)
        await self._close(conn, WSCloseCode.OK, "Connection deleted")
        return web.Response(status=204)

    async def _refuse_unsigned(self, request: web.Request) -> web.Response | None:
        """403 unless the request carries a valid SigV4 signature by the management credentials
        (when they are set), with API Gateway's error shape."""
        credentials = self._management_credentials
        if credentials is None:
            return None
        body = await request.read() if request.can_read_body else b""
        if verify_sigv4(request.method, request.host, request.raw_path, request.headers, body, credentials):
            return None
        return _aws_error(403, "ForbiddenException", "Forbidden: the request is not signed by this stack")

    # --- plumbing ---------------------------------------------------------------------------

    def _request_context(self, conn: _Connection, route_key: str, event_type: str) -> dict[str, Any]:
        now = self._clock()
        request_id = _new_id()
        context: dict[str, Any] = {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": _request_time(now),
            "messageDirection": "IN",
            "stage": self.stage,
            "connectedAt": int(conn.connected_at * 1000),
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": conn.source_ip, "userAgent": conn.user_agent},
            "requestId": request_id,
            "domainName": self.domain_name,
            "connectionId": conn.connection_id,
            "apiId": self.api_id,
        }
        if event_type == "MESSAGE":
            context["messageId"] = _new_id()
        if conn.authorizer is not None:
            context["authorizer"] = dict(conn.authorizer)
        return context

    async def _invoke(self, route_key: str, event: dict[str, Any]) -> object:
        """Run one handler in the pool; its result is untrusted, as a Lambda's would be."""
        handler = self._handlers[route_key]
        context = LocalLambdaContext(
            ROUTE_FUNCTIONS.get(route_key, route_key), self.limits.integration_timeout
        )
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, handler, event, context)
        # asyncio.wait rather than wait_for, so a TimeoutError raised by the handler itself
        # is not mistaken for the integration timeout.
        done, _ = await asyncio.wait({future}, timeout=self.limits.integration_timeout)
        if not done:
            future.cancel()
            raise _IntegrationTimeout(route_key)
        return future.result()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


#: How far the signature's date may be from ours (SigV4 allows 5 minutes).
_SIGNATURE_SKEW: Final = timedelta(minutes=5)
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<day>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)"
    r"/aws4_request,"
    r"\s*SignedHeaders=(?P<headers>[^,]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
)


def verify_sigv4(
    method: str,
    host: str,
    raw_path: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Credentials,
    now: datetime | None = None,
) -> bool:
    """Whether a request is signed (Signature Version 4) with ``credentials``: the signature
    is computed again over the headers it names and compared in constant time."""
    match = _AUTHORIZATION.fullmatch(headers.get("Authorization", "").strip())
    amz_date = headers.get("X-Amz-Date", "")
    if match is None or not hmac.compare_digest(match["key"], credentials.access_key):
        return False
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return False
    if abs((now or datetime.now(UTC)) - signed_at) > _SIGNATURE_SKEW:
        return False
    skip = {"host", "x-amz-date", "x-amz-security-token"}
    names = match["headers"].split(";")
    if "host" not in names:
        return False
    signed_headers = {name: headers.get(name, "") for name in names if name not in skip}
    expected = sign(
        method,
        f"http://{host}{raw_path}",
        signed_headers,
        body,
        service=match["service"],
        region=match["region"],
        credentials=credentials._replace(token=headers.get("X-Amz-Security-Token")),
        now=signed_at,
    )
    recomputed = _AUTHORIZATION.fullmatch(expected["Authorization"])
    return recomputed is not None and hmac.compare_digest(recomputed["signature"], match["signature"])


def _aws_error(status: int, error_type: str, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status, headers={"x-amzn-ErrorType": error_type})


def _gone(connection_id: str) -> web.Response:
    return _aws_error(410, "GoneException", f"Connection {connection_id} is gone")


def _payload_too_large(size: int | None) -> web.Response:
    what = f"{size} bytes" if size is not None else "The request body"
    return _aws_error(
        413, "PayloadTooLargeException", f"{what} exceeds the {MAX_MESSAGE_BYTES} byte message limit"
    )
