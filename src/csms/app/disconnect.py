"""$disconnect: forget the connection; the charger is offline only if it was its current one."""

from __future__ import annotations

import logging
from typing import Any

from csms.observability import bind_invocation, reset_invocation
from csms.ports import ConnectionStore

log = logging.getLogger(__name__)


def handle(event: dict[str, Any], context: Any, connections: ConnectionStore | None = None) -> dict[str, Any]:
    reset_invocation()
    request_context = event.get("requestContext", {})
    connection_id = str(request_context.get("connectionId", ""))
    bind_invocation(connection_id=connection_id)
    try:
        if connections is None:
            from csms.app import wiring

            connections = wiring.connections()
        went_offline = connections.unregister(connection_id)
    except Exception:
        # Best effort like $disconnect itself: the record's TTL and the liveness job clean up.
        log.exception("disconnect bookkeeping failed")
        return {"statusCode": 200}
    log.info(
        "charger disconnected" if went_offline else "superseded connection closed",
        extra={
            "went_offline": went_offline,
            "close_code": request_context.get("disconnectStatusCode"),
            "close_reason": request_context.get("disconnectReason"),
        },
    )
    return {"statusCode": 200}
