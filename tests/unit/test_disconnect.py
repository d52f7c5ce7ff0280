"""$disconnect with fakes: offline only when the closing connection is the current one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from csms.app.disconnect import handle
from csms.ports import ConnectionRecord
from tests.fakes import FakeConnectionStore

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


def a_disconnect(connection_id: str) -> dict[str, Any]:
    return {
        "requestContext": {
            "connectionId": connection_id,
            "routeKey": "$disconnect",
            "disconnectStatusCode": 1000,
        }
    }


def test_closing_the_current_connection_takes_the_charger_offline() -> None:
    store = FakeConnectionStore()
    store.register(ConnectionRecord("c1", "CP-1", "t1", "ocpp1.6", NOW))
    assert handle(a_disconnect("c1"), None, store) == {"statusCode": 200}
    assert store.current_connection("CP-1") is None


def test_a_late_disconnect_of_a_replaced_connection_keeps_the_charger_online() -> None:
    store = FakeConnectionStore()
    store.register(ConnectionRecord("c1", "CP-1", "t1", "ocpp1.6", NOW))
    store.register(ConnectionRecord("c2", "CP-1", "t1", "ocpp1.6", NOW))
    handle(a_disconnect("c1"), None, store)
    assert store.current_connection("CP-1") == "c2"


def test_a_failing_store_still_answers_200() -> None:
    class Broken(FakeConnectionStore):
        def unregister(self, connection_id: str) -> bool:
            raise RuntimeError("down")

    assert handle(a_disconnect("c1"), None, Broken()) == {"statusCode": 200}
