"""Local AWS services for ``csms dev`` and the integration tests: moto, served over HTTP.

moto runs in a thread of this process (``ThreadedMotoServer``), so boto3 clients anywhere
(our Lambda code, the gateway emulator, tests) reach it through an ``endpoint_url``, and
tests can still inspect moto's in-process backends. All moto state is process-global:
two :class:`LocalAws` in one process share it.
"""

from __future__ import annotations

import logging
import socket
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
