"""The liveness job against the local stack: real chargers on the gateway emulator (whose
``@connections`` API answers GET and DELETE like API Gateway's), connection records in moto's
DynamoDB, events in PostgreSQL. Time is the job's ``now``: a charger's silence is made by
moving its recorded last frame into the past, never by waiting."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import call
from sqlalchemy import Engine, text

from csms.app import wiring
from csms.app.scheduled import run
from csms.aws.clients import client
from csms.data.database import PgDatabase
from csms.data.device_model import PgDeviceModelStore
from csms.domain.connections import ConnectionRecord
from csms.domain.device_model import VariableSource
from csms.domain.events import iso
from csms.local.stack import LocalStack
from csms.ocpp16.configuration import key_value
from csms.services.provisioning import ProvisioningService
from tests.integration.charger import SimulatedCharger, connected
from tests.integration.event_helpers import stored

pytestmark = pytest.mark.integration

TENANT = "acme"
#: The default heartbeat interval (Settings.heartbeat_interval) and the default slack.
INTERVAL = 300
SLACK = 60
THRESHOLD = timedelta(seconds=2 * INTERVAL + SLACK)


@pytest.fixture(autouse=True)
def quiet_table(stack: LocalStack, now: datetime) -> None:
    """Other tests' connection records are closed first, so each run judges only ours."""
    store = wiring.connections()
    for record in store.liveness_scan().open.values():
        store.close_stale(record.connection_id, now)
        store.release(record.charge_point_id, record.connection_id)


def dynamodb() -> Any:
    return client("dynamodb", wiring.settings().aws_region)


def item(connection_id: str) -> dict[str, Any]:
    found: dict[str, Any] = dynamodb().get_item(
        TableName=wiring.settings().connections_table,
        Key={"pk": {"S": f"conn#{connection_id}"}},
        ConsistentRead=True,
    )["Item"]
    return found


def last_frame_at(connection_id: str, at: datetime) -> None:
    """As if the connection's last frame had arrived at ``at``."""
    dynamodb().update_item(
        TableName=wiring.settings().connections_table,
        Key={"pk": {"S": f"conn#{connection_id}"}},
        UpdateExpression="SET last_seen = :at",
        ExpressionAttributeValues={":at": {"S": at.isoformat()}},
    )


def connection_of(charge_point_id: str) -> str:
    connection_id = wiring.connections().current_connection(charge_point_id)
    assert connection_id is not None
    return connection_id


async def liveness(now: datetime) -> dict[str, Any]:
    # In a thread: DELETE @connections waits for the charger (this event loop) to close.
    return await asyncio.to_thread(run, "liveness", now)


def offline_events(engine: Engine) -> list[dict[str, Any]]:
    return stored(engine, "ChargerWentOffline")


def configure_interval(engine: Engine, charge_point_id: str, seconds: int, at: datetime) -> None:
    """What a GetConfiguration answer leaves: the HeartbeatInterval key, mapped onto
    OCPPCommCtrlr.HeartbeatInterval."""
    PgDeviceModelStore(PgDatabase(engine)).record(
        TENANT,
        charge_point_id,
        [key_value("HeartbeatInterval", str(seconds), readonly=False)],
        VariableSource.GET_CONFIGURATION,
        at,
    )


async def closed_by_server(charger: SimulatedCharger) -> int | None:
    socket = charger._connection
    await asyncio.wait_for(socket.wait_closed(), 10)
    return socket.close_code  # type: ignore[no-any-return]


