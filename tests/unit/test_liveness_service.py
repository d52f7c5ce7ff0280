"""The liveness rules against in-memory fakes: the races the integration tests cannot stage
(a frame between the scan and the decision, a reconnect, a concurrent run)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from csms.domain.connections import ConnectionRecord, LivenessSnapshot, StoredConnection
from csms.domain.events import DomainEvent
from csms.services.liveness import LivenessService

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
SILENT_SINCE = NOW - timedelta(minutes=30)


class FakeConnections:
    """The connection store: ``records`` by connection id, ``current`` by charger, ``closed`` ids."""

    def __init__(self, *records: ConnectionRecord) -> None:
        self.records = {r.connection_id: r for r in records}
        self.current = {r.charge_point_id: r.connection_id for r in records}
        self.closed: set[str] = set()
        #: What happens between the scan and the consistent re-read (a frame, a reconnect...).
        self.after_scan: list[object] = []

    def liveness_scan(self) -> LivenessSnapshot:
        snapshot = LivenessSnapshot(
            current={cp: self.records[cid] for cp, cid in self.current.items()},
            open={cid: r for cid, r in self.records.items() if cid not in self.closed},
        )
        for change in self.after_scan:
            change()  # type: ignore[operator]
        return snapshot

    def open_connection(self, connection_id: str) -> StoredConnection | None:
        record = self.records.get(connection_id)
        return StoredConnection(record, connection_id in self.closed) if record else None

    def close_stale(
        self, connection_id: str, at: datetime, *, if_last_seen: datetime | None = None
    ) -> ConnectionRecord | None:
        record = self.records.get(connection_id)
        if record is None or connection_id in self.closed:
            return None
        if if_last_seen is not None and record.last_seen != if_last_seen:
            return None
        self.closed.add(connection_id)
        return record

    def release(self, charge_point_id: str, connection_id: str) -> bool:
        if self.current.get(charge_point_id) != connection_id:
            return False
        del self.current[charge_point_id]
        return True

    def current_connection(self, charge_point_id: str) -> str | None:
        return self.current.get(charge_point_id)


class FakeGateway:
    def __init__(self, *open_ids: str) -> None:
        self.open = set(open_ids)
        self.deleted: list[str] = []

    def exists(self, connection_id: str) -> bool:
        return connection_id in self.open

    def close(self, connection_id: str) -> None:
        self.deleted.append(connection_id)
        self.open.discard(connection_id)


class NoIntervals:
    def heartbeat_intervals(self, charge_point_ids: Sequence[str]) -> dict[str, int]:
        return {}


def a_connection(
    connection_id: str, charge_point_id: str, last_seen: datetime = SILENT_SINCE
) -> ConnectionRecord:
    return ConnectionRecord(
        connection_id, charge_point_id, "t1", "ocpp1.6", NOW - timedelta(hours=1), last_seen=last_seen
    )


def service(connections: FakeConnections, gateway: FakeGateway) -> tuple[LivenessService, list[DomainEvent]]:
    emitted: list[DomainEvent] = []
    return (
        LivenessService(
            connections,
            lambda: gateway,
            NoIntervals(),
            emitted.extend,
            heartbeat_interval=300,
            slack_seconds=60,
        ),
        emitted,
    )


def test_a_silent_charger_is_closed_and_reported_once() -> None:
    connections, gateway = FakeConnections(a_connection("c1", "CP-1")), FakeGateway("c1")
    liveness, emitted = service(connections, gateway)

    assert liveness.run(NOW)["silent"] == 1
    assert liveness.run(NOW)["offline"] == 0

    assert gateway.deleted == ["c1"]
    assert "c1" in connections.closed
    assert [(e.type, e.data["reason"]) for e in emitted] == [("ChargerWentOffline", "silent")]


def test_a_frame_after_the_scan_keeps_the_charger_online() -> None:
    connections, gateway = FakeConnections(a_connection("c1", "CP-1")), FakeGateway("c1")
    connections.after_scan.append(
        lambda: connections.records.update(c1=replace(connections.records["c1"], last_seen=NOW))
    )
    liveness, emitted = service(connections, gateway)

    assert liveness.run(NOW)["offline"] == 0
    assert (gateway.deleted, connections.closed, emitted) == ([], set(), [])


def test_a_frame_between_the_reread_and_the_close_keeps_it_online() -> None:
    # The conditional close sees a last_seen other than the one the decision was made on
    connections, gateway = FakeConnections(a_connection("c1", "CP-1")), FakeGateway("c1")
    original_exists = gateway.exists

    def exists_then_frame(connection_id: str) -> bool:
        connections.records["c1"] = replace(connections.records["c1"], last_seen=NOW)
        return original_exists(connection_id)

    gateway.exists = exists_then_frame  # type: ignore[method-assign]
    liveness, emitted = service(connections, gateway)

    assert liveness.run(NOW)["offline"] == 0
    assert (gateway.deleted, emitted) == ([], [])


def test_a_charger_that_reconnected_meanwhile_stays_online() -> None:
    connections, gateway = FakeConnections(a_connection("c1", "CP-1")), FakeGateway("c1", "c2")
    connections.after_scan.append(lambda: connections.current.update({"CP-1": "c2"}))
    liveness, emitted = service(connections, gateway)

    assert liveness.run(NOW)["offline"] == 0
    assert connections.current == {"CP-1": "c2"}
    assert gateway.deleted == ["c1"]  # the silent old socket is closed all the same
    assert emitted == []


def test_a_gone_connection_closed_by_its_late_disconnect_is_not_reported_again() -> None:
    connections, gateway = FakeConnections(a_connection("c1", "CP-1")), FakeGateway()
    connections.after_scan.append(lambda: connections.closed.add("c1"))
    connections.after_scan.append(lambda: connections.current.pop("CP-1"))
    liveness, emitted = service(connections, gateway)

    assert liveness.run(NOW)["offline"] == 0
    assert emitted == []


def test_a_recent_frame_is_never_questioned() -> None:
    connections = FakeConnections(a_connection("c1", "CP-1", last_seen=NOW - timedelta(seconds=659)))
    gateway = FakeGateway("c1")
    liveness, emitted = service(connections, gateway)

    assert liveness.run(NOW)["offline"] == 0
    assert liveness.run(NOW + timedelta(seconds=2))["silent"] == 1
    assert emitted[0].data["lastSeen"] == "2026-11-21T11:49:01.000Z"


def test_one_chargers_failure_does_not_stop_the_run() -> None:
    connections = FakeConnections(a_connection("c1", "CP-1"), a_connection("c2", "CP-2"))
    gateway = FakeGateway("c1", "c2")
    original_exists = gateway.exists

    def flaky(connection_id: str) -> bool:
        if connection_id == "c1":
            raise TimeoutError("@connections did not answer")
        return original_exists(connection_id)

    gateway.exists = flaky  # type: ignore[method-assign]
    liveness, emitted = service(connections, gateway)

    result = liveness.run(NOW)

    assert (result["errors"], result["silent"]) == (1, 1)
    assert [e.charge_point_id for e in emitted] == ["CP-2"]
    assert connections.current == {"CP-1": "c1"}  # nothing decided for it: the next run asks again
