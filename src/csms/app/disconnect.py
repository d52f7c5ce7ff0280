"""$disconnect: forget the connection; the charger is offline only if it was its current one."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from csms.domain.connections import ConnectionStore
from csms.domain.events import DomainEvent, new_event
from csms.observability import bind_invocation, reset_invocation

log = logging.getLogger(__name__)


def handle(
    event: dict[str, Any],
    context: Any,
    connections: ConnectionStore | None = None,
    emit: Callable[[Sequence[DomainEvent]], object] | None = None,
) -> dict[str, Any]:
    reset_invocation()
    request_context = event.get("requestContext") or {}
    connection_id = str(request_context.get("connectionId") or "")
    bind_invocation(connection_id=connection_id)
    if not connection_id:
        log.warning("disconnect without a connection id ignored")
        return {"statusCode": 200}
    try:
        if connections is None or emit is None:
            from csms.app import wiring

            connections = connections or wiring.connections()
            emit = emit or wiring.emit
        record = connections.unregister(connection_id)
    except Exception:
        # Best effort like $disconnect itself: the record's TTL and the liveness job clean up.
        log.exception("disconnect bookkeeping failed")
        return {"statusCode": 200}
    close_code = request_context.get("disconnectStatusCode")
    close_reason = request_context.get("disconnectReason")
    if record is not None:
        bind_invocation(charge_point_id=record.charge_point_id)
        emit(
            [
                new_event(
                    "ChargerDisconnected",
                    record.tenant_id,
                    record.charge_point_id,
                    datetime.now(UTC),
                    {
                        "connectionId": connection_id,
                        "closeCode": close_code if isinstance(close_code, int) else None,
                        "closeReason": str(close_reason) if close_reason else None,
                    },
                    correlation_id=f"connection:{connection_id}",
                )
            ]
        )
    log.info(
        "charger disconnected" if record is not None else "superseded connection closed",
        extra={"went_offline": record is not None, "close_code": close_code, "close_reason": close_reason},
    )
    return {"statusCode": 200}
