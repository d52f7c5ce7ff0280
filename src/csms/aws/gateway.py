"""Sending frames to chargers through API Gateway's @connections API."""

from __future__ import annotations

import contextlib
from typing import Any

from csms.errors import ConnectionGone


class ApiGatewaySender:
    """The production :class:`csms.domain.connections.FrameSender`."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def send(self, connection_id: str, frame: str) -> None:
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=frame.encode("utf-8"))
        except self._client.exceptions.GoneException as exc:
            raise ConnectionGone(connection_id) from exc

    def close(self, connection_id: str) -> None:
        with contextlib.suppress(self._client.exceptions.GoneException):
            self._client.delete_connection(ConnectionId=connection_id)

    def exists(self, connection_id: str) -> bool:
        """Whether API Gateway still has the connection open (``GET @connections/{id}``; a
        ``GoneException`` means it is gone, whatever our records say)."""
        try:
            self._client.get_connection(ConnectionId=connection_id)
        except self._client.exceptions.GoneException:
            return False
        return True
