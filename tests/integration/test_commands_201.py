"""Every neutral command, and the 2.0.1 actions sent by name, against a real OCPP 2.0.1 station
(the ``ocpp`` library's v201 ChargePoint, which validates every CALL it receives against the
official 2.0.1 schemas) over a real WebSocket through the local gateway, with PostgreSQL: what
the station received, and what the API shows afterwards."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v201 import call, call_result
from ocpp.v201.datatypes import ChargingStationType
from ocpp.v201.enums import Action, BootReasonEnumType
from sqlalchemy import Engine, text
from websockets.asyncio.client import ClientConnection

from csms.app import wiring
from csms.clock import FixedClock
from csms.constants import MAX_FRAME_BYTES
from csms.data.database import PgDatabase
from csms.data.device_model import PgDeviceModelStore
from csms.domain.device_model import VariableSource, VariableValue, address
from csms.local.stack import LocalStack
from tests.builders import a_charging_profile
from tests.integration.api_client import ApiClient, Reply
from tests.integration.command_helpers import eventually, get, next_frame, provision, send
from tests.integration.conftest import rows
from tests.integration.station201 import SimulatedStation, check_201, connected_201, ocpp_now

pytestmark = pytest.mark.integration
CS = "CMD-201"
EXPIRY = "2027-06-30T12:00:00.000Z"


class ObedientStation(SimulatedStation):
    """Answers every CSMS-to-station CALL like a well-behaved 2.0.1 station and keeps each CALL
    as it arrived (after the library validated it against the official schema)."""

    def __init__(self, station_id: str, connection: ClientConnection) -> None:
        super().__init__(station_id, connection)
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.frames: list[int] = []
        self.list_version = 0

    async def route_message(self, raw_msg: str) -> None:
        message = json.loads(raw_msg)
        if message[0] == 2:
            self.received.append((message[2], message[3]))
            self.frames.append(len(raw_msg.encode()))
        await super().route_message(raw_msg)

    def last(self, action: str) -> dict[str, Any]:
        return [payload for name, payload in self.received if name == action][-1]

    @on(Action.reset)
    def reset(self, **kwargs: Any) -> call_result.Reset:
        return call_result.Reset(status="Accepted")

    @on(Action.request_start_transaction)
    def request_start(self, **kwargs: Any) -> call_result.RequestStartTransaction:
        return call_result.RequestStartTransaction(status="Accepted")

    @on(Action.request_stop_transaction)
    def request_stop(self, transaction_id: str, **kwargs: Any) -> call_result.RequestStopTransaction:
        return call_result.RequestStopTransaction(
            status="Accepted" if transaction_id == "TX-1" else "Rejected"
        )

    @on(Action.unlock_connector)
    def unlock(self, **kwargs: Any) -> call_result.UnlockConnector:
        return call_result.UnlockConnector(status="Unlocked")

    @on(Action.change_availability)
    def change_availability(self, **kwargs: Any) -> call_result.ChangeAvailability:
        return call_result.ChangeAvailability(status="Scheduled")

    @on(Action.clear_cache)
    def clear_cache(self, **kwargs: Any) -> call_result.ClearCache:
        return call_result.ClearCache(status="Accepted")

    @on(Action.trigger_message)
    def trigger(self, **kwargs: Any) -> call_result.TriggerMessage:
        return call_result.TriggerMessage(status="Accepted")

    @on(Action.get_variables)
    def get_variables(
        self, get_variable_data: list[dict[str, Any]], **kwargs: Any
    ) -> call_result.GetVariables:
        results = []
        for item in get_variable_data:
            known = item["variable"]["name"] == "HeartbeatInterval"
            result = {
                "attribute_status": "Accepted" if known else "UnknownVariable",
                "component": item["component"],
                "variable": item["variable"],
            }
            if known:
                result["attribute_value"] = "300"
            results.append(result)
        return call_result.GetVariables(get_variable_result=results)

    @on(Action.set_variables)
    def set_variables(
        self, set_variable_data: list[dict[str, Any]], **kwargs: Any
    ) -> call_result.SetVariables:
        return call_result.SetVariables(
            set_variable_result=[
                {
                    "attribute_status": "Rejected" if item["attribute_value"] == "bad" else "Accepted",
                    "component": item["component"],
                    "variable": item["variable"],
                }
                for item in set_variable_data
            ]
        )

    @on(Action.get_base_report)
    def get_base_report(self, **kwargs: Any) -> call_result.GetBaseReport:
        return call_result.GetBaseReport(status="Accepted")

    @on(Action.get_report)
    def get_report(self, **kwargs: Any) -> call_result.GetReport:
        return call_result.GetReport(status="EmptyResultSet")

    @on(Action.set_network_profile)
    def set_network_profile(self, **kwargs: Any) -> call_result.SetNetworkProfile:
        return call_result.SetNetworkProfile(status="Accepted")

    @on(Action.set_charging_profile)
    def set_charging_profile(self, **kwargs: Any) -> call_result.SetChargingProfile:
        return call_result.SetChargingProfile(status="Accepted")

    @on(Action.clear_charging_profile)
    def clear_charging_profile(self, **kwargs: Any) -> call_result.ClearChargingProfile:
        return call_result.ClearChargingProfile(status="Accepted")

    @on(Action.get_charging_profiles)
    def get_charging_profiles(self, **kwargs: Any) -> call_result.GetChargingProfiles:
        return call_result.GetChargingProfiles(status="Accepted")

    @on(Action.get_composite_schedule)
    def get_composite_schedule(
        self, duration: int, evse_id: int, **kwargs: Any
    ) -> call_result.GetCompositeSchedule:
        return call_result.GetCompositeSchedule(
            status="Accepted",
            schedule={
                "evse_id": evse_id,
                "duration": duration,
                "schedule_start": "2026-12-10T12:00:00.000Z",
                "charging_rate_unit": kwargs.get("charging_rate_unit", "A"),
                "charging_schedule_period": [{"start_period": 0, "limit": 16.0}],
            },
        )

    @on(Action.reserve_now)
    def reserve_now(self, **kwargs: Any) -> call_result.ReserveNow:
        return call_result.ReserveNow(status="Accepted")

    @on(Action.cancel_reservation)
    def cancel_reservation(self, **kwargs: Any) -> call_result.CancelReservation:
        return call_result.CancelReservation(status="Accepted")

    @on(Action.send_local_list)
    def send_local_list(self, version_number: int, **kwargs: Any) -> call_result.SendLocalList:
        self.list_version = version_number
        return call_result.SendLocalList(status="Accepted")

    @on(Action.get_local_list_version)
    def get_local_list_version(self, **kwargs: Any) -> call_result.GetLocalListVersion:
        return call_result.GetLocalListVersion(version_number=self.list_version)

    @on(Action.update_firmware)
    def update_firmware(self, **kwargs: Any) -> call_result.UpdateFirmware:
        return call_result.UpdateFirmware(status="Accepted")

    @on(Action.get_log)
    def get_log(self, **kwargs: Any) -> call_result.GetLog:
        return call_result.GetLog(status="Accepted", filename="log-201.tar.gz")

    @on(Action.data_transfer)
    def data_transfer(self, data: Any = None, **kwargs: Any) -> call_result.DataTransfer:
        return call_result.DataTransfer(status="Accepted", data={"echo": data})

    @on(Action.get_transaction_status)
    def get_transaction_status(self, **kwargs: Any) -> call_result.GetTransactionStatus:
        return call_result.GetTransactionStatus(ongoing_indicator=True, messages_in_queue=False)

    @on(Action.install_certificate)
    def install_certificate(self, **kwargs: Any) -> call_result.InstallCertificate:
        return call_result.InstallCertificate(status="Accepted")

    @on(Action.get_installed_certificate_ids)
    def get_installed_certificate_ids(self, **kwargs: Any) -> call_result.GetInstalledCertificateIds:
        return call_result.GetInstalledCertificateIds(
            status="Accepted",
            certificate_hash_data_chain=[
                {
                    "certificate_type": "CSMSRootCertificate",
                    "certificate_hash_data": HASH_DATA,
                }
            ],
        )

    @on(Action.delete_certificate)
    def delete_certificate(self, **kwargs: Any) -> call_result.DeleteCertificate:
        return call_result.DeleteCertificate(status="Accepted")

    @on(Action.customer_information)
    def customer_information(self, **kwargs: Any) -> call_result.CustomerInformation:
        return call_result.CustomerInformation(status="Accepted")


HASH_DATA = {
    "hash_algorithm": "SHA256",
    "issuer_name_hash": "a" * 64,
    "issuer_key_hash": "b" * 64,
    "serial_number": "1f",
}


@pytest.fixture
def operator(api: ApiClient) -> ApiClient:
    return provision(api, "acme", CS)


async def booted(station: SimulatedStation) -> None:
    await station.call(
        call.BootNotification(
            charging_station=ChargingStationType(vendor_name="SimVendor", model="Sim-2"),
            reason=BootReasonEnumType.power_up,
        ),
        suppress=False,
    )


async def command(client: ApiClient, command_id: str) -> Reply:
    return await get(client, f"/commands/{command_id}")


def heartbeat_interval(value: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    if value is not None:
        out["attributeValue"] = value
    return out


#: (neutral command, body, 2.0.1 action it becomes, what the station must receive: the payload
#: with the ids the CSMS allocated as "<requestId>", "<remoteStartId>", "<reservationId>").
NEUTRAL: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = [
    (
        "start-transaction",
        {
            "idToken": {"idToken": "DRIVER-1", "type": "Central"},
            "evseId": 1,
            "groupIdToken": {"idToken": "FLEET"},
            "chargingProfile": a_charging_profile(id=11, chargingProfilePurpose="TxProfile"),
        },
        "RequestStartTransaction",
        {
            "idToken": {"idToken": "DRIVER-1", "type": "Central"},
            "remoteStartId": "<remoteStartId>",
            "evseId": 1,
            "groupIdToken": {"idToken": "FLEET", "type": "ISO14443"},
            "chargingProfile": {
                "id": 11,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": [
                    {
                        "id": 1,
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [
                            {"startPeriod": 0, "limit": 7.4},
                            {"startPeriod": 3600, "limit": 16.1},
                        ],
                    }
                ],
            },
        },
    ),
    ("stop-transaction", {"transactionId": "TX-1"}, "RequestStopTransaction", {"transactionId": "TX-1"}),
    ("reset", {"type": "OnIdle", "evseId": 2}, "Reset", {"type": "OnIdle", "evseId": 2}),
    ("reset", {"type": "Hard"}, "Reset", {"type": "Immediate"}),
    ("unlock-connector", {"evseId": 1}, "UnlockConnector", {"evseId": 1, "connectorId": 1}),
    (
        "change-availability",
        {"operational": False, "evseId": 1, "connectorId": 2},
        "ChangeAvailability",
        {"operationalStatus": "Inoperative", "evse": {"id": 1, "connectorId": 2}},
    ),
    ("change-availability", {"operational": True}, "ChangeAvailability", {"operationalStatus": "Operative"}),
    ("clear-cache", {}, "ClearCache", {}),
    (
        "trigger-message",
        {"requestedMessage": "TransactionEvent", "evseId": 1},
        "TriggerMessage",
        {"requestedMessage": "TransactionEvent", "evse": {"id": 1}},
    ),
    (
        "get-variables",
        {"variables": [heartbeat_interval(), {**heartbeat_interval(), "attributeType": "Target"}]},
        "GetVariables",
        {"getVariableData": [heartbeat_interval(), {**heartbeat_interval(), "attributeType": "Target"}]},
    ),
    ("get-variables", {}, "GetBaseReport", {"requestId": "<requestId>", "reportBase": "FullInventory"}),
    (
        "set-variables",
        {"variables": [heartbeat_interval("120")]},
        "SetVariables",
        {"setVariableData": [heartbeat_interval("120")]},
    ),
    (
        "set-charging-profile",
        {
            "evseId": 0,
            "chargingProfile": a_charging_profile(
                id=3,
                chargingProfilePurpose="ChargingStationMaxProfile",
                chargingSchedule=[
                    {
                        "id": 7,
                        "chargingRateUnit": "W",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 22000}],
                    },
                    {"chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000}]},
                ],
            ),
        },
        "SetChargingProfile",
        {
            "evseId": 0,
            "chargingProfile": {
                "id": 3,
                "stackLevel": 0,
                "chargingProfilePurpose": "ChargingStationMaxProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": [
                    {
                        "id": 7,
                        "chargingRateUnit": "W",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 22000.0}],
                    },
                    {
                        "id": 2,
                        "chargingRateUnit": "W",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}],
                    },
                ],
            },
        },
    ),
    (
        "clear-charging-profile",
        {"evseId": 1, "chargingProfilePurpose": "TxDefaultProfile"},
        "ClearChargingProfile",
        {"chargingProfileCriteria": {"evseId": 1, "chargingProfilePurpose": "TxDefaultProfile"}},
    ),
    (
        "get-charging-profiles",
        {"evseId": 1, "chargingLimitSource": ["CSO"]},
        "GetChargingProfiles",
        {"requestId": "<requestId>", "evseId": 1, "chargingProfile": {"chargingLimitSource": ["CSO"]}},
    ),
    (
        "get-composite-schedule",
        {"evseId": 1, "duration": 600, "chargingRateUnit": "W"},
        "GetCompositeSchedule",
        {"evseId": 1, "duration": 600, "chargingRateUnit": "W"},
    ),
    (
        "reserve-now",
        {
            "connectorType": "cType2",
            "expiryDateTime": "2099-01-01T00:00:00.123456+01:00",
            "idToken": {"idToken": "DRIVER-2", "type": "eMAID"},
        },
        "ReserveNow",
        {
            "id": "<reservationId>",
            "expiryDateTime": "2098-12-31T23:00:00.123Z",
            "idToken": {"idToken": "DRIVER-2", "type": "eMAID"},
            "connectorType": "cType2",
        },
    ),
    ("get-local-list-version", {}, "GetLocalListVersion", {}),
    (
        "update-firmware",
        {
            "location": "https://fw.example/2.bin",
            "retrieveDateTime": "2026-12-10T03:00:00Z",
            "installDateTime": "2026-12-10T04:00:00Z",
            "retries": 2,
            "signingCertificate": "-----BEGIN CERTIFICATE-----",
            "signature": "c2lnbmF0dXJl",
        },
        "UpdateFirmware",
        {
            "requestId": "<requestId>",
            "firmware": {
                "location": "https://fw.example/2.bin",
                "retrieveDateTime": "2026-12-10T03:00:00.000Z",
                "installDateTime": "2026-12-10T04:00:00.000Z",
                "signingCertificate": "-----BEGIN CERTIFICATE-----",
                "signature": "c2lnbmF0dXJl",
            },
            "retries": 2,
        },
    ),
    (
        "upload-logs",
        {
            "location": "https://logs.example/up",
            "logType": "SecurityLog",
            "oldestTimestamp": "2026-12-01T00:00:00Z",
        },
        "GetLog",
        {
            "log": {
                "remoteLocation": "https://logs.example/up",
                "oldestTimestamp": "2026-12-01T00:00:00.000Z",
            },
            "logType": "SecurityLog",
            "requestId": "<requestId>",
        },
    ),
    (
        "data-transfer",
        {"vendorId": "acme", "messageId": "m", "data": {"any": ["json", 1]}},
        "DataTransfer",
        {"vendorId": "acme", "messageId": "m", "data": {"any": ["json", 1]}},
    ),
]


def allocated(expected: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """``expected`` with the placeholders replaced by the ids the command's request holds."""
    text_form = json.dumps(expected)
    for key in ("requestId", "remoteStartId", "reservationId"):
        if key in request:
            text_form = text_form.replace(f'"<{key}>"', str(request[key]))
    return json.loads(text_form)  # type: ignore[no-any-return]