async def test_a_silent_charger_goes_offline_and_an_active_one_stays(
    stack: LocalStack, engine: Engine, provisioning: ProvisioningService, now: datetime
) -> None:
    provisioning.add_charger("LIVE-SILENT", TENANT, now, security_profile=0)
    provisioning.add_charger("LIVE-ACTIVE", TENANT, now, security_profile=0)
    async with connected(stack, "LIVE-SILENT") as silent, connected(stack, "LIVE-ACTIVE") as active:
        await silent.call(call.Heartbeat())
        await active.call(call.Heartbeat())
        silent_connection, active_connection = connection_of("LIVE-SILENT"), connection_of("LIVE-ACTIVE")
        # Given one charger whose last frame is just over 2 x 300 s + 60 s old, the other's
        # a moment ago
        last_seen = now - THRESHOLD - timedelta(seconds=1)
        last_frame_at(silent_connection, last_seen)

        # When the job runs
        result = await liveness(now)

        # Then the silent one's connection is closed server-side (a live charger reconnects)
        assert await closed_by_server(silent) == 1000
        assert (result["silent"], result["connection_gone"], result["offline"]) == (1, 0, 1)
        # its record is closed as $disconnect closes it, and it is no longer online
        assert "closed_at" in item(silent_connection)
        assert wiring.connections().current_connection("LIVE-SILENT") is None
        # and the active one is untouched
        assert wiring.connections().current_connection("LIVE-ACTIVE") == active_connection
        assert "closed_at" not in item(active_connection)
        assert (await active.call(call.Heartbeat())).current_time

    # One event, for the silent charger only, that says why
    events = offline_events(engine)
    assert [(e["tenantId"], e["stationId"]) for e in events] == [(TENANT, "LIVE-SILENT")]
    assert events[0]["data"] == {
        "connectionId": silent_connection,
        "lastSeen": iso(last_seen),
        "reason": "silent",
        "heartbeatInterval": INTERVAL,
    }
    assert events[0]["correlationId"].startswith("job:liveness:")
    # The connection's own $disconnect found the record closed: no second event about it
    disconnected = [e for e in stored(engine, "ChargerDisconnected") if e["stationId"] == "LIVE-SILENT"]
    assert disconnected == []


async def test_a_second_run_changes_nothing(
    stack: LocalStack, engine: Engine, provisioning: ProvisioningService, now: datetime
) -> None:
    provisioning.add_charger("LIVE-TWICE", TENANT, now, security_profile=0)
    async with connected(stack, "LIVE-TWICE") as charger:
        await charger.call(call.Heartbeat())
        last_frame_at(connection_of("LIVE-TWICE"), now - THRESHOLD - timedelta(minutes=5))
        first = await liveness(now)
        await closed_by_server(charger)
    assert first["offline"] == 1

    # Run again, and again later: nothing new
    second = await liveness(now)
    third = await liveness(now + timedelta(hours=1))

    assert second["offline"] == third["offline"] == 0
    assert len(offline_events(engine)) == 1


async def test_concurrent_runs_take_a_charger_offline_once(
    stack: LocalStack, engine: Engine, provisioning: ProvisioningService, now: datetime
) -> None:
    provisioning.add_charger("LIVE-RACE", TENANT, now, security_profile=0)
    async with connected(stack, "LIVE-RACE") as charger:
        await charger.call(call.Heartbeat())
        last_frame_at(connection_of("LIVE-RACE"), now - THRESHOLD - timedelta(minutes=1))
        results = await asyncio.gather(*(liveness(now) for _ in range(3)))
        await closed_by_server(charger)
    assert sum(r["offline"] for r in results) == 1
    assert len(offline_events(engine)) == 1


async def test_a_gone_connection_is_cleaned_up_with_an_event(
    stack: LocalStack, engine: Engine, provisioning: ProvisioningService, now: datetime
) -> None:
    # Given a charger whose connection API Gateway no longer knows ($disconnect never came)
    provisioning.add_charger("LIVE-GONE", TENANT, now, security_profile=0)
    connected_at = now - timedelta(minutes=20)
    store = wiring.connections()
    store.register(ConnectionRecord("GoneConnectio1=", "LIVE-GONE", TENANT, "ocpp1.6", connected_at))
    # and a record of a replaced connection that is no charger's current one any more
    store.register(ConnectionRecord("OrphanConnect1=", "LIVE-ORPHAN", TENANT, "ocpp1.6", connected_at))
    store.release("LIVE-ORPHAN", "OrphanConnect1=")

    result = await liveness(now)

    # Then the charger is offline, its record closed, and the event says the connection was gone
    assert (result["connection_gone"], result["records_closed"]) == (1, 1)
    assert store.current_connection("LIVE-GONE") is None
    assert "closed_at" in item("GoneConnectio1=")
    # the orphan record is closed too, without an event (its charger's state did not change)
    assert "closed_at" in item("OrphanConnect1=")
    (event,) = offline_events(engine)
    assert (event["stationId"], event["data"]) == (
        "LIVE-GONE",
        {
            "connectionId": "GoneConnectio1=",
            "lastSeen": iso(connected_at),
            "reason": "connection-gone",
            "heartbeatInterval": INTERVAL,
        },
    )
    assert (await liveness(now))["records_closed"] == 0


