"""The OCPP 1.6 dispatcher with in-memory fakes: every Core action, every error class."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from csms.domain.stations import ChargerContext, ChargingStation, RegistrationStatus
from csms.domain.tokens import AuthorizationStatus, IdToken, IdTokenType, StoredIdToken
from csms.ocpp16.adapter import ADAPTER
from csms.ocpp16.registry import Services
from csms.ocppj.dispatcher import Dispatcher
from csms.services.authorization import AuthorizationService
from csms.services.core import ChargePointService, DataTransferService
from csms.services.transactions import TransactionService
from csms.vendors import load as load_vendors
from tests.builders import (
    a_boot_notification,
    a_meter_values,
    a_start_transaction,
    a_status_notification,
    a_stop_transaction,
    call,
)
from tests.fakes import FakeConnectionStore, FakeDatabase

NOW = datetime(2026, 11, 21, 12, 0, 0, 123000, tzinfo=UTC)
CP = "CP-1"


@pytest.fixture
def db() -> FakeDatabase:
    db = FakeDatabase()
    db.uow.chargers[CP] = ChargingStation(CP, "t1", RegistrationStatus.ACCEPTED)
    card = IdTokenType.ISO14443
    db.uow.tags[("t1", "TAG1")] = StoredIdToken(
        "t1", IdToken("TAG1", card), AuthorizationStatus.ACCEPTED, group=IdToken("GROUP", IdTokenType.CENTRAL)
    )
    db.uow.tags[("t1", "BLOCKED")] = StoredIdToken(
        "t1", IdToken("BLOCKED", card), AuthorizationStatus.BLOCKED
    )
    db.uow.tags[("t1", "OLD")] = StoredIdToken(
        "t1", IdToken("OLD", card), AuthorizationStatus.ACCEPTED, expiry_date=NOW - timedelta(days=1)
    )
    return db


@pytest.fixture
def connections() -> FakeConnectionStore:
    return FakeConnectionStore()


@pytest.fixture
def dispatcher(db: FakeDatabase, connections: FakeConnectionStore) -> Dispatcher[Services]:
    load_vendors()
    return Dispatcher(
        ADAPTER,
        Services(
            charge_points=ChargePointService(db, connections, heartbeat_interval=300),
            authorization=AuthorizationService(db),
            transactions=TransactionService(db),
            data_transfer=DataTransferService(accepted_vendors=("com.known",)),
        ),
    )


def ctx(status: RegistrationStatus = RegistrationStatus.ACCEPTED) -> ChargerContext:
    return ChargerContext(
        charge_point_id=CP, tenant_id="t1", connection_id="conn-1", registration_status=status
    )


def answer(dispatcher: Dispatcher[Services], frame: str, context: ChargerContext | None = None) -> list[Any]:
    outcome = dispatcher.dispatch(frame, context or ctx(), NOW)
    assert outcome.reply is not None
    return json.loads(outcome.reply)  # type: ignore[no-any-return]


# --- Core actions -----------------------------------------------------------------------------


def test_boot_notification_is_accepted_with_interval_and_stores_boot_info(
    dispatcher: Dispatcher[Services], db: FakeDatabase
) -> None:
    # When
    reply = answer(dispatcher, call("BootNotification", a_boot_notification(), "b1"))
    # Then
    assert reply == [
        3,
        "b1",
        {"currentTime": "2026-11-21T12:00:00.123Z", "interval": 300, "status": "Accepted"},
    ]
    assert db.uow.boots[CP].vendor == "Acme"
    assert db.uow.boots[CP].meter_serial_number == "M-1"


def test_boot_of_a_pending_charger_answers_pending(
    dispatcher: Dispatcher[Services], db: FakeDatabase
) -> None:
    db.uow.chargers[CP] = ChargingStation(CP, "t1", RegistrationStatus.PENDING)
    reply = answer(
        dispatcher, call("BootNotification", a_boot_notification()), ctx(RegistrationStatus.PENDING)
    )
    assert reply[2]["status"] == "Pending"


def test_boot_of_an_accepted_charger_updates_the_connection_status(
    dispatcher: Dispatcher[Services], connections: FakeConnectionStore
) -> None:
    # Given a connection recorded while the charger was Pending
    from csms.domain.connections import ConnectionRecord

    connections.register(ConnectionRecord("conn-1", CP, "t1", "ocpp1.6", NOW, RegistrationStatus.PENDING))
    # When it boots and the operator has accepted it meanwhile
    answer(dispatcher, call("BootNotification", a_boot_notification()), ctx(RegistrationStatus.PENDING))
    # Then later frames are handled as Accepted
    assert connections.records["conn-1"].registration_status is RegistrationStatus.ACCEPTED


def test_heartbeat_answers_the_current_time(dispatcher: Dispatcher[Services]) -> None:
    assert answer(dispatcher, call("Heartbeat", {}, "h1")) == [
        3,
        "h1",
        {"currentTime": "2026-11-21T12:00:00.123Z"},
    ]


def test_status_notification_stores_the_status(dispatcher: Dispatcher[Services], db: FakeDatabase) -> None:
    reply = answer(
        dispatcher, call("StatusNotification", a_status_notification(status="Charging", info="ok"))
    )
    assert reply[2] == {}
    stored = db.uow.connector_latest[(CP, 1, 1)]  # 1.6 connector 1: EVSE 1, connector 1
    assert (stored.status, stored.state, stored.charging_state) == ("Charging", "Occupied", "Charging")
    assert stored.info == "ok"


def test_status_notification_without_timestamp_uses_the_time_of_receipt(
    dispatcher: Dispatcher[Services], db: FakeDatabase
) -> None:
    answer(dispatcher, call("StatusNotification", a_status_notification(timestamp=None)))
    assert db.uow.connector_latest[(CP, 1, 1)].timestamp == NOW


def test_authorize_known_blocked_expired_and_unknown_tags(dispatcher: Dispatcher[Services]) -> None:
    assert answer(dispatcher, call("Authorize", {"idTag": "TAG1"}))[2] == {
        "idTagInfo": {"status": "Accepted", "parentIdTag": "GROUP"}
    }
    assert answer(dispatcher, call("Authorize", {"idTag": "BLOCKED"}))[2]["idTagInfo"]["status"] == "Blocked"
    expired = answer(dispatcher, call("Authorize", {"idTag": "OLD"}))[2]["idTagInfo"]
    assert expired == {"status": "Expired", "expiryDate": "2026-11-20T12:00:00.123Z"}
    assert answer(dispatcher, call("Authorize", {"idTag": "NOPE"}))[2] == {"idTagInfo": {"status": "Invalid"}}


def test_start_transaction_allocates_an_id_and_a_retry_gets_the_same(
    dispatcher: Dispatcher[Services], db: FakeDatabase
) -> None:
    first = answer(dispatcher, call("StartTransaction", a_start_transaction(), "s1"))
    again = answer(dispatcher, call("StartTransaction", a_start_transaction(), "s2"))
    assert first[2]["idTagInfo"]["status"] == "Accepted"
    assert again[2]["transactionId"] == first[2]["transactionId"]
    assert len(db.uow.txs) == 1


def test_authorize_is_never_concurrent_tx(dispatcher: Dispatcher[Services]) -> None:
    # Given the tag is in an open transaction
    answer(dispatcher, call("StartTransaction", a_start_transaction()))
    # Then Authorize still accepts it (ConcurrentTx is only for StartTransaction in 1.6)
    assert answer(dispatcher, call("Authorize", {"idTag": "TAG1"}))[2]["idTagInfo"]["status"] == "Accepted"


def test_a_second_session_with_the_same_tag_is_concurrent(dispatcher: Dispatcher[Services]) -> None:
    answer(dispatcher, call("StartTransaction", a_start_transaction(connectorId=1)))
    second = answer(dispatcher, call("StartTransaction", a_start_transaction(connectorId=2)))
    assert second[2]["idTagInfo"]["status"] == "ConcurrentTx"


def test_tags_match_case_insensitively_and_transactions_keep_the_tag_as_sent(
    dispatcher: Dispatcher[Services], db: FakeDatabase
) -> None:
    # OCPP IdToken is a CiString
    assert answer(dispatcher, call("Authorize", {"idTag": "tag1"}))[2] == {
        "idTagInfo": {"status": "Accepted", "parentIdTag": "GROUP"}
    }
    first = answer(dispatcher, call("StartTransaction", a_start_transaction(connectorId=1, idTag="Tag1")))
    second = answer(dispatcher, call("StartTransaction", a_start_transaction(connectorId=2, idTag="tAG1")))
    assert first[2]["idTagInfo"] == {"status": "Accepted", "parentIdTag": "GROUP"}
    assert second[2]["idTagInfo"] == {"status": "ConcurrentTx", "parentIdTag": "GROUP"}
    assert sorted(tx.id_token.value for tx in db.uow.txs.values() if tx.id_token) == ["Tag1", "tAG1"]


def test_start_with_an_invalid_tag_is_recorded_but_answered_invalid(
    dispatcher: Dispatcher[Services], db: FakeDatabase
) -> None:
    reply = answer(dispatcher, call("StartTransaction", a_start_transaction(idTag="NOPE")))
    assert reply[2]["idTagInfo"] == {"status": "Invalid"}
    assert reply[2]["transactionId"] in db.uow.txs


def test_stop_transaction_closes_it_and_a_retry_is_harmless(
    dispatcher: Dispatcher[Services], db: FakeDatabase
) -> None:
    tx_id = answer(dispatcher, call("StartTransaction", a_start_transaction()))[2]["transactionId"]
    data = a_meter_values(samples=2)["meterValue"]
    first = answer(dispatcher, call("StopTransaction", a_stop_transaction(tx_id, transactionData=data)))
    again = answer(dispatcher, call("StopTransaction", a_stop_transaction(tx_id, transactionData=data)))
    assert first[2] == again[2] == {"idTagInfo": {"status": "Accepted", "parentIdTag": "GROUP"}}
    assert db.uow.txs[tx_id].meter_stop == 5000
    assert len(db.uow.samples) == 2


def test_stop_without_id_tag_answers_an_empty_payload(dispatcher: Dispatcher[Services]) -> None:
    tx_id = answer(dispatcher, call("StartTransaction", a_start_transaction()))[2]["transactionId"]
    assert answer(dispatcher, call("StopTransaction", a_stop_transaction(tx_id, idTag=None)))[2] == {}


def test_stop_of_an_unknown_transaction_is_acknowledged_and_recorded(
    dispatcher: Dispatcher[Services], db: FakeDatabase
) -> None:
    reply = answer(dispatcher, call("StopTransaction", a_stop_transaction(999)))
    assert reply[0] == 3
    assert [s.transaction_id for s in db.uow.unknown_stops] == ["999"]


def test_meter_values_are_stored_once(dispatcher: Dispatcher[Services], db: FakeDatabase) -> None:
    frame = call("MeterValues", a_meter_values(samples=10))
    assert answer(dispatcher, frame)[2] == {}
    answer(dispatcher, frame)
    assert len(db.uow.samples) == 10


def test_meter_values_resolve_ocpp_defaults(dispatcher: Dispatcher[Services], db: FakeDatabase) -> None:
    payload = {
        "connectorId": 0,
        "meterValue": [{"timestamp": "2026-11-21T10:00:00Z", "sampledValue": [{"value": "7"}]}],
    }
    answer(dispatcher, call("MeterValues", payload))
    ((tx_id, sample),) = db.uow.samples.values()
    assert tx_id is None
    assert (sample.measurand, sample.unit, sample.context, sample.location, sample.format) == (
        "Energy.Active.Import.Register",
        "Wh",
        "Sample.Periodic",
        "Outlet",
        "Raw",
    )


def test_data_transfer_routes_by_vendor(dispatcher: Dispatcher[Services]) -> None:
    echo = answer(
        dispatcher, call("DataTransfer", {"vendorId": "csms.echo", "messageId": "Echo", "data": "hi"})
    )
    assert echo[2] == {"status": "Accepted", "data": "hi"}
    assert answer(dispatcher, call("DataTransfer", {"vendorId": "csms.echo", "messageId": "X"}))[2] == {
        "status": "UnknownMessageId"
    }
    assert answer(dispatcher, call("DataTransfer", {"vendorId": "com.known"}))[2] == {"status": "Accepted"}
    assert answer(dispatcher, call("DataTransfer", {"vendorId": "com.other"}))[2] == {
        "status": "UnknownVendorId"
    }


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "unique_id", "code"),
    [
        ("not json", "-1", "FormationViolation"),
        ('[2,"abc","Heartbeat",{', "abc", "FormationViolation"),
        ('{"a": 1}', "-1", "FormationViolation"),
        ("[]", "-1", "FormationViolation"),
        ('[2, 17, "Heartbeat", {}]', "-1", "FormationViolation"),
        ('[2, "u1", "Heartbeat"]', "u1", "FormationViolation"),
        ('[2, "u1", "Heartbeat", []]', "u1", "FormationViolation"),
        ('[7, "u1", "Heartbeat", {}]', "u1", "FormationViolation"),
        (f'[2, "{"x" * 37}", "Heartbeat", {{}}]', "x" * 37, "FormationViolation"),
        ('[2, "", "Heartbeat", {}]', "-1", "FormationViolation"),
        (call("FooBar", {}), "uid-1", "NotImplemented"),
        (call("Reset", {"type": "Soft"}), "uid-1", "NotSupported"),
        (call("BootNotification", {"chargePointVendor": "A"}), "uid-1", "ProtocolError"),
        (
            call("StatusNotification", a_status_notification(connectorId="one")),
            "uid-1",
            "TypeConstraintViolation",
        ),
        (call("Authorize", {"idTag": "X" * 21}), "uid-1", "TypeConstraintViolation"),
        (
            call("StatusNotification", a_status_notification(timestamp="yesterday")),
            "uid-1",
            "TypeConstraintViolation",
        ),
        (
            call("StatusNotification", a_status_notification(status="Sleeping")),
            "uid-1",
            "PropertyConstraintViolation",
        ),
        (
            call("StatusNotification", a_status_notification(connectorId=-1)),
            "uid-1",
            "PropertyConstraintViolation",
        ),
        (
            call("StartTransaction", a_start_transaction(connectorId=0)),
            "uid-1",
            "PropertyConstraintViolation",
        ),
        (call("Heartbeat", {"extra": 1}), "uid-1", "FormationViolation"),
        (call("MeterValues", a_meter_values(meterValue=[])), "uid-1", "OccurenceConstraintViolation"),
        # NaN, Infinity and numbers beyond a double are not JSON (RFC 8259)
        ('[2, "u1", "DataTransfer", {"vendorId": "v", "data": NaN}]', "u1", "FormationViolation"),
        # schema-valid values that PostgreSQL cannot store: never an InternalError
        (
            call("StatusNotification", a_status_notification(connectorId=2**31)),
            "uid-1",
            "PropertyConstraintViolation",
        ),
        (
            call("StartTransaction", a_start_transaction(meterStart=2**63)),
            "uid-1",
            "PropertyConstraintViolation",
        ),
        (call("StopTransaction", a_stop_transaction(10**20)), "uid-1", "PropertyConstraintViolation"),
        (
            call("MeterValues", a_meter_values(transaction_id=-(2**31) - 1)),
            "uid-1",
            "PropertyConstraintViolation",
        ),
        (call("Authorize", {"idTag": "TAG\u0000"}), "uid-1", "PropertyConstraintViolation"),
        (
            call("BootNotification", a_boot_notification(chargePointVendor="Acme\udc00")),
            "uid-1",
            "PropertyConstraintViolation",
        ),
        (
            call("StatusNotification", a_status_notification(timestamp="9999-12-31T23:00:00-14:00")),
            "uid-1",
            "TypeConstraintViolation",
        ),
        (
            call("StatusNotification", a_status_notification(timestamp="2024-02-30T00:00:00Z")),
            "uid-1",
            "TypeConstraintViolation",
        ),
        # a uniqueId PostgreSQL cannot store (the events' correlation id) is refused
        ('[2, "u\\u0000", "Heartbeat", {}]', "u\x00", "FormationViolation"),
        ('[2, "u\\ud800", "Heartbeat", {}]', "u\ud800", "FormationViolation"),
    ],
)
def test_bad_frames_get_the_right_call_error(
    dispatcher: Dispatcher[Services], frame: str, unique_id: str, code: str
) -> None:
    reply = answer(dispatcher, frame)
    assert reply[:3] == [4, unique_id, code]
    assert isinstance(reply[3], str)
    assert reply[3]
    assert isinstance(reply[4], dict)


def test_a_pending_charger_may_only_boot(dispatcher: Dispatcher[Services]) -> None:
    reply = answer(
        dispatcher, call("StartTransaction", a_start_transaction()), ctx(RegistrationStatus.PENDING)
    )
    assert reply[2] == "SecurityError"


def test_storage_failure_is_never_acknowledged(dispatcher: Dispatcher[Services], db: FakeDatabase) -> None:
    # Given the database is down
    db.down = True
    # When a transaction message arrives
    reply = answer(dispatcher, call("MeterValues", a_meter_values()))
    # Then the charger gets InternalError and will retry
    assert reply[:3] == [4, "uid-1", "InternalError"]


def test_an_unexpected_bug_is_an_internal_error(
    dispatcher: Dispatcher[Services], db: FakeDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: Any) -> Any:
        raise ZeroDivisionError

    monkeypatch.setattr(db.uow, "record_status", explode)
    assert answer(dispatcher, call("StatusNotification", a_status_notification()))[2] == "InternalError"


def test_answers_from_the_charger_are_not_answered(dispatcher: Dispatcher[Services]) -> None:
    for frame in ('[3, "x", {}]', '[4, "x", "GenericError", "boom", {}]'):
        outcome = dispatcher.dispatch(frame, ctx(), NOW)
        assert outcome.reply is None
        assert outcome.unique_id == "x"


def test_the_storable_edge_values_are_accepted(dispatcher: Dispatcher[Services], db: FakeDatabase) -> None:
    # Meter readings are bigint (wider than 1.6's 32-bit integer); astral characters are fine
    start = a_start_transaction(connectorId=2**31 - 1, meterStart=2**63 - 1, timestamp="0001-01-01T00:00:00Z")
    boot = a_boot_notification(chargePointVendor="Acme \U0001f50c")
    assert answer(dispatcher, call("StartTransaction", start))[0] == 3
    assert answer(dispatcher, call("BootNotification", boot))[0] == 3
    assert db.uow.boots[CP].vendor == "Acme \U0001f50c"


def test_a_nul_in_a_call_payload_is_named_in_the_error(dispatcher: Dispatcher[Services]) -> None:
    payload = a_meter_values(samples=2)
    payload["meterValue"][0]["sampledValue"][1]["value"] = "12\u00003"
    reply = answer(dispatcher, call("MeterValues", payload))
    assert reply[2:] == [
        "PropertyConstraintViolation",
        "meterValue[0].sampledValue[1].value contains NUL or an unpaired surrogate",
        {"field": "meterValue[0].sampledValue[1].value"},
    ]


@pytest.mark.parametrize(
    "frame",
    [
        '[3, "x"]',
        '[3, "x", []]',
        "[3, 17, {}]",
        '[3, "x", {"status": NaN}]',
        '[3, "x", {"limit": 1e400}]',
        '[3, "x", {',
        '[4, "x", 5, "boom", {}]',
        '[4, "x", "GenericError"]',
        '[4, "x", "GenericError", "boom", {}, 6]',
        '[4, "x", "GenericError", "bo',
        f'[4, "{"x" * 37}", "GenericError", "boom", {{}}]',
        # no uniqueId of ours holds NUL or a lone surrogate
        '[3, "x\\u0000", {}]',
        '[4, "x\\udc00", "GenericError", "boom", {}]',
    ],
)
def test_malformed_answers_from_the_charger_are_not_answered(
    dispatcher: Dispatcher[Services], frame: str
) -> None:
    # OCPP-J answers only CALLs: a CALLERROR is never answered with a CALLERROR
    outcome = dispatcher.dispatch(frame, ctx(), NOW)
    assert outcome.reply is None
    assert outcome.result == "FormationViolation"
    assert outcome.message_type == ("CallResult" if frame.startswith("[3") else "CallError")


def test_text_that_cannot_be_stored_in_answers_is_replaced(db: FakeDatabase) -> None:
    received: list[Any] = []
    dispatcher = Dispatcher(
        ADAPTER,
        Services(
            ChargePointService(db, FakeConnectionStore(), 300),
            AuthorizationService(db),
            TransactionService(db),
            DataTransferService(),
        ),
        answers=lambda _ctx, frame: received.append(frame),
    )
    dispatcher.dispatch('[3, "r", {"value": "a\\u0000b", "k\\ud800": ["\\udfff"]}]', ctx(), NOW)
    dispatcher.dispatch('[4, "e", "Generic\\u0000Error", "bad\\ud800", {"x": "\\u0000"}]', ctx(), NOW)
    result, error = received
    assert result.payload == {"value": "a\ufffdb", "k\ufffd": ["\ufffd"]}
    assert (error.error_code, error.description, error.details) == (
        "Generic\ufffdError",
        "bad\ufffd",
        {"x": "\ufffd"},
    )