async def test_every_neutral_command_reaches_a_201_station_in_2_0_1_words(
    operator: ApiClient, stack: LocalStack
) -> None:
    async with connected_201(stack, CS, ObedientStation) as station:
        await booted(station)
        answers = [await send(operator, CS, name, body) for name, body, _, _ in NEUTRAL]
    assert isinstance(station, ObedientStation)
    calls = [(name, payload) for name, payload in station.received]
    assert len(calls) == len(NEUTRAL)
    for (name, _, action, expected), answer, (got_action, got) in zip(NEUTRAL, answers, calls, strict=True):
        assert answer.status == 200, (name, answer.body)
        assert answer.body["status"] == "accepted", (name, answer.body)
        assert (answer.body["protocol"], answer.body["action"]) == ("ocpp2.0.1", action)
        assert got_action == action
        assert got == allocated(expected, answer.body["request"]), name
        assert answer.body["ocppRequest"] == got
        check_201(got)  # no nulls; times with at most three fraction digits, 32-bit integers
    # The ids the station echoes are on the commands
    by_name = {(name, action): a.body for (name, _, action, _), a in zip(NEUTRAL, answers, strict=True)}
    start = by_name[("start-transaction", "RequestStartTransaction")]
    assert start["requestId"] == start["request"]["remoteStartId"] == start["ocppRequest"]["remoteStartId"]
    report = by_name[("get-variables", "GetBaseReport")]
    assert report["requestId"] == report["ocppRequest"]["requestId"]
    assert report["reason"] == "the report follows in NotifyReport parts"
    # and the answers, in neutral terms where they say more than a status
    assert by_name[("get-composite-schedule", "GetCompositeSchedule")]["result"] == {
        "schedule": {
            "evseId": 1,
            "duration": 600,
            "scheduleStart": "2026-12-10T12:00:00.000Z",
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
        }
    }
    assert by_name[("upload-logs", "GetLog")]["result"] == {"filename": "log-201.tar.gz"}
    assert by_name[("data-transfer", "DataTransfer")]["result"] == {"data": {"echo": {"any": ["json", 1]}}}
    assert by_name[("change-availability", "ChangeAvailability")]["reason"] == (
        "scheduled: takes effect when the running transaction ends"
    )
    assert by_name[("get-local-list-version", "GetLocalListVersion")]["result"] == {"listVersion": 0}


