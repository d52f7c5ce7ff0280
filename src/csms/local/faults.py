"""Faults for rehearsals: a TCP proxy that can stall or cut what passes through it, and an
HTTP proxy that makes the local AWS services fail or throttle.

The local stack and the fault-injection suite put :class:`TcpProxy` between the functions
and PostgreSQL (or any TCP service) to play a network partition or a server that stops
answering without closing its sockets: ``pause()`` keeps every connection open and
forwards nothing (what a frozen server or a black-holed route looks like from the client),
``resume()`` lets the data flow again, ``cut()`` resets every connection at once.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import random
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

_CHUNK = 65536


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target``; thread-based, for tests and rehearsals."""

    def __init__(self, target_host: str, target_port: int, host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server((host, 0))
        self.host = host
        self.port: int = self._listener.getsockname()[1]
        self._flowing = threading.Event()
        self._flowing.set()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._closed = False
        self._acceptor = threading.Thread(target=self._accept, name="tcp-proxy", daemon=True)

    def start(self) -> Self:
        self._acceptor.start()
        return self

    def pause(self) -> None:
        """Stop forwarding (connections stay open; new ones are accepted and wait)."""
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def cut(self) -> int:
        """Reset every open connection; returns how many there were."""
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        return len(sockets) // 2

    def close(self) -> None:
        self._closed = True
        self._flowing.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        self.cut()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(_CHUNK)
                if not data:
                    break
                self._flowing.wait()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)


class AwsFaultProxy:
    """An HTTP proxy in front of the local AWS services (moto) that answers a share of the
    calls to one service with an AWS error instead of forwarding them: a DynamoDB or
    EventBridge outage (500) or throttling (400 with a throttling code), as the SDKs and the
    lean clients see them. Point ``AWS_ENDPOINT_URL_<SERVICE>`` at :attr:`endpoint`."""

    #: ``X-Amz-Target`` prefixes of the JSON-protocol services the functions call.
    TARGETS: Final = {"dynamodb": "DynamoDB_20120810.", "eventbridge": "AWSEvents."}
    ERRORS: Final = {
        "throttle": (400, "ProvisionedThroughputExceededException"),
        "throttle-events": (400, "ThrottlingException"),
        "error": (500, "InternalServerError"),
    }

    def __init__(self, target: str, host: str = "127.0.0.1") -> None:
        parts = urlsplit(target)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._rules: dict[str, tuple[float, int, str]] = {}
        self._random = random.Random(13)  # noqa: S311 - which calls fail, reproducibly: no secret
        self._lock = threading.Lock()
        #: Calls answered with an injected error, by service.
        self.injected: dict[str, int] = {}
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                proxy._handle(self)

            def do_GET(self) -> None:
                proxy._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self.endpoint = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="aws-fault-proxy", daemon=True
        )

    def start(self) -> str:
        self._thread.start()
        return self.endpoint

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail(self, service: str, share: float, kind: str = "error") -> None:
        """Answer ``share`` (0..1) of the calls to ``service`` with the error ``kind``."""
        status, code = self.ERRORS[kind]
        with self._lock:
            self._rules[self.TARGETS[service]] = (share, status, code)

    def heal(self) -> None:
        with self._lock:
            self._rules.clear()

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        target = request.headers.get("X-Amz-Target", "")
        with self._lock:
            rule = next((r for prefix, r in self._rules.items() if target.startswith(prefix)), None)
            injected = rule is not None and self._random.random() < rule[0]
            if injected and rule is not None:
                service = next(name for name, prefix in self.TARGETS.items() if target.startswith(prefix))
                self.injected[service] = self.injected.get(service, 0) + 1
        if injected and rule is not None:
            _, status, code = rule
            payload = json.dumps({"__type": code, "message": "injected by the fault rehearsal"}).encode()
            request.send_response(status)
            request.send_header("Content-Type", "application/x-amz-json-1.0")
            request.send_header("x-amzn-ErrorType", code)
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)
            return
        upstream = http.client.HTTPConnection(*self._target, timeout=30)
        try:
            headers = {k: v for k, v in request.headers.items() if k.lower() != "connection"}
            upstream.request(request.command, request.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            request.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                    request.send_header(name, value)
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
        finally:
            upstream.close()
