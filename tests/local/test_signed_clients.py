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
from csms.domain import RegistrationStatus
from csms.errors import ConnectionGone
from csms.local.aws import LocalAws
from csms.local.gateway import LocalGateway
from csms.ports import ConnectionRecord

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
    assert store.unregister("s2") is False
    assert store.current_connection("CP-S2") == "s3"
    assert store.unregister("s3") is True
    assert store.current_connection("CP-S2") is None


def test_the_registration_status_follows_the_connection(store: DynamoConnectionStore) -> None:
    store.register(a_record("s4", "CP-S4", registration_status=RegistrationStatus.PENDING))
    store.set_registration_status("s4", RegistrationStatus.ACCEPTED)
    record = store.touch("s4", NOW)
    assert record is not None
    assert record.registration_status is RegistrationStatus.ACCEPTED
    assert store.ping() is True


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
            await asyncio.to_thread(sender.send, connection_id, '[3,"u1",{"ä":1}]')
            assert await asyncio.wait_for(charger.recv(), 5) == '[3,"u1",{"ä":1}]'
            await asyncio.to_thread(sender.close, connection_id)
            for _ in range(100):
                if not gateway.connections():
                    break
                await asyncio.sleep(0.01)
            with pytest.raises(ConnectionGone):
                await asyncio.to_thread(sender.send, connection_id, "[3]")
            await asyncio.to_thread(sender.close, connection_id)  # gone already: no error
    finally:
        await gateway.stop()