async def test_the_transaction_a_remote_start_produced_shows_on_the_command(
    operator: ApiClient, stack: LocalStack
) -> None:
    async with connected_201(stack, CS, ObedientStation) as station:
        await booted(station)
        started = await send(
            operator, CS, "start-transaction", {"idToken": {"idToken": "APP-1", "type": "Central"}}
        )
        remote_start_id = started.body["requestId"]
        # the station starts the transaction it was asked for, naming the remote start
        await station.call(
            call.TransactionEvent(
                event_type="Started",
                timestamp=ocpp_now(),
                trigger_reason="RemoteStart",
                seq_no=0,
                transaction_info={"transaction_id": "TX-REMOTE-9", "remote_start_id": remote_start_id},
                evse={"id": 1, "connector_id": 1},
            ),
            suppress=False,
        )
    shown = await command(operator, started.body["id"])
    transaction = shown.body["transaction"]
    assert transaction["transactionId"] == "TX-REMOTE-9"
    assert (await get(operator, f"/transactions/{transaction['id']}")).body[
        "remoteStartId"
    ] == remote_start_id


async def test_firmware_and_log_progress_show_on_their_commands(
    operator: ApiClient, stack: LocalStack
) -> None:
    async with connected_201(stack, CS, ObedientStation) as station:
        await booted(station)
        update = await send(
            operator,
            CS,
            "update-firmware",
            {"location": "https://fw.example/3.bin", "retrieveDateTime": "2026-12-10T03:00:00Z"},
        )
        logs = await send(operator, CS, "upload-logs", {"location": "https://logs.example/up"})
        # the station reports progress naming each command's requestId (and an unrelated step)
        for status in ("Downloading", "Installed"):
            await station.call(
                call.FirmwareStatusNotification(status=status, request_id=update.body["requestId"]),
                suppress=False,
            )
        await station.call(
            call.LogStatusNotification(status="Uploaded", request_id=logs.body["requestId"]), suppress=False
        )
        await station.call(call.FirmwareStatusNotification(status="Idle"), suppress=False)
    shown = await command(operator, update.body["id"])
    assert [(p["kind"], p["data"]) for p in shown.body["followUps"]] == [
        ("FirmwareStatusNotification", {"status": "Downloading"}),
        ("FirmwareStatusNotification", {"status": "Installed"}),
    ]
    shown = await command(operator, logs.body["id"])
    assert [(p["kind"], p["data"]) for p in shown.body["followUps"]] == [
        ("LogStatusNotification", {"status": "Uploaded"}),
    ]


