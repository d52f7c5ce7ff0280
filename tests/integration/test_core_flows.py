"""Every Core message from a real charger over a real WebSocket, checked in PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v16 import call
from sqlalchemy import Engine

from csms.domain.tokens import AuthorizationStatus, IdToken
from csms.local.stack import LocalStack
from csms.services.provisioning import ProvisioningService
from tests.builders import a_meter_values, a_start_transaction, a_status_notification, a_stop_transaction
from tests.integration.charger import connected, open_socket, raw_exchange
from tests.integration.conftest import rows

pytestmark = pytest.mark.integration
CP = "CP-CORE"


@pytest.fixture
def charger(provisioning: ProvisioningService, now: datetime) -> str:
    provisioning.add_charger(CP, "acme", now, security_profile=0)
    provisioning.add_id_token("TAG1", "acme", now, group=IdToken("FLEET"))
    provisioning.add_id_token("BLOCKED", "acme", now, status=AuthorizationStatus.BLOCKED)
    provisioning.add_id_token("OLD", "acme", now, expiry_date=now - timedelta(days=1))
    provisioning.add_id_token("OTHER-TENANT", "globex", now)
    return CP


async def test_boot_and_heartbeat(stack: LocalStack, engine: Engine, charger: str) -> None:
    async with connected(stack, charger) as cp:
        boot = await cp.call(
            call.BootNotification(
                charge_point_model="Fast-22",
                charge_point_vendor="Acme",
                charge_point_serial_number="SN-9",
                charge_box_serial_number="BOX-9",
                firmware_version="4.2",
                iccid="8944",
                imsi="2620",
                meter_type="ABB",
                meter_serial_number="M-9",
            )
        )
        heartbeat = await cp.call(call.Heartbeat())
    assert boot.status == "Accepted"
    assert 0 < boot.interval <= 300
    assert datetime.fromisoformat(heartbeat.current_time).tzinfo is not None
    (stored,) = rows(
        engine,
        "SELECT vendor, model, serial_number, charge_box_serial_number, firmware_version, iccid, imsi, "
        "meter_type, meter_serial_number, last_boot_at IS NOT NULL AS booted "
        "FROM charge_points WHERE id = :id",
        id=charger,
    )
    assert stored == {
        "vendor": "Acme",
        "model": "Fast-22",
        "serial_number": "SN-9",
        "charge_box_serial_number": "BOX-9",
        "firmware_version": "4.2",
        "iccid": "8944",
        "imsi": "2620",
        "meter_type": "ABB",
        "meter_serial_number": "M-9",
        "booted": True,
    }


async def test_status_notifications_out_of_order_keep_the_newest(
    stack: LocalStack, engine: Engine, charger: str
) -> None:
    socket = await open_socket(stack, charger)
    # Given a newer status processed before an older one (frames race on API Gateway)
    newer = a_status_notification(status="Charging", timestamp="2026-11-21T10:05:00Z", info="plugged")
    older = a_status_notification(status="Preparing", timestamp="2026-11-21T10:04:00Z")
    assert (await raw_exchange(socket, json.dumps([2, "s1", "StatusNotification", newer])))[0] == 3
    assert (await raw_exchange(socket, json.dumps([2, "s2", "StatusNotification", older])))[0] == 3
    # and the charger itself (connector 0) reports a fault with vendor details
    fault = a_status_notification(
        connectorId=0,
        status="Faulted",
        errorCode="OtherError",
        vendorId="acme",
        vendorErrorCode="E42",
        timestamp="2026-11-21T10:06:00Z",
    )
    assert (await raw_exchange(socket, json.dumps([2, "s3", "StatusNotification", fault])))[0] == 3
    await socket.close()
    # Then the latest status per connector is the newest, and history keeps both
    assert rows(
        engine,
        "SELECT connector_id, status, error_code, info, vendor_id, vendor_error_code, tenant_id "
        "FROM connectors ORDER BY connector_id",
    ) == [
        {
            "connector_id": 0,
            "status": "Faulted",
            "error_code": "OtherError",
            "info": None,
            "vendor_id": "acme",
            "vendor_error_code": "E42",
            "tenant_id": "acme",
        },
        {
            "connector_id": 1,
            "status": "Charging",
            "error_code": "NoError",
            "info": "plugged",
            "vendor_id": None,
            "vendor_error_code": None,
            "tenant_id": "acme",
        },
    ]
    history = rows(
        engine, "SELECT status FROM connector_status_history WHERE connector_id = 1 ORDER BY status_timestamp"
    )
    assert [h["status"] for h in history] == ["Preparing", "Charging"]


async def test_a_status_dated_in_the_future_does_not_hide_the_reports_after_it(
    stack: LocalStack, engine: Engine, charger: str
) -> None:
    socket = await open_socket(stack, charger)
    # Given a charger whose clock jumped years ahead reports its connector Faulted
    wrong_clock = a_status_notification(
        status="Faulted", errorCode="OtherError", timestamp="2099-01-01T00:00:00Z"
    )
    assert (await raw_exchange(socket, json.dumps([2, "s1", "StatusNotification", wrong_clock])))[0] == 3
    # When, its clock fixed, it reports the connector Available again
    fixed = a_status_notification(
        status="Available", timestamp=(datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    )
    assert (await raw_exchange(socket, json.dumps([2, "s2", "StatusNotification", fixed])))[0] == 3
    await socket.close()
    # Then the connector is Available (the future report counted as sent on arrival)
    assert rows(engine, "SELECT status FROM connectors WHERE connector_id = 1") == [{"status": "Available"}]
    # and the history keeps what the charger said, its own timestamp included
    history = rows(
        engine,
        "SELECT status, to_char(status_timestamp AT TIME ZONE 'UTC', 'YYYY') AS year "
        "FROM connector_status_history WHERE connector_id = 1 ORDER BY received_at",
    )
    assert history == [
        {"status": "Faulted", "year": "2099"},
        {"status": "Available", "year": str(datetime.now(UTC).year)},
    ]


async def test_authorize_good_bad_and_unknown_tags(stack: LocalStack, charger: str) -> None:
    async with connected(stack, charger) as cp:
        good = await cp.call(call.Authorize(id_tag="TAG1"))
        blocked = await cp.call(call.Authorize(id_tag="BLOCKED"))
        expired = await cp.call(call.Authorize(id_tag="OLD"))
        unknown = await cp.call(call.Authorize(id_tag="NOBODY"))
        foreign = await cp.call(call.Authorize(id_tag="OTHER-TENANT"))
    assert good.id_tag_info == {"status": "Accepted", "parent_id_tag": "FLEET"}
    assert blocked.id_tag_info == {"status": "Blocked"}
    assert expired.id_tag_info["status"] == "Expired"
    assert unknown.id_tag_info == {"status": "Invalid"}
    assert foreign.id_tag_info == {"status": "Invalid"}  # tags are per tenant


async def test_a_full_transaction_with_meter_values(stack: LocalStack, engine: Engine, charger: str) -> None:
    async with connected(stack, charger) as cp:
        started = await cp.call(
            call.StartTransaction(
                connector_id=1,
                id_tag="TAG1",
                meter_start=1000,
                timestamp="2026-11-21T10:00:00Z",
                reservation_id=7,
            )
        )
        tx = started.transaction_id
        await cp.call(
            call.MeterValues(
                connector_id=1, transaction_id=tx, meter_value=a_meter_values(samples=10)["meterValue"]
            )
        )
        stopped = await cp.call(
            call.StopTransaction(
                meter_stop=5000,
                timestamp="2026-11-21T11:00:00Z",
                transaction_id=tx,
                reason="EVDisconnected",
                id_tag="TAG1",
                transaction_data=[
                    {
                        "timestamp": "2026-11-21T11:00:00Z",
                        "sampledValue": [{"value": "5000", "context": "Transaction.End"}],
                    }
                ],
            )
        )
    assert started.id_tag_info == {"status": "Accepted", "parent_id_tag": "FLEET"}
    assert stopped.id_tag_info == {"status": "Accepted", "parent_id_tag": "FLEET"}
    (transaction,) = rows(
        engine,
        "SELECT id, transaction_id, tenant_id, evse_id, connector_id, id_token, meter_start, meter_stop, "
        "reservation_id, stop_reason, stop_id_token, start_timestamp, stop_timestamp FROM transactions",
    )
    assert (transaction["id"], transaction["transaction_id"]) == (tx, str(tx))
    assert (transaction["evse_id"], transaction["connector_id"], transaction["id_token"]) == (1, 1, "TAG1")
    assert (
        transaction["tenant_id"],
        transaction["meter_start"],
        transaction["meter_stop"],
        transaction["reservation_id"],
    ) == ("acme", 1000, 5000, 7)
    assert (transaction["stop_reason"], transaction["stop_id_token"]) == ("EVDisconnected", "TAG1")
    assert transaction["stop_timestamp"] - transaction["start_timestamp"] == timedelta(hours=1)  # type: ignore[operator]
    samples = rows(
        engine,
        "SELECT measurand, phase, context, value, numeric_value, transaction_id "
        "FROM meter_samples ORDER BY context, value",
    )
    assert len(samples) == 11
    assert all(s["transaction_id"] == tx for s in samples)
    assert samples[0] == {
        "measurand": "Energy.Active.Import.Register",
        "phase": "",
        "context": "Sample.Periodic",
        "value": "1000",
        "numeric_value": 1000.0,
        "transaction_id": tx,
    }
    assert samples[-1]["context"] == "Transaction.End"


async def test_retried_start_stop_and_meter_values_change_nothing(
    stack: LocalStack, engine: Engine, charger: str
) -> None:
    socket = await open_socket(stack, charger)
    start = json.dumps([2, "st-1", "StartTransaction", a_start_transaction()])
    first = await raw_exchange(socket, start)
    retry = await raw_exchange(socket, start.replace("st-1", "st-2"))
    tx = first[2]["transactionId"]
    assert retry[2]["transactionId"] == tx
    meter = json.dumps([2, "mv-1", "MeterValues", a_meter_values(samples=4, transaction_id=tx)])
    for _ in range(3):
        assert (await raw_exchange(socket, meter))[0] == 3
    stop = json.dumps([2, "sp-1", "StopTransaction", a_stop_transaction(tx)])
    assert (await raw_exchange(socket, stop))[0] == 3
    assert (await raw_exchange(socket, stop))[0] == 3
    await socket.close()
    assert rows(engine, "SELECT count(*) AS n FROM transactions") == [{"n": 1}]
    assert rows(engine, "SELECT count(*) AS n FROM meter_samples") == [{"n": 4}]
    assert rows(engine, "SELECT meter_stop FROM transactions") == [{"meter_stop": 5000}]
    assert rows(engine, "SELECT count(*) AS n FROM unknown_transaction_stops") == [{"n": 0}]


async def test_concurrent_duplicate_starts_get_one_transaction(
    stack: LocalStack, engine: Engine, charger: str
) -> None:
    # Frames are separate invocations: a charger's retry can race its original.
    socket = await open_socket(stack, charger)
    payload = a_start_transaction()
    for i in range(5):
        await socket.send(json.dumps([2, f"dup-{i}", "StartTransaction", payload]))
    answers = [json.loads(await asyncio.wait_for(socket.recv(), 10)) for _ in range(5)]
    await socket.close()
    assert len({a[2]["transactionId"] for a in answers}) == 1
    assert rows(engine, "SELECT count(*) AS n FROM transactions") == [{"n": 1}]


async def test_stop_of_an_unknown_transaction_is_acknowledged_and_recorded(
    stack: LocalStack, engine: Engine, charger: str
) -> None:
    async with connected(stack, charger) as cp:
        answer = await cp.call(
            call.StopTransaction(meter_stop=10, timestamp="2026-11-21T11:00:00Z", transaction_id=424242)
        )
        again = await cp.call(
            call.StopTransaction(meter_stop=10, timestamp="2026-11-21T11:00:00Z", transaction_id=424242)
        )
    assert answer.id_tag_info is None
    assert again.id_tag_info is None
    assert rows(
        engine, "SELECT tenant_id, charge_point_id, transaction_id, meter_stop FROM unknown_transaction_stops"
    ) == [{"tenant_id": "acme", "charge_point_id": CP, "transaction_id": "424242", "meter_stop": 10}]


async def test_meter_values_without_transaction(stack: LocalStack, engine: Engine, charger: str) -> None:
    async with connected(stack, charger) as cp:
        await cp.call(
            call.MeterValues(
                connector_id=0,
                meter_value=[
                    {
                        "timestamp": "2026-11-21T09:00:00Z",
                        "sampledValue": [
                            {
                                "value": "230.1",
                                "measurand": "Voltage",
                                "phase": "L1-N",
                                "unit": "V",
                                "location": "Inlet",
                            },
                            {"value": "0xDEADBEEF", "format": "SignedData"},
                        ],
                    }
                ],
            )
        )
    samples = rows(
        engine,
        "SELECT evse_id, transaction_id, measurand, phase, unit, location, format, value, numeric_value "
        "FROM meter_samples ORDER BY measurand",
    )
    assert samples == [
        {
            "evse_id": 0,  # 1.6 connector 0: the station's main meter
            "transaction_id": None,
            "measurand": "Energy.Active.Import.Register",
            "phase": "",
            "unit": "Wh",
            "location": "Outlet",
            "format": "SignedData",
            "value": "0xDEADBEEF",
            "numeric_value": None,
        },
        {
            "evse_id": 0,
            "transaction_id": None,
            "measurand": "Voltage",
            "phase": "L1-N",
            "unit": "V",
            "location": "Inlet",
            "format": "Raw",
            "value": "230.1",
            "numeric_value": 230.1,
        },
    ]


async def test_data_transfer(stack: LocalStack, charger: str) -> None:
    async with connected(stack, charger) as cp:
        echo = await cp.call(call.DataTransfer(vendor_id="csms.echo", message_id="Echo", data="ping"))
        unknown = await cp.call(call.DataTransfer(vendor_id="com.nobody", message_id="X"))
    assert (echo.status, echo.data) == ("Accepted", "ping")
    assert unknown.status == "UnknownVendorId"


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ("this is not json", [4, "-1", "FormationViolation"]),
        ('[2, "m1", "BootNotification", {"chargePointVendor": "A"}]', [4, "m1", "ProtocolError"]),
        ('[2, "m2", "NoSuchAction", {}]', [4, "m2", "NotImplemented"]),
        (
            '[2, "m3", "StatusNotification", '
            '{"connectorId": "x", "errorCode": "NoError", "status": "Available"}]',
            [4, "m3", "TypeConstraintViolation"],
        ),
        ('[2, "m4", "Heartbeat", {"unexpected": true}]', [4, "m4", "FormationViolation"]),
        (
            '[2, "m5", "StatusNotification", {"connectorId": 1, "errorCode": "Oops", "status": "Available"}]',
            [4, "m5", "PropertyConstraintViolation"],
        ),
        # Schema-valid, but PostgreSQL could not store it: a precise error, not InternalError
        (
            '[2, "m6", "StatusNotification", '
            '{"connectorId": 2147483648, "errorCode": "NoError", "status": "Available"}]',
            [4, "m6", "PropertyConstraintViolation"],
        ),
        (
            '[2, "m7", "StartTransaction", {"connectorId": 1, "idTag": "TAG1", '
            '"meterStart": 1000000000000000000000000000000, "timestamp": "2026-11-21T10:00:00Z"}]',
            [4, "m7", "PropertyConstraintViolation"],
        ),
        (
            '[2, "m8", "StopTransaction", '
            '{"transactionId": 99999999999, "meterStop": 1, "timestamp": "2026-11-21T10:00:00Z"}]',
            [4, "m8", "PropertyConstraintViolation"],
        ),
        ('[2, "m9", "Authorize", {"idTag": "TAG\\u0000"}]', [4, "m9", "PropertyConstraintViolation"]),
        (
            '[2, "m10", "BootNotification", {"chargePointVendor": "A\\ud800", "chargePointModel": "M"}]',
            [4, "m10", "PropertyConstraintViolation"],
        ),
        (
            '[2, "m11", "MeterValues", {"connectorId": 1, "meterValue": '
            '[{"timestamp": "2026-11-21T10:00:00Z", "sampledValue": [{"value": "1\\u0000"}]}]}]',
            [4, "m11", "PropertyConstraintViolation"],
        ),
        (
            '[2, "m12", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", '
            '"status": "Available", "timestamp": "9999-12-31T23:00:00-14:00"}]',
            [4, "m12", "TypeConstraintViolation"],
        ),
        # A uniqueId PostgreSQL cannot store (it is the events' correlation id): refused
        (
            '[2, "m13\\u0000", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", '
            '"status": "Available"}]',
            [4, "m13\x00", "FormationViolation"],
        ),
        (
            '[2, "m14\\ud800", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", '
            '"status": "Available"}]',
            [4, "m14\ud800", "FormationViolation"],
        ),
    ],
)
async def test_malformed_frames_get_a_call_error_and_the_connection_stays_usable(
    stack: LocalStack, charger: str, frame: str, expected: list[object]
) -> None:
    socket = await open_socket(stack, charger)
    assert (await raw_exchange(socket, frame))[:3] == expected
    after = await raw_exchange(socket, '[2, "ok", "Heartbeat", {}]')
    await socket.close()
    assert after[:2] == [3, "ok"]


async def test_malformed_answers_get_no_answer_and_the_connection_stays_usable(
    stack: LocalStack, charger: str
) -> None:
    socket = await open_socket(stack, charger)
    for frame in (
        '[3, "a1"]',
        '[4, "a2", 5, "boom", {}]',
        '[4, "a3", "GenericError", "bo',
        '[3, "a4", {"x": NaN}]',
    ):
        await socket.send(frame)
    # The first frame back answers the Heartbeat: nothing answered the broken answers
    after = await raw_exchange(socket, '[2, "ok", "Heartbeat", {}]')
    await socket.close()
    assert after[:2] == [3, "ok"]


async def test_meter_readings_beyond_32_bits_are_stored(
    stack: LocalStack, engine: Engine, charger: str
) -> None:
    socket = await open_socket(stack, charger)
    start = a_start_transaction(connectorId=2**31 - 1, meterStart=2**63 - 1)
    reply = await raw_exchange(socket, json.dumps([2, "big", "StartTransaction", start]))
    await socket.close()
    assert reply[:2] == [3, "big"]
    (stored,) = rows(engine, "SELECT evse_id, connector_id, meter_start FROM transactions")
    assert stored == {"evse_id": 2**31 - 1, "connector_id": 1, "meter_start": 2**63 - 1}
