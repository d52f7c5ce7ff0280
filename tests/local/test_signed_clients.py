"""The lean AWS clients over real HTTP: DynamoDB on moto's server, @connections on the
gateway emulator. The same behaviours the boto3-based tests check, through csms.aws.signed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import websockets

from csms.aws import signed
from csms.aws.connections import DynamoConnectionStore
from csms.aws.gateway import ApiGatewaySender
from csms.aws.provisioning import ensure_connections_table
from csms.domain.connections import ConnectionRecord
from csms.domain.stations import RegistrationStatus
from csms.errors import ConnectionGone
from csms.local.aws import LocalAws
from csms.local.gateway import LocalGateway

pytestmark = pytest.mark.integration

REGION = "eu-west-1"
TABLE = "csms-connections-signed"
NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
CREDENTIALS = signed.Credentials("testing", "testing")


@pytest.fixture(scope="module")
def store() -> Iterator[DynamoConnectionStore]:
    with LocalAws() as aws:
        ensure_connections_table(aws.endpoint_url, TABLE, REGION)
        yield DynamoConnectionStore(signed.DynamoDB(REGION, aws.endpoint_url, lambda: CREDENTIALS), TABLE)


def a_record(connection_id: str, charge_point_id: str = "CP-S1", **overrides: Any) -> ConnectionRecord:
    return ConnectionRecord(connection_id, charge_point_id, "t1", "ocpp1.6", NOW, **overrides)


def test_touch_finds_the_charger_and_records_liveness(store: DynamoConnectionStore) -> None:
    store.register(a_record("s1"))
    later = NOW + timedelta(minutes=5)
    record = store.touch("s1", later)
    assert record is not None
    assert (record.charge_point_id, record.tenant_id, record.last_seen) == ("CP-S1", "t1", later)
    assert store.touch("unknown", later) is None


def test_a_late_disconnect_does_not_take_a_reconnected_charger_offline(store: DynamoConnectionStore) -> None:
    assert store.register(a_record("s2", "CP-S2")) is None
    assert store.register(a_record("s3", "CP-S2")) == "s2"
    assert store.unregister("s2") is None
    assert store.current_connection("CP-S2") == "s3"
    assert store.unregister("s3") is not None
    assert store.current_connection("CP-S2") is None


def test_the_registration_status_follows_the_connection(store: DynamoConnectionStore) -> None:
    store.register(a_record("s4", "CP-S4", registration_status=RegistrationStatus.PENDING))
    store.set_registration_status("s4", RegistrationStatus.ACCEPTED)
    record = store.touch("s4", NOW)
    assert record is not None
    assert record.registration_status is RegistrationStatus.ACCEPTED
    assert store.ping() is True


def test_the_liveness_job_reads_and_closes_records_conditionally(store: DynamoConnectionStore) -> None:
    store.register(a_record("l1", "CP-L1"))
    store.touch("l1", NOW + timedelta(minutes=1))
    store.register(a_record("l2", "CP-L2"))
    store.register(a_record("l3", "CP-L2"))  # replaces l2, whose $disconnect never comes
    snapshot = store.liveness_scan()
    assert {cp: r.connection_id for cp, r in snapshot.current.items() if cp.startswith("CP-L")} == {
        "CP-L1": "l1",
        "CP-L2": "l3",
    }
    assert snapshot.open["l1"].last_seen == NOW + timedelta(minutes=1)
    assert {"l1", "l2", "l3"} <= set(snapshot.open)

    # Closing is conditional on the last frame read, and happens once
    assert store.close_stale("l1", NOW + timedelta(hours=1), if_last_seen=NOW) is None
    closed = store.close_stale("l1", NOW + timedelta(hours=1), if_last_seen=NOW + timedelta(minutes=1))
    assert closed is not None
    assert closed.charge_point_id == "CP-L1"
    assert store.close_stale("l1", NOW + timedelta(hours=1)) is None
    stored = store.open_connection("l1")
    assert stored is not None
    assert stored.closed
    assert "l1" not in store.liveness_scan().open

    # A charger is released only from the connection its current-connection item names
    assert store.release("CP-L1", "l1") is True
    assert store.release("CP-L1", "l1") is False
    assert store.release("CP-L2", "l2") is False
    assert store.current_connection("CP-L2") == "l3"
    assert store.open_connection("nope") is None


async def test_frames_reach_the_charger_and_a_closed_connection_is_gone() -> None:
    gateway = LocalGateway({}, port=0)
    await gateway.start()
    try:
        async with websockets.connect(f"ws://127.0.0.1:{gateway.port}/ocpp/CP-S5") as charger:
            for _ in range(100):
                if gateway.connections():
                    break
                await asyncio.sleep(0.01)
            (connection_id,) = gateway.connections()
            sender = ApiGatewaySender(
                signed.ApiGatewayManagement(REGION, gateway.management_endpoint, lambda: CREDENTIALS)
            )
            assert await asyncio.to_thread(sender.exists, connection_id) is True
            await asyncio.to_thread(sender.send, connection_id, '[3,"u1",{"ä":1}]')
            assert await asyncio.wait_for(charger.recv(), 5) == '[3,"u1",{"ä":1}]'
            await asyncio.to_thread(sender.close, connection_id)
            for _ in range(100):
                if not gateway.connections():
                    break
                await asyncio.sleep(0.01)
            with pytest.raises(ConnectionGone):
                await asyncio.to_thread(sender.send, connection_id, "[3]")
            assert await asyncio.to_thread(sender.exists, connection_id) is False
            await asyncio.to_thread(sender.close, connection_id)  # gone already: no error
    finally:
        await gateway.stop()