async def test_variables_land_in_the_device_model_and_a_full_report_shows_its_parts(
    operator: ApiClient, stack: LocalStack
) -> None:
    async with connected_201(stack, CS, ObedientStation) as station:
        await booted(station)
        read = await send(
            operator,
            CS,
            "get-variables",
            {"variables": [heartbeat_interval(), {**heartbeat_interval(), "variable": {"name": "Nope"}}]},
        )
        written = await send(
            operator,
            CS,
            "set-variables",
            {
                "variables": [
                    {
                        "component": {"name": "TxCtrlr"},
                        "variable": {"name": "EVConnectionTimeOut"},
                        "attributeValue": "90",
                    },
                    {
                        "component": {"name": "AuthCtrlr"},
                        "variable": {"name": "Enabled"},
                        "attributeValue": "bad",
                    },
                ]
            },
        )
        everything = await send(operator, CS, "get-variables", {})
        request_id = everything.body["requestId"]
        # the report arrives in two parts, the second first
        at = ocpp_now()
        part = [
            {
                "component": {"name": "SecurityCtrlr"},
                "variable": {"name": "SecurityProfile"},
                "variable_attribute": [{"type": "Actual", "value": "2", "mutability": "ReadOnly"}],
            }
        ]
        await station.call(
            call.NotifyReport(request_id=request_id, generated_at=at, seq_no=1, report_data=part),
            suppress=False,
        )
        await station.call(
            call.NotifyReport(request_id=request_id, generated_at=at, seq_no=0, report_data=part, tbc=True),
            suppress=False,
        )
    # GetVariables: the value read is stored, the unknown variable marked unknown
    assert (read.body["status"], read.body["reason"]) == (
        "accepted",
        "1 of 2 not read: OCPPCommCtrlr.Nope UnknownVariable",
    )
    variables = (await get(operator, f"/stations/{CS}/variables")).body["items"]
    found = {
        (v["component"]["name"], v["variable"]["name"]): (v["value"], v["known"], v["source"])
        for v in variables
    }
    assert found[("OCPPCommCtrlr", "HeartbeatInterval")] == ("300", True, "GetVariables")
    assert found[("OCPPCommCtrlr", "Nope")] == (None, False, "GetVariables")
    # SetVariables: the accepted value is stored; the refusal is the command's reason
    assert (written.body["status"], written.body["reason"]) == (
        "rejected",
        "1 of 2 not set: AuthCtrlr.Enabled Rejected",
    )
    assert found[("TxCtrlr", "EVConnectionTimeOut")] == ("90", True, "SetVariables")
    assert ("AuthCtrlr", "Enabled") not in found
    # GetBaseReport: the parts that arrived show on the command, in order; their variables are stored
    shown = await command(operator, everything.body["id"])
    assert [(p["kind"], p["data"]["seqNo"], p["data"]["tbc"]) for p in shown.body["followUps"]] == [
        ("NotifyReport", 0, True),
        ("NotifyReport", 1, False),
    ]
    assert found[("SecurityCtrlr", "SecurityProfile")][0] == "2"


