"""Domain events, end to end: a real charger over a real WebSocket and operators through the
REST API change state; the events land in PostgreSQL in the same transaction, reach the
EventBridge bus (moto) after the commit, and match their published schemas."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import call
from sqlalchemy import Engine, text

from csms.app import wiring
from csms.app.scheduled import run as run_job
from csms.local.stack import LocalStack
from csms.services.provisioning import ProvisioningService
from tests.integration.api_client import ApiClient
from tests.integration.charger import connected, open_socket, raw_exchange
from tests.integration.command_helpers import eventually, provision, send
from tests.integration.event_helpers import BusTap, data_of, stored

pytestmark = pytest.mark.integration

CP = "EVT-1"
T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def tap(stack: LocalStack) -> BusTap:
    settings = wiring.settings()
    assert settings.event_bus_name
    return BusTap(settings.aws_region, settings.event_bus_name)


@pytest.fixture(autouse=True)
def drained(tap: BusTap) -> None:
    tap.drain()


def meter_values(transaction_id: int, minute: float, wh: int) -> call.MeterValues:
    return call.MeterValues(
        connector_id=1,
        transaction_id=transaction_id,
        meter_value=[
            {
                "timestamp": at(minute),
                "sampledValue": [
                    {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                    {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
                ],
            }
        ],
    )


async def test_a_charging_session_produces_each_event_once_with_its_content(
    stack: LocalStack, provisioning: ProvisioningService, engine: Engine, tap: BusTap, now: datetime
) -> None:
    provisioning.add_charger(CP, "tenant-e", now, security_profile=0)
    async with connected(stack, CP) as cp:
        boot = await cp.call(call.BootNotification(charge_point_vendor="ACME", charge_point_model="X1"))
        status = call.StatusNotification(
            connector_id=1, error_code="NoError", status="Available", timestamp=at(0)
        )
        await cp.call(status)
        await cp.call(status)  # a repeat: no change, no event
        preparing = call.StatusNotification(
            connector_id=1, error_code="NoError", status="Preparing", timestamp=at(1)
        )
        await cp.call(preparing)
        # an older report arriving late does not become the latest: no event
        await cp.call(
            call.StatusNotification(
                connector_id=1, error_code="NoError", status="Available", timestamp=at(0.5)
            )
        )
        start = call.StartTransaction(connector_id=1, id_tag="TAG-E", meter_start=1000, timestamp=at(2))
        started = await cp.call(start)
        again = await cp.call(start)  # a retried frame: same transaction, no second event
        await cp.call(meter_values(started.transaction_id, 10, 2500))
        await cp.call(meter_values(started.transaction_id, 10, 2500))  # retried
        stop = call.StopTransaction(
            transaction_id=started.transaction_id,
            meter_stop=4000,
            timestamp=at(30),
            reason="Local",
            id_tag="TAG-E",
        )
        await cp.call(stop)
        await cp.call(stop)  # retried
        await cp.call(call.StopTransaction(transaction_id=999_999, meter_stop=5, timestamp=at(31)))
        await cp.call(call.StopTransaction(transaction_id=999_999, meter_stop=5, timestamp=at(31)))
    assert boot.status == "Accepted"
    assert again.transaction_id == started.transaction_id

    events = await eventually(
        lambda: asyncio.to_thread(stored, engine), lambda found: data_of(found, "ChargerDisconnected") != []
    )
    assert [e["type"] for e in events] == [
        "ChargerConnected",
        "ChargerBooted",
        "ConnectorStatusChanged",
        "ConnectorStatusChanged",
        "TransactionStarted",
        "MeterValuesReceived",
        "TransactionStopped",
        "UnknownTransactionStopRecorded",
        "ChargerDisconnected",
    ]
    assert {(e["tenantId"], e["stationId"]) for e in events} == {("tenant-e", CP)}
    [connected_] = data_of(events, "ChargerConnected")
    assert connected_["protocol"] == "ocpp1.6"
    assert connected_["registrationStatus"] == "Accepted"
    assert connected_["replacedConnectionId"] is None
    [booted] = data_of(events, "ChargerBooted")
    assert booted == {
        "registrationStatus": "Accepted",
        "heartbeatInterval": boot.interval,
        "vendor": "ACME",
        "model": "X1",
        "serialNumber": None,
        "chargeBoxSerialNumber": None,
        "firmwareVersion": None,
        "meterType": None,
        "meterSerialNumber": None,
        "bootReason": None,  # 1.6 gives none
        "openTransactionRefs": [],
    }
    first, second = data_of(events, "ConnectorStatusChanged")
    assert (first["status"], first["previousStatus"], first["statusTimestamp"]) == (
        "Available",
        None,
        "2026-11-21T10:00:00.000Z",
    )
    assert (second["status"], second["previousStatus"], second["errorCode"]) == (
        "Preparing",
        "Available",
        "NoError",
    )
    # 1.6 connector 1 is EVSE 1 connector 1; Preparing is Occupied with the EV connected
    assert (second["evseId"], second["connectorId"], second["state"], second["chargingState"]) == (
        1,
        1,
        "Occupied",
        "EVConnected",
    )
    assert (second["previousState"], second["previousChargingState"]) == ("Available", "Idle")
    [started_event] = data_of(events, "TransactionStarted")
    assert started_event == {
        "transactionRef": started.transaction_id,  # ours, which a 1.6 charger is given
        "transactionId": str(started.transaction_id),  # the protocol's, as text
        "protocol": "ocpp1.6",
        "evseId": 1,
        "connectorId": 1,
        "idToken": {"idToken": "TAG-E", "type": None},  # a 1.6 id tag has no type
        "meterStart": 1000,
        "startTimestamp": "2026-11-21T10:02:00.000Z",
        "reservationId": None,
        "remoteStartId": None,
        "authorizationStatus": "Unknown",  # not provisioned (1.6 hears Invalid): recorded all the same
        "deauthorized": True,
    }
    [samples] = data_of(events, "MeterValuesReceived")
    assert (samples["evseId"], samples["transactionRef"], samples["transactionId"]) == (
        1,
        started.transaction_id,
        str(started.transaction_id),
    )
    assert samples["newSamples"] == 2
    assert [(s["measurand"], s["value"], s["unit"]) for s in samples["samples"]] == [
        ("Energy.Active.Import.Register", "2500", "Wh"),
        ("Power.Active.Import", "7200", "W"),
    ]
    [stopped] = data_of(events, "TransactionStopped")
    assert (stopped["meterStop"], stopped["energyWh"], stopped["reason"], stopped["closedBy"]) == (
        4000,
        3000,
        "Local",
        "charger",
    )
    assert stopped["deauthorized"] is True  # the tag was unknown: no charging session
    [unknown] = data_of(events, "UnknownTransactionStopRecorded")
    assert (unknown["transactionId"], unknown["meterStop"]) == ("999999", 5)

    # Each charger frame's events carry the frame as correlation id; the connection's carry it.
    by_type = {e["type"]: e for e in events}
    assert by_type["ChargerConnected"]["correlationId"] == f"connection:{connected_['connectionId']}"
    assert by_type["ChargerDisconnected"]["correlationId"] == f"connection:{connected_['connectionId']}"
    assert by_type["TransactionStarted"]["correlationId"].startswith(f"ocpp:{CP}:")
    assert len({e["correlationId"] for e in events}) == len(events) - 1  # all but the connection's pair

    # Every event reached the bus once the relay published it, with the same envelope.
    delivered = await eventually(
        lambda: asyncio.to_thread(tap.drain), lambda got: len(got) >= len(events), timeout=5
    )
    assert sorted(d["detail"]["id"] for d in delivered) == sorted(e["id"] for e in events)
    for item in delivered:
        assert item["source"] == "csms"
        assert item["detail-type"] == item["detail"]["type"]
    # (the relay marks the rows after PutEvents returned)
    published = await eventually(
        lambda: asyncio.to_thread(stored, engine), lambda found: all(e["published"] for e in found)
    )
    assert all(e["published"] for e in published)


async def test_a_booting_charger_reports_its_open_transactions(
    stack: LocalStack, provisioning: ProvisioningService, engine: Engine, now: datetime
) -> None:
    provisioning.add_charger(CP, "tenant-e", now, security_profile=0)
    async with connected(stack, CP) as cp:
        started = await cp.call(
            call.StartTransaction(connector_id=2, id_tag="T", meter_start=0, timestamp=at(0))
        )
        await cp.call(call.BootNotification(charge_point_vendor="ACME", charge_point_model="X1"))
    [booted] = data_of(stored(engine, "ChargerBooted"), "ChargerBooted")
    assert booted["openTransactionRefs"] == [started.transaction_id]


async def test_commands_and_reservations_produce_events(
    stack: LocalStack, api: ApiClient, engine: Engine
) -> None:
    operator = provision(api, "tenant-c", "EVT-CMD")
    async with connected(stack, "EVT-CMD"):
        # The simulated charger has no handler for Reset: the ocpp library answers NotImplemented.
        failed = await send(operator, "EVT-CMD", "reset", {"type": "Immediate"})
    assert failed.body["status"] == "failed"
    [finished] = data_of(stored(engine, "CommandFinished"), "CommandFinished")
    assert finished["commandId"] == failed.body["id"]
    assert (finished["name"], finished["action"], finished["status"], finished["errorCode"]) == (
        "reset",
        "Reset",
        "failed",
        "NotImplemented",
    )
    [event] = stored(engine, "CommandFinished")
    assert event["correlationId"] == f"command:{failed.body['id']}"
    assert event["tenantId"] == "tenant-c"


async def test_reservation_lifecycle_events(
    stack: LocalStack, api: ApiClient, engine: Engine, provisioning: ProvisioningService
) -> None:
    from tests.integration.test_commands_reservation import ReservingCharger, start_transaction

    operator = provision(api, "tenant-r", "EVT-RES")
    expiry = datetime.now(UTC) + timedelta(hours=1)
    async with connected(stack, "EVT-RES", ReservingCharger) as charger:
        used = await send(
            operator,
            "EVT-RES",
            "reserve-now",
            {"evseId": 1, "expiryDateTime": expiry.isoformat(), "idToken": {"idToken": "D1"}},
        )
        expiring = await send(
            operator,
            "EVT-RES",
            "reserve-now",
            {"evseId": 1, "expiryDateTime": expiry.isoformat(), "idToken": {"idToken": "D2"}},
        )
        # this charger's connector 2 is occupied: a refused reservation
        refused = await send(
            operator,
            "EVT-RES",
            "reserve-now",
            {"evseId": 2, "expiryDateTime": expiry.isoformat(), "idToken": {"idToken": "D3"}},
        )
        used_id = used.body["request"]["reservationId"]
        started = await charger.call(start_transaction(used_id))
    # the reservations job, run as if two hours later, expires the other one
    result = await asyncio.to_thread(run_job, "reservations", datetime.now(UTC) + timedelta(hours=2))
    assert result == {"expired": 1, "status_requested": 0}
    assert await asyncio.to_thread(run_job, "reservations", datetime.now(UTC) + timedelta(hours=2)) == {
        "expired": 0,
        "status_requested": 0,
    }
    changes = [
        (d["reservationId"], d["status"], d["transactionRef"])
        for d in data_of(stored(engine, "ReservationStateChanged"), "ReservationStateChanged")
    ]
    expiring_id = expiring.body["request"]["reservationId"]
    refused_id = refused.body["request"]["reservationId"]
    assert changes == [
        (used_id, "requested", None),
        (used_id, "active", None),
        (expiring_id, "requested", None),
        (expiring_id, "active", None),
        (refused_id, "requested", None),
        (refused_id, "rejected", None),
        (used_id, "used", started.transaction_id),
        (expiring_id, "expired", None),
    ]
    events = stored(engine, "ReservationStateChanged")
    assert events[0]["correlationId"] == f"command:{used.body['id']}"
    assert events[-1]["correlationId"].startswith("job:reservations:")


def attempts_of(engine: Engine) -> list[tuple[int, str]]:
    """(publish attempts, last error) of the events that failed at least once."""
    with engine.connect() as conn:
        return [
            (int(r[0]), str(r[1]))
            for r in conn.execute(
                text(
                    "SELECT publish_attempts, last_error FROM domain_events "
                    "WHERE publish_attempts > 0 ORDER BY sequence"
                )
            )
        ]


async def test_a_bus_outage_neither_fails_the_frame_nor_loses_the_event(
    stack: LocalStack, provisioning: ProvisioningService, engine: Engine, tap: BusTap, now: datetime
) -> None:
    provisioning.add_charger(CP, "tenant-e", now, security_profile=0)
    relay = wiring.event_relay()
    working = relay._publisher

    class Down:
        def publish(self, events: Any) -> dict[int, str]:
            raise ConnectionError("EventBridge unreachable")

    relay._publisher = Down()
    try:
        socket = await open_socket(stack, CP)
        try:
            answer = await raw_exchange(
                socket,
                '[2,"s1","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Faulted"}]',
            )
            # (the relay publishes after answering: wait until it tried)
            await eventually(lambda: asyncio.to_thread(attempts_of, engine), lambda found: len(found) == 2)
        finally:
            await socket.close()
    finally:
        relay._publisher = working
    # The charger got its answer; the events are recorded but not on the bus.
    assert answer == [3, "s1", {}]
    # connected, status, disconnected (the disconnect published fine, just after it was
    # stored: wait for that too, a loaded machine shows the moment in between)
    pending = await eventually(
        lambda: asyncio.to_thread(stored, engine), lambda found: len(found) == 3 and found[-1]["published"]
    )
    assert [(e["type"], e["published"]) for e in pending] == [
        ("ChargerConnected", False),
        ("ConnectorStatusChanged", False),
        ("ChargerDisconnected", True),
    ]
    attempts = attempts_of(engine)
    assert [a[0] for a in attempts] == [1, 1]
    assert "EventBridge unreachable" in attempts[0][1]
    tap.drain()
    # The event-delivery job publishes them once they are older than its grace period.
    result = await asyncio.to_thread(run_job, "event-delivery", datetime.now(UTC) + timedelta(minutes=2))
    assert (result["published"], result["backlog"]) == (2, 0)
    assert sorted(d["detail"]["type"] for d in tap.drain()) == ["ChargerConnected", "ConnectorStatusChanged"]
    assert all(e["published"] for e in stored(engine))


async def test_events_that_never_publish_are_dead_lettered(
    stack: LocalStack, provisioning: ProvisioningService, engine: Engine, now: datetime
) -> None:
    from csms.aws.clients import client

    provisioning.add_charger(CP, "tenant-e", now, security_profile=0)
    relay = wiring.event_relay()
    working = relay._publisher

    class Refusing:
        def publish(self, events: Any) -> dict[int, str]:
            return {stored.sequence: "ValidationException: too large" for stored in events}

    relay._publisher = Refusing()
    try:
        async with connected(stack, CP) as cp:
            await cp.call(call.BootNotification(charge_point_vendor="ACME", charge_point_model="X1"))
        await eventually(
            lambda: asyncio.to_thread(stored, engine, "ChargerDisconnected"), lambda found: found != []
        )
        later = datetime.now(UTC) + timedelta(minutes=2)
        for _ in range(wiring.settings().event_publish_max_attempts):
            result = await asyncio.to_thread(run_job, "event-delivery", later)
    finally:
        relay._publisher = working
    assert result["backlog"] == 0
    with engine.connect() as conn:
        dead = (
            conn.execute(
                text("SELECT type FROM domain_events WHERE dead_lettered_at IS NOT NULL ORDER BY sequence")
            )
            .scalars()
            .all()
        )
    assert dead == ["ChargerConnected", "ChargerBooted", "ChargerDisconnected"]
    sqs = client("sqs", wiring.settings().aws_region)
    queue = wiring.settings().events_dead_letter_queue_url
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    import json

    assert sorted(json.loads(m["Body"])["type"] for m in messages) == sorted(dead)


async def test_each_command_outcome_is_one_command_finished_event(
    stack: LocalStack, api: ApiClient, engine: Engine
) -> None:
    import json

    operator = provision(api, "tenant-c", "EVT-CMD2")
    socket = await open_socket(stack, "EVT-CMD2")
    try:
        accepted = asyncio.create_task(send(operator, "EVT-CMD2", "clear-cache", {}))
        frame = json.loads(await asyncio.wait_for(socket.recv(), 10))
        await socket.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
        rejected = asyncio.create_task(send(operator, "EVT-CMD2", "unlock-connector", {"evseId": 1}))
        frame = json.loads(await asyncio.wait_for(socket.recv(), 10))
        await socket.send(json.dumps([3, frame[1], {"status": "NotSupported"}]))
        accepted_reply, rejected_reply = await accepted, await rejected
        # nobody answers this one; the command-timeouts job runs as if five minutes later
        unanswered = await send(operator, "EVT-CMD2", "reset", {"type": "Hard"}, wait=0)
        await asyncio.wait_for(socket.recv(), 10)
        swept = await asyncio.to_thread(run_job, "command-timeouts", datetime.now(UTC) + timedelta(minutes=5))
        again = await asyncio.to_thread(run_job, "command-timeouts", datetime.now(UTC) + timedelta(minutes=5))
    finally:
        await socket.close()
    assert (swept["timed_out"], again["timed_out"]) == (1, 0)
    finished = {d["commandId"]: d for d in data_of(stored(engine, "CommandFinished"), "CommandFinished")}
    assert finished[accepted_reply.body["id"]] == {
        "commandId": accepted_reply.body["id"],
        "name": "clear-cache",
        "action": "ClearCache",
        "status": "accepted",
        "response": {"status": "Accepted"},
        "errorCode": None,
        "reason": None,
    }
    assert (
        finished[rejected_reply.body["id"]]["status"],
        finished[rejected_reply.body["id"]]["response"],
    ) == (
        "rejected",
        {"status": "NotSupported"},
    )
    assert finished[unanswered.body["id"]]["status"] == "timed_out"
    assert len(finished) == 3


async def test_a_status_report_retried_concurrently_is_one_event(
    stack: LocalStack, provisioning: ProvisioningService, engine: Engine, now: datetime
) -> None:
    import json

    provisioning.add_charger(CP, "tenant-e", now, security_profile=0)
    report = {"connectorId": 1, "errorCode": "NoError", "status": "Charging", "timestamp": at(5)}
    socket = await open_socket(stack, CP)
    try:
        # The same report five times without waiting: the gateway runs the frames concurrently.
        for i in range(5):
            await socket.send(json.dumps([2, f"r{i}", "StatusNotification", report]))
        answers = [json.loads(await asyncio.wait_for(socket.recv(), 10)) for _ in range(5)]
    finally:
        await socket.close()
    assert sorted(a[1] for a in answers) == [f"r{i}" for i in range(5)]
    assert all(a[0] == 3 for a in answers)
    changes = data_of(stored(engine, "ConnectorStatusChanged"), "ConnectorStatusChanged")
    assert [(c["status"], c["previousStatus"]) for c in changes] == [("Charging", None)]
