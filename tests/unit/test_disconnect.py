"""$disconnect with fakes: offline only when the closing connection is the current one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from csms.app.disconnect import handle
from csms.domain.connections import ConnectionRecord
from csms.domain.events import DomainEvent
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
    emitted: list[DomainEvent] = []
    assert handle(a_disconnect("c1"), None, store, emitted.extend) == {"statusCode": 200}
    assert store.current_connection("CP-1") is None
    [event] = emitted
    assert (event.type, event.tenant_id, event.charge_point_id) == ("ChargerDisconnected", "t1", "CP-1")
    assert event.data == {"connectionId": "c1", "closeCode": 1000, "closeReason": None}
    assert event.correlation_id == "connection:c1"


def test_a_late_disconnect_of_a_replaced_connection_keeps_the_charger_online() -> None:
    store = FakeConnectionStore()
    store.register(ConnectionRecord("c1", "CP-1", "t1", "ocpp1.6", NOW))
    store.register(ConnectionRecord("c2", "CP-1", "t1", "ocpp1.6", NOW))
    emitted: list[DomainEvent] = []
    handle(a_disconnect("c1"), None, store, emitted.extend)
    assert store.current_connection("CP-1") == "c2"
    assert emitted == []  # the charger did not go offline


def test_a_failing_store_still_answers_200() -> None:
    class Broken(FakeConnectionStore):
        def unregister(self, connection_id: str) -> ConnectionRecord | None:
            raise RuntimeError("down")

    assert handle(a_disconnect("c1"), None, Broken(), list().extend) == {"statusCode": 200}


def test_an_unknown_or_repeated_disconnect_changes_nothing() -> None:
    store = FakeConnectionStore()
    store.register(ConnectionRecord("c1", "CP-1", "t1", "ocpp1.6", NOW))
    emitted: list[DomainEvent] = []
    assert handle(a_disconnect("nobody"), None, store, emitted.extend) == {"statusCode": 200}
    assert handle(a_disconnect("c1"), None, store, emitted.extend) == {"statusCode": 200}
    assert handle(a_disconnect("c1"), None, store, emitted.extend) == {"statusCode": 200}
    assert [event.type for event in emitted] == ["ChargerDisconnected"]  # once, not twice


@pytest.mark.parametrize("event", [{}, {"requestContext": None}, {"requestContext": {"connectionId": None}}])
def test_an_event_without_a_connection_id_is_ignored(event: dict[str, Any]) -> None:
    asked: list[str] = []

    class Recording(FakeConnectionStore):
        def unregister(self, connection_id: str) -> ConnectionRecord | None:
            asked.append(connection_id)
            return None

    emitted: list[DomainEvent] = []
    assert handle(event, None, Recording(), emitted.extend) == {"statusCode": 200}
    assert (asked, emitted) == ([], [])