async def test_many_variables_go_out_in_parts_of_what_the_station_takes_per_message(
    operator: ApiClient, stack: LocalStack, engine: Engine
) -> None:
    # What the station reported: DeviceDataCtrlr.ItemsPerMessage[SetVariables] = 2
    PgDeviceModelStore(PgDatabase(engine)).record(
        "acme",
        CS,
        [VariableValue(address("DeviceDataCtrlr", "ItemsPerMessage", variable_instance="SetVariables"), "2")],
        VariableSource.NOTIFY_REPORT,
        datetime.now(UTC),
    )
    variables = [
        {
            "component": {"name": "Vendor", "instance": str(i)},
            "variable": {"name": "Setting"},
            "attributeValue": str(i),
        }
        for i in range(5)
    ]
    async with connected_201(stack, CS, ObedientStation) as station:
        await booted(station)
        answer = await send(operator, CS, "set-variables", {"variables": variables}, wait=20)
    assert isinstance(station, ObedientStation)
    sent = [p["setVariableData"] for name, p in station.received if name == "SetVariables"]
    assert [len(items) for items in sent] == [2, 2, 1]
    assert [item["attributeValue"] for items in sent for item in items] == ["0", "1", "2", "3", "4"]
    assert [c["status"] for c in answer.body["chunks"]] == ["accepted"] * 3


