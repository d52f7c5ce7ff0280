"""OCPP 2.0.1 over a real WebSocket through the local gateway, with PostgreSQL: provisioning,
availability, data transfer and the 2.0.1 RPC framework's errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call
from ocpp.v201.datatypes import ChargingStationType
from ocpp.v201.enums import BootReasonEnumType, RegistrationStatusEnumType
from sqlalchemy import Engine, text

from csms.domain.stations import RegistrationStatus
from csms.domain.tokens import AuthorizationStatus, IdToken, IdTokenType
from csms.local.stack import LocalStack
from csms.services.provisioning import ProvisioningService
from tests.integration.charger import connected, open_socket, raw_exchange
from tests.integration.conftest import rows
from tests.integration.event_helpers import stored
from tests.integration.station201 import check_201, connected_201, ocpp_now

pytestmark = pytest.mark.integration

PASSWORD = "a-16-to-40-char-secret"


@pytest.fixture
def station(provisioning: ProvisioningService, now: datetime) -> str:
    provisioning.add_charger("CS-201", "t1", now, password=PASSWORD)
    return "CS-201"


def a_boot(**overrides: object) -> call.BootNotification:
    fields: dict[str, object] = {
        "charging_station": ChargingStationType(
            vendor_name="SimVendor",
            model="Sim-2",
            serial_number="SN-9",
            firmware_version="2.0.1-a",
            modem={"iccid": "8944", "imsi": "2620"},
        ),
        "reason": BootReasonEnumType.power_up,
    }
    return call.BootNotification(**{**fields, **overrides})


async def test_boot_is_recorded_and_answered_with_the_interval(
    stack: LocalStack, engine: Engine, station: str
) -> None:
    async with connected_201(stack, station, password=PASSWORD) as cs:
        answer = await cs.call(a_boot(), suppress=False)
        heartbeat = await cs.call(call.Heartbeat(), suppress=False)
    assert answer.status == RegistrationStatusEnumType.accepted
    assert answer.interval == 300
    check_201({"currentTime": answer.current_time, "interval": answer.interval})
    check_201({"currentTime": heartbeat.current_time})
    [row] = rows(
        engine,
        "SELECT vendor, model, serial_number, firmware_version, iccid, imsi, boot_reason FROM charge_points",
    )
    assert row == {
        "vendor": "SimVendor",
        "model": "Sim-2",
        "serial_number": "SN-9",
        "firmware_version": "2.0.1-a",
        "iccid": "8944",
        "imsi": "2620",
        "boot_reason": "PowerUp",
    }


async def test_a_pending_station_may_boot_but_not_transfer_data(
    stack: LocalStack, provisioning: ProvisioningService, now: datetime, engine: Engine
) -> None:
    provisioning.add_charger("CS-PENDING", "t1", now, password=PASSWORD)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE charge_points SET registration_status = :s"), {"s": RegistrationStatus.PENDING}
        )
    async with connected_201(stack, "CS-PENDING", password=PASSWORD) as cs:
        answer = await cs.call(a_boot(), suppress=False)
        assert answer.status == RegistrationStatusEnumType.pending
    socket = await open_socket(stack, "CS-PENDING", subprotocols=["ocpp2.0.1"], password=PASSWORD)
    refused = await raw_exchange(socket, json.dumps([2, "d1", "DataTransfer", {"vendorId": "x"}]))
    await socket.close()
    assert refused[:3] == [4, "d1", "SecurityError"]


async def test_data_transfer_answers_unknown_vendors_and_echoes_json(stack: LocalStack, station: str) -> None:
    async with connected_201(stack, station, password=PASSWORD) as cs:
        unknown = await cs.call(call.DataTransfer(vendor_id="com.unknown"), suppress=False)
    # raw: the library would rewrite the keys inside the data
    socket = await open_socket(stack, station, subprotocols=["ocpp2.0.1"], password=PASSWORD)
    try:
        echo = await raw_exchange(
            socket,
            json.dumps(
                [2, "e1", "DataTransfer", {"vendorId": "csms.echo", "messageId": "Echo", "data": {"aB": [1]}}]
            ),
        )
    finally:
        await socket.close()
    assert unknown.status == "UnknownVendorId"
    assert echo == [3, "e1", {"status": "Accepted", "data": {"aB": [1]}}]


@pytest.mark.parametrize(
    ("frame", "answer"),
    [
        # Part 4 4.2.3: the message id cannot be read: "-1", RpcFrameworkError
        ("not json at all", [4, "-1", "RpcFrameworkError"]),
        ('{"an": "object"}', [4, "-1", "RpcFrameworkError"]),
        ('[2, 7, "Heartbeat", {}]', [4, "-1", "RpcFrameworkError"]),
        ('[2, "' + "x" * 37 + '", "Heartbeat", {}]', [4, "x" * 37, "RpcFrameworkError"]),
        ('[2, "m1", "Heartbeat"]', [4, "m1", "RpcFrameworkError"]),
        ('[2, "m2", "Heartbeat", []]', [4, "m2", "FormatViolation"]),
        # section 4.4: an unknown MessageTypeId
        ('[6, "m3", "Heartbeat", {}]', [4, "m3", "MessageTypeNotSupported"]),
        # section 4.3: not a 2.0.1 action / a 2.0.1 action this CSMS does not take
        ('[2, "m4", "Teleport", {}]', [4, "m4", "NotImplemented"]),
        ('[2, "m5", "Get15118EVCertificate", {}]', [4, "m5", "NotSupported"]),
        # schema rules, spelled the 2.0.1 way
        ('[2, "m6", "DataTransfer", {}]', [4, "m6", "OccurrenceConstraintViolation"]),
        ('[2, "m7", "DataTransfer", {"vendorId": 5}]', [4, "m7", "TypeConstraintViolation"]),
        (
            '[2, "m8", "DataTransfer", {"vendorId": "' + "v" * 256 + '"}]',
            [4, "m8", "TypeConstraintViolation"],
        ),
        ('[2, "m9", "Heartbeat", {"extra": 1}]', [4, "m9", "FormatViolation"]),
        ('[2, "m10", "DataTransfer", {"vendorId": "a\\u0000b"}]', [4, "m10", "PropertyConstraintViolation"]),
    ],
)
async def test_malformed_frames_get_the_2_0_1_error_and_the_connection_stays_usable(
    stack: LocalStack, station: str, frame: str, answer: list[object]
) -> None:
    socket = await open_socket(stack, station, subprotocols=["ocpp2.0.1"], password=PASSWORD)
    try:
        reply = await raw_exchange(socket, frame)
        heartbeat = await raw_exchange(socket, '[2, "hb", "Heartbeat", {}]')
    finally:
        await socket.close()
    assert reply[:3] == answer
    assert len(reply) == 5
    assert isinstance(reply[4], dict)
    assert heartbeat[:2] == [3, "hb"]


async def test_a_1_6_and_a_2_0_1_station_are_served_side_by_side(
    stack: LocalStack, provisioning: ProvisioningService, now: datetime, station: str
) -> None:
    provisioning.add_charger("CP-16", "t1", now, security_profile=0)
    async with connected_201(stack, station, password=PASSWORD) as cs, connected(stack, "CP-16") as cp:
        boot16 = await cp.call(call16.BootNotification(charge_point_vendor="V", charge_point_model="M"))
        boot201 = await cs.call(a_boot(), suppress=False)
    socket16 = await open_socket(stack, "CP-16")
    socket201 = await open_socket(stack, station, subprotocols=["ocpp2.0.1"], password=PASSWORD)
    try:
        bad16 = await raw_exchange(socket16, '[2, "x1", "Heartbeat", []]')
        bad201 = await raw_exchange(socket201, '[2, "x1", "Heartbeat", []]')
    finally:
        await socket16.close()
        await socket201.close()
    assert boot16.status == "Accepted"
    assert boot201.status == "Accepted"
    # each station gets its own version's spelling of the same error
    assert bad16[2] == "FormationViolation"
    assert bad201[2] == "FormatViolation"


async def test_basic_auth_is_required_as_for_1_6(stack: LocalStack, station: str) -> None:
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as refused:
        await open_socket(stack, station, subprotocols=["ocpp2.0.1"])
    assert refused.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as wrong:
        await open_socket(stack, station, subprotocols=["ocpp2.0.1"], password="not-the-password-at-all")
    assert wrong.value.response.status_code == 401


async def test_connector_status_arrives_by_status_notification_and_by_notify_event(
    stack: LocalStack, engine: Engine, station: str
) -> None:
    at = ocpp_now()
    availability = {
        "event_id": 11,
        "timestamp": at,
        "trigger": "Delta",
        "actual_value": "Faulted",
        "event_notification_type": "HardWiredNotification",
        "component": {"name": "Connector", "evse": {"id": 2, "connector_id": 1}},
        "variable": {"name": "AvailabilityState"},
    }
    async with connected_201(stack, station, password=PASSWORD) as cs:
        await cs.call(a_boot(), suppress=False)
        await cs.call(
            call.StatusNotification(timestamp=at, connector_status="Occupied", evse_id=1, connector_id=1),
            suppress=False,
        )
        await cs.call(
            call.StatusNotification(timestamp=at, connector_status="Available", evse_id=1, connector_id=2),
            suppress=False,
        )
        await cs.call(call.NotifyEvent(generated_at=at, seq_no=0, event_data=[availability]), suppress=False)
    assert rows(
        engine,
        "SELECT evse_id, connector_id, status, state, charging_state, error_code FROM connectors "
        "ORDER BY evse_id, connector_id",
    ) == [
        {
            "evse_id": 1,
            "connector_id": 1,
            "status": "Occupied",
            "state": "Occupied",
            "charging_state": None,
            "error_code": None,
        },
        {
            "evse_id": 1,
            "connector_id": 2,
            "status": "Available",
            "state": "Available",
            "charging_state": None,
            "error_code": None,
        },
        {
            "evse_id": 2,
            "connector_id": 1,
            "status": "Faulted",
            "state": "Faulted",
            "charging_state": None,
            "error_code": None,
        },
    ]
    changed = stored(engine, "ConnectorStatusChanged")
    assert [(e["data"]["evseId"], e["data"]["connectorId"], e["data"]["state"]) for e in changed] == [
        (1, 1, "Occupied"),
        (1, 2, "Available"),
        (2, 1, "Faulted"),
    ]


async def test_a_pending_station_may_report_its_connectors(
    stack: LocalStack, provisioning: ProvisioningService, engine: Engine
) -> None:
    provisioning.add_charger("CS-P2", "t1", datetime.now(UTC), password=PASSWORD)
    with engine.begin() as conn:
        conn.execute(text("UPDATE charge_points SET registration_status = 'Pending'"))
    async with connected_201(stack, "CS-P2", password=PASSWORD) as cs:
        await cs.call(
            call.StatusNotification(
                timestamp=ocpp_now(), connector_status="Available", evse_id=1, connector_id=1
            ),
            suppress=False,
        )
    assert rows(engine, "SELECT state FROM connectors") == [{"state": "Available"}]


async def test_authorize_answers_typed_tokens_and_one_token_is_accepted_by_both_protocols(
    stack: LocalStack, provisioning: ProvisioningService, station: str
) -> None:
    later = datetime.now(UTC) + timedelta(days=30)
    provisioning.add_id_token(
        "04A2B3C4", "t1", datetime.now(UTC), expiry_date=later, group=IdToken("FLEET-7")
    )
    provisioning.add_id_token("APP-1", "t1", datetime.now(UTC), type=IdTokenType.CENTRAL, expiry_date=later)
    provisioning.add_id_token(
        "BLOCKED-1", "t1", datetime.now(UTC), type=IdTokenType.KEY_CODE, status=AuthorizationStatus.BLOCKED
    )
    provisioning.add_charger("CP-16-AUTH", "t1", datetime.now(UTC), security_profile=0)

    def token(value: str, type_: str) -> dict[str, str]:
        return {"id_token": value, "type": type_}

    async with connected_201(stack, station, password=PASSWORD) as cs:
        rfid = await cs.call(call.Authorize(id_token=token("04a2b3c4", "ISO14443")), suppress=False)
        app = await cs.call(call.Authorize(id_token=token("APP-1", "Central")), suppress=False)
        wrong_type = await cs.call(call.Authorize(id_token=token("04A2B3C4", "KeyCode")), suppress=False)
        blocked = await cs.call(call.Authorize(id_token=token("BLOCKED-1", "KeyCode")), suppress=False)
        unknown = await cs.call(call.Authorize(id_token=token("NOBODY", "ISO14443")), suppress=False)
        free = await cs.call(call.Authorize(id_token=token("", "NoAuthorization")), suppress=False)
    async with connected(stack, "CP-16-AUTH") as cp:
        by_16 = await cp.call(call16.Authorize(id_tag="04A2B3C4"))
    # the token is matched case-insensitively; its group travels as a typed token
    assert rfid.id_token_info["status"] == "Accepted"
    assert rfid.id_token_info["group_id_token"] == {"id_token": "FLEET-7", "type": "Central"}
    assert "cache_expiry_date_time" in rfid.id_token_info
    check_201({"timestamp": rfid.id_token_info["cache_expiry_date_time"]})
    # a Central token (ours) is never cached by the station
    assert app.id_token_info == {"status": "Accepted"}
    # 2.0.1 matches the type as well as the value
    assert wrong_type.id_token_info == {"status": "Unknown"}
    assert blocked.id_token_info == {"status": "Blocked"}
    assert unknown.id_token_info == {"status": "Unknown"}
    assert free.id_token_info == {"status": "Accepted"}
    # and a 1.6 charger, which presents no type, is accepted with the same token
    assert by_16.id_tag_info["status"] == "Accepted"
    assert by_16.id_tag_info["parent_id_tag"] == "FLEET-7"
