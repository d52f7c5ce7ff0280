"""Every neutral command in OCPP 1.6 and in 2.0.1 (the translation table of the README), each
payload checked against the official schema of its protocol; what a protocol cannot express is
refused naming the field; answers read back in neutral terms. Builders only, no network."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from csms.constants import OCPP16, OCPP201
from csms.domain.commands import Command, CommandStatus
from csms.domain.device_model import VariableSource
from csms.errors import InvalidInput
from csms.ocpp16 import outbound as v16
from csms.ocpp201 import outbound as v201
from csms.services.commands import CommandRegistry
from csms.services.device_model import DeviceModelService
from csms.services.neutral_commands import Preparations
from tests.builders import a_charging_profile, a_reservation, a_variable
from tests.fakes import FakeDeviceModelStore, stations_where

NOW = datetime(2026, 12, 10, 12, tzinfo=UTC)


def registries(store: FakeDeviceModelStore | None = None) -> dict[str, CommandRegistry]:
    device_model = DeviceModelService(store or FakeDeviceModelStore(), stations_where())
    # Translation touches no service: the ones prepare and the answers use are not needed here.
    preparations = Preparations(lambda: 1, None, None)  # type: ignore[arg-type]
    built = [
        adapter.registry(device_model, local_lists=None, preparations=preparations)  # type: ignore[arg-type]
        for adapter in (v16, v201)
    ]
    return {registry.protocol: registry for registry in built}


REGISTRIES = registries()


def translate(protocol: str, name: str, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    registry = REGISTRIES[protocol]
    translation = registry.spec(name).translation(body)
    registry.validate_request(translation.action, translation.payload)  # the official schema
    return translation.action, translation.payload


PROFILE = a_charging_profile(id=4, validFrom="2026-12-10T00:00:00.000Z")
SCHEDULE = {
    "chargingRateUnit": "A",
    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7.4}, {"startPeriod": 3600, "limit": 16.1}],
}

#: name, neutral body (prepared), 1.6 (action, payload), 2.0.1 (action, payload)
TABLE: list[tuple[str, dict[str, Any], tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]] = [
    (
        "start-transaction",
        {"idToken": {"idToken": "TAG", "type": "Central"}, "evseId": 2, "remoteStartId": 9},
        ("RemoteStartTransaction", {"idTag": "TAG", "connectorId": 2}),
        (
            "RequestStartTransaction",
            {"idToken": {"idToken": "TAG", "type": "Central"}, "remoteStartId": 9, "evseId": 2},
        ),
    ),
    (
        "start-transaction",
        {
            "idToken": {"idToken": "TAG", "type": "ISO14443"},
            "remoteStartId": 9,
            "chargingProfile": a_charging_profile(chargingProfilePurpose="TxProfile"),
        },
        (
            "RemoteStartTransaction",
            {
                "idTag": "TAG",
                "chargingProfile": {
                    "chargingProfileId": 1,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "TxProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": SCHEDULE,
                },
            },
        ),
        (
            "RequestStartTransaction",
            {
                "idToken": {"idToken": "TAG", "type": "ISO14443"},
                "remoteStartId": 9,
                "chargingProfile": {
                    "id": 1,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "TxProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": [{"id": 1, **SCHEDULE}],
                },
            },
        ),
    ),
    (
        "stop-transaction",
        {"transactionId": "17"},
        ("RemoteStopTransaction", {"transactionId": 17}),
        ("RequestStopTransaction", {"transactionId": "17"}),
    ),
    ("reset", {"type": "Immediate"}, ("Reset", {"type": "Soft"}), ("Reset", {"type": "Immediate"})),
    ("reset", {"type": "Hard"}, ("Reset", {"type": "Hard"}), ("Reset", {"type": "Immediate"})),
    (
        "unlock-connector",
        {"evseId": 3, "connectorId": 1},
        ("UnlockConnector", {"connectorId": 3}),
        ("UnlockConnector", {"evseId": 3, "connectorId": 1}),
    ),
    (
        "change-availability",
        {"operational": False},
        ("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}),
        ("ChangeAvailability", {"operationalStatus": "Inoperative"}),
    ),
    (
        "change-availability",
        {"operational": True, "evseId": 2, "connectorId": 1},
        ("ChangeAvailability", {"connectorId": 2, "type": "Operative"}),
        ("ChangeAvailability", {"operationalStatus": "Operative", "evse": {"id": 2, "connectorId": 1}}),
    ),
    ("clear-cache", {}, ("ClearCache", {}), ("ClearCache", {})),
    (
        "trigger-message",
        {"requestedMessage": "LogStatusNotification"},
        ("TriggerMessage", {"requestedMessage": "DiagnosticsStatusNotification"}),
        ("TriggerMessage", {"requestedMessage": "LogStatusNotification"}),
    ),
    (
        "trigger-message",
        {"requestedMessage": "StatusNotification", "evseId": 2, "connectorId": 1},
        ("TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 2}),
        ("TriggerMessage", {"requestedMessage": "StatusNotification", "evse": {"id": 2, "connectorId": 1}}),
    ),
    (
        "get-variables",
        {"requestId": 5},
        ("GetConfiguration", {}),
        ("GetBaseReport", {"requestId": 5, "reportBase": "FullInventory"}),
    ),
    (
        "get-variables",
        {
            "variables": [
                a_variable(),
                a_variable("SampledDataCtrlr", "TxUpdatedInterval"),
                a_variable("OCPP16", "LightIntensity"),
            ]
        },
        ("GetConfiguration", {"key": ["HeartbeatInterval", "MeterValueSampleInterval", "LightIntensity"]}),
        (
            "GetVariables",
            {
                "getVariableData": [
                    a_variable(),
                    a_variable("SampledDataCtrlr", "TxUpdatedInterval"),
                    a_variable("OCPP16", "LightIntensity"),
                ]
            },
        ),
    ),
    (
        "set-variables",
        {"variables": [a_variable(attributeValue="60")]},
        ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"}),
        ("SetVariables", {"setVariableData": [a_variable(attributeValue="60")]}),
    ),
    (
        "set-charging-profile",
        {"evseId": 0, "chargingProfile": {**PROFILE, "chargingProfilePurpose": "ChargingStationMaxProfile"}},
        (
            "SetChargingProfile",
            {
                "connectorId": 0,
                "csChargingProfiles": {
                    "chargingProfileId": 4,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "ChargePointMaxProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": SCHEDULE,
                    "validFrom": "2026-12-10T00:00:00.000Z",
                },
            },
        ),
        (
            "SetChargingProfile",
            {
                "evseId": 0,
                "chargingProfile": {
                    "id": 4,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "ChargingStationMaxProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": [{"id": 1, **SCHEDULE}],
                    "validFrom": "2026-12-10T00:00:00.000Z",
                },
            },
        ),
    ),
    (
        "set-charging-profile",
        {
            "evseId": 1,
            "chargingProfile": {**PROFILE, "chargingProfilePurpose": "TxProfile", "transactionId": "88"},
        },
        (
            "SetChargingProfile",
            {
                "connectorId": 1,
                "csChargingProfiles": {
                    "chargingProfileId": 4,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "TxProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": SCHEDULE,
                    "validFrom": "2026-12-10T00:00:00.000Z",
                    "transactionId": 88,
                },
            },
        ),
        (
            "SetChargingProfile",
            {
                "evseId": 1,
                "chargingProfile": {
                    "id": 4,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "TxProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": [{"id": 1, **SCHEDULE}],
                    "validFrom": "2026-12-10T00:00:00.000Z",
                    "transactionId": "88",
                },
            },
        ),
    ),
    (
        "clear-charging-profile",
        {"chargingProfileId": 4},
        ("ClearChargingProfile", {"id": 4}),
        ("ClearChargingProfile", {"chargingProfileId": 4}),
    ),
    (
        "clear-charging-profile",
        {"evseId": 0, "chargingProfilePurpose": "ChargingStationMaxProfile", "stackLevel": 1},
        (
            "ClearChargingProfile",
            {"connectorId": 0, "chargingProfilePurpose": "ChargePointMaxProfile", "stackLevel": 1},
        ),
        (
            "ClearChargingProfile",
            {
                "chargingProfileCriteria": {
                    "evseId": 0,
                    "chargingProfilePurpose": "ChargingStationMaxProfile",
                    "stackLevel": 1,
                }
            },
        ),
    ),
    (
        "get-composite-schedule",
        {"evseId": 1, "duration": 60, "chargingRateUnit": "W"},
        ("GetCompositeSchedule", {"connectorId": 1, "duration": 60, "chargingRateUnit": "W"}),
        ("GetCompositeSchedule", {"evseId": 1, "duration": 60, "chargingRateUnit": "W"}),
    ),
    (
        "reserve-now",
        a_reservation(groupIdToken={"idToken": "FLEET", "type": "Central"}),
        (
            "ReserveNow",
            {
                "connectorId": 1,
                "expiryDate": "2026-12-10T13:00:00.000Z",
                "idTag": "DRIVER",
                "reservationId": 42,
                "parentIdTag": "FLEET",
            },
        ),
        (
            "ReserveNow",
            {
                "id": 42,
                "expiryDateTime": "2026-12-10T13:00:00.000Z",
                "idToken": {"idToken": "DRIVER", "type": "ISO14443"},
                "evseId": 1,
                "groupIdToken": {"idToken": "FLEET", "type": "Central"},
            },
        ),
    ),
    (
        "reserve-now",
        a_reservation(evseId=None),
        (
            "ReserveNow",
            {
                "connectorId": 0,
                "expiryDate": "2026-12-10T13:00:00.000Z",
                "idTag": "DRIVER",
                "reservationId": 42,
            },
        ),
        (
            "ReserveNow",
            {
                "id": 42,
                "expiryDateTime": "2026-12-10T13:00:00.000Z",
                "idToken": {"idToken": "DRIVER", "type": "ISO14443"},
            },
        ),
    ),
    (
        "cancel-reservation",
        {"reservationId": 42},
        ("CancelReservation", {"reservationId": 42}),
        ("CancelReservation", {"reservationId": 42}),
    ),
    (
        "send-local-list",
        {
            "updateType": "Differential",
            "listVersion": 3,
            "entries": [
                {
                    "idToken": {"idToken": "A", "type": "KeyCode"},
                    "idTokenInfo": {
                        "status": "NoCredit",
                        "cacheExpiryDateTime": "2027-01-01T00:00:00.000Z",
                        "groupIdToken": {"idToken": "G"},
                    },
                },
                {"idToken": {"idToken": "GONE", "type": "ISO14443"}},
            ],
        },
        (
            "SendLocalList",
            {
                "listVersion": 3,
                "updateType": "Differential",
                "localAuthorizationList": [
                    {
                        "idTag": "A",
                        "idTagInfo": {
                            "status": "Blocked",
                            "expiryDate": "2027-01-01T00:00:00.000Z",
                            "parentIdTag": "G",
                        },
                    },
                    {"idTag": "GONE"},
                ],
            },
        ),
        (
            "SendLocalList",
            {
                "versionNumber": 3,
                "updateType": "Differential",
                "localAuthorizationList": [
                    {
                        "idToken": {"idToken": "A", "type": "KeyCode"},
                        "idTokenInfo": {
                            "status": "NoCredit",
                            "cacheExpiryDateTime": "2027-01-01T00:00:00.000Z",
                            "groupIdToken": {"idToken": "G", "type": "Central"},
                        },
                    },
                    {"idToken": {"idToken": "GONE", "type": "ISO14443"}},
                ],
            },
        ),
    ),
    (
        "send-local-list",
        {"updateType": "Full", "listVersion": 1, "entries": []},
        ("SendLocalList", {"listVersion": 1, "updateType": "Full", "localAuthorizationList": []}),
        ("SendLocalList", {"versionNumber": 1, "updateType": "Full"}),
    ),
    ("get-local-list-version", {}, ("GetLocalListVersion", {}), ("GetLocalListVersion", {})),
    (
        "update-firmware",
        {
            "location": "https://fw/2.bin",
            "retrieveDateTime": "2026-12-11T00:00:00.000Z",
            "retries": 1,
            "requestId": 6,
        },
        (
            "UpdateFirmware",
            {"location": "https://fw/2.bin", "retrieveDate": "2026-12-11T00:00:00.000Z", "retries": 1},
        ),
        (
            "UpdateFirmware",
            {
                "requestId": 6,
                "firmware": {"location": "https://fw/2.bin", "retrieveDateTime": "2026-12-11T00:00:00.000Z"},
                "retries": 1,
            },
        ),
    ),
    (
        "upload-logs",
        {
            "location": "ftp://logs/",
            "oldestTimestamp": "2026-12-01T00:00:00.000Z",
            "latestTimestamp": "2026-12-02T00:00:00.000Z",
            "retryInterval": 30,
            "requestId": 8,
        },
        (
            "GetDiagnostics",
            {
                "location": "ftp://logs/",
                "startTime": "2026-12-01T00:00:00.000Z",
                "stopTime": "2026-12-02T00:00:00.000Z",
                "retryInterval": 30,
            },
        ),
        (
            "GetLog",
            {
                "log": {
                    "remoteLocation": "ftp://logs/",
                    "oldestTimestamp": "2026-12-01T00:00:00.000Z",
                    "latestTimestamp": "2026-12-02T00:00:00.000Z",
                },
                "logType": "DiagnosticsLog",
                "requestId": 8,
                "retryInterval": 30,
            },
        ),
    ),
    (
        "data-transfer",
        {"vendorId": "acme", "messageId": "m", "data": "text"},
        ("DataTransfer", {"vendorId": "acme", "messageId": "m", "data": "text"}),
        ("DataTransfer", {"vendorId": "acme", "messageId": "m", "data": "text"}),
    ),
]


@pytest.mark.parametrize(("name", "body", "in_16", "in_201"), TABLE, ids=[row[0] for row in TABLE])
def test_each_neutral_command_in_both_protocols(
    name: str, body: dict[str, Any], in_16: tuple[str, dict[str, Any]], in_201: tuple[str, dict[str, Any]]
) -> None:
    assert translate(OCPP16, name, body) == in_16
    assert translate(OCPP201, name, body) == in_201


#: What only 2.0.1 can say: name, body, the field a 1.6 refusal names.
ONLY_201 = [
    ("get-charging-profiles", {"requestId": 1}, "get-charging-profiles"),
    ("reset", {"type": "OnIdle"}, "type"),
    ("reset", {"type": "Immediate", "evseId": 1}, "evseId"),
    ("start-transaction", {"idToken": {"idToken": "T" * 21}, "remoteStartId": 1}, "idToken.idToken"),
    (
        "start-transaction",
        {"idToken": {"idToken": "T"}, "groupIdToken": {"idToken": "G"}, "remoteStartId": 1},
        "groupIdToken",
    ),
    ("stop-transaction", {"transactionId": "a6f1-uuid"}, "transactionId"),
    ("stop-transaction", {"transactionId": "2147483648"}, "transactionId"),
    ("unlock-connector", {"evseId": 1, "connectorId": 2}, "connectorId"),
    ("change-availability", {"operational": True, "evseId": 1, "connectorId": 2}, "connectorId"),
    ("trigger-message", {"requestedMessage": "TransactionEvent"}, "requestedMessage"),
    ("trigger-message", {"requestedMessage": "SignV2GCertificate"}, "requestedMessage"),
    ("get-variables", {"variables": [a_variable("EVSE", "Power")]}, "variables[0]"),
    (
        "set-variables",
        {"variables": [a_variable(attributeValue="1"), a_variable(attributeValue="2")]},
        "variables",
    ),
    (
        "set-variables",
        {"variables": [a_variable("LocalAuthListCtrlr", "Entries", attributeValue="9")]},
        "capacity",
    ),
    ("set-variables", {"variables": [a_variable(attributeValue="x" * 501)]}, "attributeValue"),
    (
        "set-charging-profile",
        {"evseId": 1, "chargingProfile": a_charging_profile(chargingSchedule=[SCHEDULE, SCHEDULE])},
        "chargingProfile.chargingSchedule",
    ),
    (
        "set-charging-profile",
        {
            "evseId": 0,
            "chargingProfile": a_charging_profile(
                chargingProfilePurpose="ChargingStationExternalConstraints"
            ),
        },
        "chargingProfile.chargingProfilePurpose",
    ),
    (
        "set-charging-profile",
        {
            "evseId": 1,
            "chargingProfile": a_charging_profile(
                chargingSchedule={
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 6, "numberPhases": 1, "phaseToUse": 2}
                    ],
                }
            ),
        },
        "phaseToUse",
    ),
    ("reserve-now", a_reservation(connectorType="cType2"), "connectorType"),
    (
        "update-firmware",
        {
            "location": "https://f",
            "retrieveDateTime": "2026-12-11T00:00:00Z",
            "installDateTime": "2026-12-12T00:00:00Z",
            "requestId": 1,
        },
        "installDateTime",
    ),
    (
        "update-firmware",
        {
            "location": "https://f",
            "retrieveDateTime": "2026-12-11T00:00:00Z",
            "signingCertificate": "PEM",
            "requestId": 1,
        },
        "signingCertificate",
    ),
    ("upload-logs", {"location": "ftp://l/", "logType": "SecurityLog", "requestId": 1}, "logType"),
    ("data-transfer", {"vendorId": "v", "data": {"a": 1}}, "data"),
]


@pytest.mark.parametrize(("name", "body", "field"), ONLY_201, ids=[f"{row[0]}:{row[2]}" for row in ONLY_201])
def test_what_16_cannot_express_is_refused_naming_the_field_and_2_0_1_takes_it(
    name: str, body: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput, match=field.replace("[", r"\[").replace("]", r"\]")):
        translate(OCPP16, name, body)
    if (
        name != "set-variables" or "capacity" not in field
    ):  # a capacity is read-only in 2.0.1 too: the station says so
        translate(OCPP201, name, body)


@pytest.mark.parametrize("protocol", [OCPP16, OCPP201])
def test_a_password_is_never_set_as_a_variable(protocol: str) -> None:
    body = {"variables": [a_variable("SecurityCtrlr", "BasicAuthPassword", attributeValue="s" * 20)]}
    with pytest.raises(InvalidInput, match="rotate-password"):
        translate(protocol, "set-variables", body)


def test_a_tx_profile_without_its_transaction_is_refused_for_2_0_1_and_sent_to_1_6() -> None:
    # OCPP 2.0.1 K01.FR.03: the CSMS includes the transactionId when it sets a TxProfile; a 1.6
    # charge point applies one without it to the transaction running on the connector
    body = {"evseId": 1, "chargingProfile": {**PROFILE, "chargingProfilePurpose": "TxProfile"}}
    with pytest.raises(InvalidInput, match=r"chargingProfile\.transactionId"):
        translate(OCPP201, "set-charging-profile", body)
    translate(OCPP16, "set-charging-profile", body)


def test_a_2_0_1_time_with_more_than_three_fraction_digits_is_refused() -> None:
    with pytest.raises(InvalidInput, match="three fraction digits"):
        v201.validate_request(
            "ReserveNow",
            {
                "id": 1,
                "expiryDateTime": "2099-01-01T00:00:00.123456Z",
                "idToken": {"idToken": "D", "type": "Central"},
            },
        )


# --- the answers, read back -------------------------------------------------------------------------


def a_command(protocol: str, name: str, body: dict[str, Any]) -> Command:
    translation = REGISTRIES[protocol].spec(name).translation(body)
    return Command(
        id="c1",
        tenant_id="t1",
        charge_point_id="CP",
        name=name,
        request=body,
        status=CommandStatus.SENT,
        created_at=NOW,
        protocol=protocol,
        action=translation.action,
        ocpp_request=translation.payload,
        request_id=translation.request_id,
    )


def test_a_composite_schedule_reads_the_same_from_both_protocols() -> None:
    body = {"evseId": 1, "duration": 600}
    periods = [{"startPeriod": 0, "limit": 16.0}]
    from_16 = (
        REGISTRIES[OCPP16]
        .spec("get-composite-schedule")
        .on_result(
            a_command(OCPP16, "get-composite-schedule", body),
            {
                "status": "Accepted",
                "connectorId": 1,
                "scheduleStart": "2026-12-10T12:00:00Z",
                "chargingSchedule": {
                    "duration": 600,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": periods,
                },
            },
            NOW,
        )
    )
    schedule = {
        "evseId": 1,
        "duration": 600,
        "scheduleStart": "2026-12-10T12:00:00Z",
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": periods,
    }
    from_201 = (
        REGISTRIES[OCPP201]
        .spec("get-composite-schedule")
        .on_result(
            a_command(OCPP201, "get-composite-schedule", body),
            {"status": "Accepted", "schedule": schedule},
            NOW,
        )
    )
    assert from_16.result == from_201.result == {"schedule": schedule}


def test_set_variables_answers_land_in_the_device_model_in_both_protocols() -> None:
    store = FakeDeviceModelStore()
    both = registries(store)
    body = {"variables": [a_variable(attributeValue="120")]}
    for protocol, answer in (
        (OCPP16, {"status": "Accepted"}),
        (
            OCPP201,
            {"setVariableResult": [{"attributeStatus": "Accepted", **a_variable()}]},
        ),
    ):
        registry = both[protocol]
        translation = registry.spec("set-variables").translation(body)
        command = a_command(protocol, "set-variables", body)
        outcome = registry.spec("set-variables").on_result(command, answer, NOW)
        assert (outcome.status, translation.action) == (
            CommandStatus.ACCEPTED,
            {OCPP16: "ChangeConfiguration", OCPP201: "SetVariables"}[protocol],
        )
    assert [
        (values[0].address.variable.name, values[0].value, source) for _, _, values, source in store.calls
    ] == [
        ("HeartbeatInterval", "120", VariableSource.CHANGE_CONFIGURATION),
        ("HeartbeatInterval", "120", VariableSource.SET_VARIABLES),
    ]


def test_a_remote_start_tells_the_station_which_id_to_echo() -> None:
    body = {"idToken": {"idToken": "T", "type": "Central"}, "remoteStartId": 31}
    assert REGISTRIES[OCPP201].spec("start-transaction").translation(body).request_id == 31
    assert REGISTRIES[OCPP16].spec("start-transaction").translation(body).request_id is None