async def test_a_local_list_of_1500_tokens_goes_out_in_2_0_1_frames_under_32_kb(
    operator: ApiClient, stack: LocalStack, engine: Engine
) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO id_tokens (tenant_id, id_token, type, status, expiry_date, created_at, "
                "updated_at) SELECT 'acme', 'EMAID-' || lpad(i::text, 30, '0'), 'eMAID', 'Accepted', "
                ":expiry, now(), now() "
                "FROM generate_series(1, 1500) AS i"
            ),
            {"expiry": EXPIRY},
        )
    async with connected_201(stack, CS, ObedientStation) as station:
        await booted(station)
        sent = await send(operator, CS, "send-local-list", {"updateType": "Full"}, wait=20)
        version = await send(operator, CS, "get-local-list-version", {})
    assert isinstance(station, ObedientStation)
    lists = [p for name, p in station.received if name == "SendLocalList"]
    assert len(lists) >= 4
    assert all(size < MAX_FRAME_BYTES for size in station.frames)
    assert [p["versionNumber"] for p in lists] == list(range(1, len(lists) + 1))
    assert [p["updateType"] for p in lists] == ["Full"] + ["Differential"] * (len(lists) - 1)
    entries = [e for p in lists for e in p["localAuthorizationList"]]
    assert len(entries) == 1500  # 36-character eMAIDs a 1.6 list could not carry
    assert entries[0] == {
        "idToken": {"idToken": "EMAID-" + "1".zfill(30), "type": "eMAID"},
        "idTokenInfo": {"status": "Accepted", "cacheExpiryDateTime": EXPIRY},
    }
    assert [c["status"] for c in sent.body["chunks"]] == ["accepted"] * len(lists)
    assert version.body["response"] == {"versionNumber": len(lists)}
    state = (await get(operator, f"/stations/{CS}/local-list")).body
    assert (state["sentVersion"], state["reportedVersion"]) == (len(lists), len(lists))


async def test_reservations_and_profiles_of_a_201_station_are_on_record(
    operator: ApiClient, stack: LocalStack, engine: Engine
) -> None:
    async with connected_201(stack, CS, ObedientStation) as station:
        await booted(station)
        reserved = await send(
            operator,
            CS,
            "reserve-now",
            {
                "connectorType": "cCCS2",
                "expiryDateTime": "2099-01-01T00:00:00Z",
                "idToken": {"idToken": "D", "type": "KeyCode"},
            },
        )
        reservation_id = reserved.body["request"]["reservationId"]
        cancelled = await send(operator, CS, "cancel-reservation", {"reservationId": reservation_id})
        profile = await send(
            operator,
            CS,
            "set-charging-profile",
            {
                "evseId": 1,
                "chargingProfile": a_charging_profile(
                    id=5, chargingProfilePurpose="TxProfile", transactionId="TX-7"
                ),
            },
        )
    assert (reserved.body["status"], cancelled.body["status"], profile.body["status"]) == ("accepted",) * 3
    assert rows(
        engine, "SELECT evse_id, connector_type, id_token, id_token_type, status FROM reservations"
    ) == [
        {
            "evse_id": None,
            "connector_type": "cCCS2",
            "id_token": "D",
            "id_token_type": "KeyCode",
            "status": "cancelled",
        }
    ]
    [installed] = (await get(operator, f"/stations/{CS}/charging-profiles")).body["items"]
    assert (installed["chargingProfileId"], installed["transactionId"], installed["evseId"]) == (5, "TX-7", 1)
    assert installed["chargingSchedule"][0]["chargingSchedulePeriod"][0] == {"startPeriod": 0, "limit": 7.4}