async def test_a_current_connection_item_without_an_open_record_is_released(
    stack: LocalStack, engine: Engine, provisioning: ProvisioningService, now: datetime
) -> None:
    # Given a $disconnect that closed the record but died before releasing the charger
    provisioning.add_charger("LIVE-HALF", TENANT, now, security_profile=0)
    store = wiring.connections()
    store.register(
        ConnectionRecord("HalfClosed0001=", "LIVE-HALF", TENANT, "ocpp1.6", now - timedelta(hours=1))
    )
    store.close_stale("HalfClosed0001=", now - timedelta(minutes=30))
    assert store.current_connection("LIVE-HALF") == "HalfClosed0001="

    result = await liveness(now)

    assert result["connection_gone"] == 1
    assert store.current_connection("LIVE-HALF") is None
    (event,) = offline_events(engine)
    assert event["data"]["reason"] == "connection-gone"


async def test_each_chargers_heartbeat_interval_sets_its_limit(
    stack: LocalStack, engine: Engine, provisioning: ProvisioningService, now: datetime
) -> None:
    # FAST heartbeats every 60 s (limit 180 s), SLOW every 900 s (limit 1860 s); DEFAULT
    # uses 300 s (limit 660 s), and so does STALE: its 60 s was configured before its last
    # boot, whose answer set the interval again.
    chargers = ("LIVE-FAST", "LIVE-SLOW", "LIVE-DEFAULT", "LIVE-STALE")
    for charge_point_id in chargers:
        provisioning.add_charger(charge_point_id, TENANT, now, security_profile=0)
    configure_interval(engine, "LIVE-FAST", 60, now - timedelta(hours=1))
    configure_interval(engine, "LIVE-SLOW", 900, now - timedelta(hours=1))
    configure_interval(engine, "LIVE-STALE", 60, now - timedelta(hours=2))
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE charge_points SET last_boot_at = :at WHERE id = 'LIVE-STALE'"),
            {"at": now - timedelta(hours=1)},
        )
    async with AsyncExitStack() as stack_of_chargers:
        sockets = {cp: await stack_of_chargers.enter_async_context(connected(stack, cp)) for cp in chargers}
        for charger in sockets.values():
            await charger.call(call.Heartbeat())
        # Given FAST, DEFAULT and STALE silent for 200 s, SLOW for 1000 s
        silence = {"LIVE-FAST": 200, "LIVE-SLOW": 1000, "LIVE-DEFAULT": 200, "LIVE-STALE": 200}
        for charge_point_id, seconds in silence.items():
            last_frame_at(connection_of(charge_point_id), now - timedelta(seconds=seconds))

        result = await liveness(now)

        # Then only FAST went offline
        assert await closed_by_server(sockets["LIVE-FAST"]) == 1000
        assert result["offline"] == 1
        for charge_point_id in ("LIVE-SLOW", "LIVE-DEFAULT", "LIVE-STALE"):
            assert wiring.connections().current_connection(charge_point_id) is not None

        # And each of the others goes at its own limit: 660 s of silence, then 1860 s
        assert (await liveness(now + timedelta(seconds=460)))["offline"] == 0
        assert (await liveness(now + timedelta(seconds=461)))["offline"] == 2
        assert (await liveness(now + timedelta(seconds=860)))["offline"] == 0
        assert (await liveness(now + timedelta(seconds=861)))["offline"] == 1

    intervals = {e["stationId"]: e["data"]["heartbeatInterval"] for e in offline_events(engine)}
    assert intervals == {"LIVE-FAST": 60, "LIVE-DEFAULT": 300, "LIVE-STALE": 300, "LIVE-SLOW": 900}
    assert len(offline_events(engine)) == 4
