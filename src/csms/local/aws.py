"""Local AWS services for ``csms dev`` and the integration tests: moto, served over HTTP.

:class:`LocalAws` runs moto in a thread of this process (``ThreadedMotoServer``; the integration
tests, which inspect its backends), :class:`LocalAwsProcess` in a child process (``csms dev``);
boto3 clients anywhere (our Lambda code, the gateway emulator, tests) reach either through an
``endpoint_url``. All moto state is process-global: two :class:`LocalAws` in one process share it.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
from types import TracebackType
from typing import TYPE_CHECKING, Final, Self

from csms.aws.provisioning import ensure_connections_table

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

_HOST: Final = "127.0.0.1"


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # werkzeug binds with SO_REUSEADDR, so a port in TIME_WAIT is free for it too.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((_HOST, port))
        except OSError:
            return False
        return True


class LocalAwsError(RuntimeError):
    """The local AWS server is not running, or could not start."""


class LocalAws:
    """moto's server on 127.0.0.1.

    Args:
        port: TCP port; 0 picks a free one.
    """

    def __init__(self, port: int = 0) -> None:
        self._port = port
        self._server: ThreadedMotoServer | None = None
        self._endpoint_url: str | None = None

    @property
    def endpoint_url(self) -> str:
        """Base URL for every service, e.g. ``http://127.0.0.1:50123``."""
        if self._endpoint_url is None:
            raise LocalAwsError("LocalAws is not started.")
        return self._endpoint_url

    def start(self) -> str:
        """Start serving (idempotent) and return :attr:`endpoint_url`."""
        if self._endpoint_url is not None:
            return self._endpoint_url
        # Imported here: moto takes ~0.5 s to import and is only in the `local` extra, so
        # importing this module (e.g. for `csms --help`) should cost neither.
        from moto.server import ThreadedMotoServer

        # werkzeug logs every request at INFO through its own stderr handler: ~2 ms per
        # call and a flooded terminal. Warnings and errors still come through.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        if self._port and not _port_is_free(self._port):
            # Checked up front because ThreadedMotoServer.start() would wait forever: its
            # thread exits on the bind error without ever signalling "ready".
            raise LocalAwsError(f"Port {self._port} on {_HOST} is in use; moto cannot listen there.")
        server = ThreadedMotoServer(ip_address=_HOST, port=self._port, verbose=False)
        server.start()  # returns once the socket is bound
        host, port = server.get_host_and_port()
        self._server = server
        self._endpoint_url = f"http://{host}:{port}"
        return self._endpoint_url

    def stop(self) -> None:
        """Stop serving and release the port (idempotent). moto's state stays in memory."""
        server, self._server, self._endpoint_url = self._server, None, None
        if server is None:
            return
        server.stop()
        # ThreadedMotoServer.stop() ends serve_forever() but leaves the listening socket
        # open until garbage collection, so a restart on the same port would fail.
        wsgi_server = getattr(server, "_server", None)
        if wsgi_server is not None:
            wsgi_server.server_close()

    def _address(self) -> tuple[str, int]:
        if self._server is None:
            raise LocalAwsError("LocalAws is not started.")
        return self._server.get_host_and_port()

    def ensure_connections_table(self, table_name: str, region: str) -> None:
        """Create the connections table (with TTL) here, as the CDK app does on AWS."""
        ensure_connections_table(self.endpoint_url, table_name, region)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class LocalAwsProcess:
    """moto's server in a child process on 127.0.0.1 (``csms dev``, the benchmarks).

    Out of the stack's process on purpose: on AWS, DynamoDB's work is not done on the
    function's CPU or under its GIL, and moto's own per-request cost would otherwise be
    billed to the gateway and the functions. The child exits when its stdin closes (also if
    we die). Its state is not inspectable from here: tests that look into moto's backends
    use :class:`LocalAws`.
    """

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.endpoint = ""

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def start(self) -> str:
        port = _free_loopback_port()
        code = (
            "import logging, sys\n"
            "logging.getLogger('werkzeug').setLevel(logging.WARNING)\n"
            "from moto.server import ThreadedMotoServer\n"
            f"server = ThreadedMotoServer(ip_address='{_HOST}', port={port}, verbose=False)\n"
            "server.start()\n"
            "sys.stdin.read()\n"
            "server.stop()\n"
        )
        self.process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE)
        self.endpoint = f"http://{_HOST}:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex((_HOST, port)) == 0:
                    return self.endpoint
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise LocalAwsError("moto did not start")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind((_HOST, 0))
        return int(sock.getsockname()[1])