async def test_2_0_1_actions_sent_by_name_allocate_ids_and_apply_their_answers(
    operator: ApiClient, stack: LocalStack
) -> None:
    async with connected_201(stack, CS, ObedientStation) as station:
        await booted(station)
        report = await send_ocpp(operator, CS, "GetBaseReport", {"reportBase": "ConfigurationInventory"})
        empty = await send_ocpp(
            operator,
            CS,
            "GetReport",
            {"requestId": 77, "componentVariable": [{"component": {"name": "TxCtrlr"}}]},
        )
        status = await send_ocpp(operator, CS, "GetTransactionStatus", {"transactionId": "TX-1"})
        network = await send_ocpp(
            operator,
            CS,
            "SetNetworkProfile",
            {
                "configurationSlot": 2,
                "connectionData": {
                    "ocppVersion": "OCPP20",
                    "ocppTransport": "JSON",
                    "ocppCsmsUrl": "wss://csms.example/ocpp",
                    "messageTimeout": 30,
                    "securityProfile": 2,
                    "ocppInterface": "Wired0",
                },
            },
        )
        install = await send_ocpp(
            operator,
            CS,
            "InstallCertificate",
            {"certificateType": "CSMSRootCertificate", "certificate": "-----BEGIN CERTIFICATE-----"},
        )
        installed = await send_ocpp(operator, CS, "GetInstalledCertificateIds", {})
        deleted = await send_ocpp(
            operator,
            CS,
            "DeleteCertificate",
            {
                "certificateHashData": {
                    "hashAlgorithm": "SHA256",
                    "issuerNameHash": "a" * 64,
                    "issuerKeyHash": "b" * 64,
                    "serialNumber": "1f",
                }
            },
        )
        customer = await send_ocpp(
            operator, CS, "CustomerInformation", {"report": True, "clear": False, "customerIdentifier": "C-1"}
        )
        await station.call(
            call.NotifyCustomerInformation(
                data="name: Ada", seq_no=0, generated_at=ocpp_now(), request_id=customer.body["requestId"]
            ),
            suppress=False,
        )
        variables = await send_ocpp(operator, CS, "GetVariables", {"getVariableData": [heartbeat_interval()]})
        # a payload the 2.0.1 schema refuses, and a password, are refused before anything is stored
        invalid = await send_ocpp(operator, CS, "Reset", {"type": "Soft"})
        secret = await send_ocpp(
            operator,
            CS,
            "SetVariables",
            {
                "setVariableData": [
                    {
                        "component": {"name": "SecurityCtrlr"},
                        "variable": {"name": "BasicAuthPassword"},
                        "attributeValue": "a-new-secret-of-24-chars",
                    }
                ]
            },
        )
        kept = await send_ocpp(
            operator,
            CS,
            "ReserveNow",
            {
                "id": 1,
                "expiryDateTime": "2099-01-01T00:00:00Z",
                "idToken": {"idToken": "D", "type": "Central"},
            },
        )
        one_six = await send_ocpp(operator, CS, "GetConfiguration", {})
    assert isinstance(station, ObedientStation)
    # a requestId the payload needs and was not given is allocated, and kept as the command's
    assert station.last("GetBaseReport") == {
        "reportBase": "ConfigurationInventory",
        "requestId": report.body["requestId"],
    }
    assert (report.body["name"], report.body["protocol"], report.body["status"]) == (
        "GetBaseReport",
        "ocpp2.0.1",
        "accepted",
    )
    assert (empty.body["requestId"], empty.body["reason"]) == (77, "nothing to report (EmptyResultSet)")
    assert status.body["result"] == {"ongoingIndicator": True, "messagesInQueue": False}
    assert [a.body["status"] for a in (network, install, deleted, customer, variables)] == ["accepted"] * 5
    assert installed.body["result"]["certificateHashDataChain"][0]["certificateType"] == "CSMSRootCertificate"
    shown = await command(operator, customer.body["id"])
    assert [(p["kind"], p["data"]["data"]) for p in shown.body["followUps"]] == [
        ("NotifyCustomerInformation", "name: Ada")
    ]
    assert (invalid.status, secret.status, kept.status, one_six.status) == (422, 422, 422, 422)
    assert "type" in invalid.body["detail"]
    assert "rotate-password" in secret.body["detail"]
    assert "a-new-secret" not in json.dumps([c.body for c in (secret,)])
    assert [name for name, _ in station.received].count("Reset") == 0


async def send_ocpp(client: ApiClient, cs: str, action: str, body: dict[str, Any], wait: float = 10) -> Reply:
    return await asyncio.to_thread(client.post, f"/api/v1/stations/{cs}/ocpp/{action}?wait={wait}", body)


async def test_what_2_0_1_alone_can_express_is_refused_for_a_16_charger_naming_the_field(
    operator: ApiClient, stack: LocalStack
) -> None:
    from tests.integration.charger import connected

    async with connected(stack, CS):
        pass  # it connected once with 1.6: its commands are translated for 1.6
    refused = {
        "get-charging-profiles": ({}, "1.6 has no GetChargingProfiles"),
        "reset": ({"type": "OnIdle"}, "type"),
        "start-transaction": (
            {"idToken": {"idToken": "D"}, "groupIdToken": {"idToken": "G"}},
            "groupIdToken",
        ),
        "stop-transaction": ({"transactionId": "TX-A"}, "transactionId"),
        "reserve-now": (
            {
                "connectorType": "cType2",
                "expiryDateTime": "2099-01-01T00:00:00Z",
                "idToken": {"idToken": "D"},
            },
            "connectorType",
        ),
        "set-charging-profile": (
            {
                "evseId": 1,
                "chargingProfile": a_charging_profile(
                    chargingSchedule=[
                        {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}]},
                        {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 8}]},
                    ]
                ),
            },
            "chargingProfile.chargingSchedule",
        ),
        "update-firmware": (
            {"location": "https://fw/1", "retrieveDateTime": "2099-01-01T00:00:00Z", "signature": "c2ln"},
            "signature",
        ),
        "upload-logs": ({"location": "https://logs/", "logType": "SecurityLog"}, "logType"),
        "data-transfer": ({"vendorId": "v", "data": {"not": "text"}}, "data"),
        "trigger-message": ({"requestedMessage": "SignChargingStationCertificate"}, "requestedMessage"),
        "unlock-connector": ({"evseId": 1, "connectorId": 2}, "connectorId"),
    }
    for name, (body, field) in refused.items():
        answer = await send(operator, CS, name, body, wait=0)
        assert answer.status == 422, (name, answer.body)
        assert field in answer.body["detail"], (name, answer.body)
        # a field is named as the schema's errors name theirs, so a client shows it by the field
        named = [e["field"] for e in answer.body.get("errors", [])]
        assert named == ([] if " " in field else [field]), (name, answer.body)
    # and a 2.0.1 action is not a 1.6 charger's
    assert (await send_ocpp(operator, CS, "GetBaseReport", {"reportBase": "FullInventory"})).status == 422
    assert rows_of_commands(await get(operator, f"/stations/{CS}/commands")) == []


def rows_of_commands(listed: Reply) -> list[Any]:
    return list(listed.body["items"])


async def test_a_station_that_changed_protocol_gets_the_command_in_its_new_protocol(
    operator: ApiClient, stack: LocalStack
) -> None:
    from tests.integration.charger import open_socket

    # Given a 1.6 charger with a command in flight (unanswered) and a reset queued behind it,
    # translated for the 1.6 it speaks
    socket = await open_socket(stack, CS)
    first = await send(operator, CS, "clear-cache", {}, wait=0)
    assert (await next_frame(socket))[2] == "ClearCache"
    queued = await send(operator, CS, "reset", {"type": "Immediate"}, wait=0)
    assert (queued.body["status"], queued.body["protocol"], queued.body["ocppRequest"]) == (
        "queued",
        "ocpp1.6",
        {"type": "Soft"},
    )
    also = await send(operator, CS, "trigger-message", {"requestedMessage": "TransactionEvent"}, wait=0)
    assert also.status == 422  # 1.6 has no such trigger
    await socket.close()
    # When it comes back speaking 2.0.1 and the first command times out
    async with connected_201(stack, CS, ObedientStation) as station:
        await booted(station)
        later = FixedClock(datetime.now(UTC) + timedelta(minutes=5))
        assert (await asyncio.to_thread(wiring.commands(later).sweep))["timed_out"] == 1

        async def finished() -> Reply:
            return await command(operator, queued.body["id"])

        done = await eventually(finished, lambda r: r.body["status"] not in ("queued", "sent"))
    # Then the reset went out in 2.0.1's words
    assert isinstance(station, ObedientStation)
    assert station.received == [("Reset", {"type": "Immediate"})]
    assert (done.body["status"], done.body["protocol"], done.body["ocppRequest"]) == (
        "accepted",
        "ocpp2.0.1",
        {"type": "Immediate"},
    )
    assert (await command(operator, first.body["id"])).body["status"] == "timed_out"


async def test_a_station_that_never_connected_gets_its_command_translated_when_it_does(
    operator: ApiClient, stack: LocalStack
) -> None:
    # A neutral command is taken (prepared now; the station is offline, so it waits untranslated);
    # an action of one protocol needs the protocol now.
    offline = await send(operator, CS, "clear-cache", {}, wait=0)
    assert (offline.body["status"], offline.body["reason"]) == ("queued", None)
    assert (offline.body["protocol"], offline.body["action"], offline.body["ocppRequest"]) == (
        None,
        None,
        None,
    )
    not_yet = await send_ocpp(operator, CS, "GetBaseReport", {"reportBase": "FullInventory"})
    assert not_yet.status == 409
    assert "not known yet" in not_yet.body["detail"]
    # When it connects with 2.0.1 and boots, it gets the command in 2.0.1
    async with connected_201(stack, CS, ObedientStation) as station:
        await booted(station)
        done = await get(operator, f"/commands/{offline.body['id']}?wait=10")
    assert (done.body["status"], done.body["protocol"], done.body["action"]) == (
        "accepted",
        "ocpp2.0.1",
        "ClearCache",
    )
    assert [action for action, _ in station.received] == ["ClearCache"]


async def test_an_offline_2_0_1_station_gets_the_command_when_it_reconnects(
    operator: ApiClient, stack: LocalStack, engine: Engine
) -> None:
    # Given a 2.0.1 station that booted and went away
    async with connected_201(stack, CS, ObedientStation) as station:
        await booted(station)
    # When an operator resets it meanwhile
    queued = await send(operator, CS, "reset", {"type": "OnIdle"}, wait=0)
    assert (queued.status, queued.body["status"], queued.body["protocol"]) == (202, "queued", "ocpp2.0.1")
    # Then it waits; the station reconnects (no new boot: the connection was only cut), its first
    # frame is answered, and then the reset comes and its outcome lands
    async with connected_201(stack, CS, ObedientStation) as station:
        assert isinstance(station, ObedientStation)
        await station.call(call.Heartbeat(), suppress=False)
        done = await get(operator, f"/commands/{queued.body['id']}?wait=10")
    assert station.received == [("Reset", {"type": "OnIdle"})]
    assert (done.body["status"], done.body["response"], done.body["attempts"]) == (
        "accepted",
        {"status": "Accepted"},
        1,
    )
    assert rows(engine, "SELECT status FROM commands WHERE id = :id", id=queued.body["id"]) == [
        {"status": "accepted"}
    ]
