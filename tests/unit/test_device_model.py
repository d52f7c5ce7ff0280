"""The device model: the 1.6 key mapping (both ways) and the service the adapters call with what
stations report (NotifyReport, GetVariables and SetVariables results, 1.6 configuration)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from csms.domain.device_model import (
    HEARTBEAT_INTERVAL,
    LOCAL_LIST_ENTRIES,
    AttributeType,
    Component,
    GetVariableResult,
    GetVariableStatus,
    Mutability,
    ReportedAttribute,
    ReportedVariable,
    SetVariableResult,
    SetVariableStatus,
    Variable,
    VariableAddress,
    VariableQuery,
    VariableSource,
    VariableValue,
    address,
)
from csms.domain.tenancy import TenantScope
from csms.errors import NotFound
from csms.ocpp16.configuration import (
    KEYS,
    OCPP16_COMPONENT,
    configuration_values,
    is_max_limit,
    key_of,
    key_value,
    unmapped,
)
from csms.services.device_model import DeviceModelService
from tests.fakes import FakeDeviceModelStore, stations_where

NOW = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)
CP = "CP-1"


def service() -> tuple[DeviceModelService, FakeDeviceModelStore]:
    store = FakeDeviceModelStore()
    return DeviceModelService(store, stations_where(lambda tenant, cp: tenant == "acme")), store


# --- the 1.6 key mapping ----------------------------------------------------------------------


def test_every_mapped_key_goes_to_its_variable_and_back() -> None:
    for mapping in KEYS:
        assert key_of(mapping.address) == mapping.key
        assert key_value(mapping.key.upper(), "1").address == mapping.address
    assert len({m.address.key() for m in KEYS}) == len(KEYS), "two keys share a variable"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("HeartbeatInterval", "300", address("OCPPCommCtrlr", "HeartbeatInterval")),
        (
            "MeterValuesSampledData",
            "Energy.Active.Import.Register",
            address("SampledDataCtrlr", "TxUpdatedMeasurands"),
        ),
        (
            "TransactionMessageAttempts",
            "3",
            address("OCPPCommCtrlr", "MessageAttempts", variable_instance="TransactionEvent"),
        ),
        ("NumberOfConnectors", "2", address(OCPP16_COMPONENT, "NumberOfConnectors")),
        ("VendorSpecificThing", "x", address(OCPP16_COMPONENT, "VendorSpecificThing")),
    ],
)
def test_a_key_is_its_20_variable_or_an_ocpp16_one(key: str, value: str, expected: VariableAddress) -> None:
    mapped = key_value(key, value, readonly=False)
    assert (mapped.address, mapped.value, mapped.ocpp16_key) == (expected, value, key)
    assert mapped.mutability is Mutability.READ_WRITE
    assert key_of(expected) == key


def test_a_capacity_is_the_max_limit_of_what_it_counts() -> None:
    entries = key_value("LocalAuthListMaxLength", " 500 ", readonly=True)
    assert (entries.address, entries.value, entries.characteristics) == (
        LOCAL_LIST_ENTRIES,
        None,
        {"maxLimit": 500},
    )
    assert entries.mutability is Mutability.READ_ONLY
    assert is_max_limit("localauthlistmaxlength")
    # one that is not a number stays what it was, under its key
    odd = key_value("LocalAuthListMaxLength", "lots")
    assert (odd.address, odd.value, odd.characteristics) == (unmapped("LocalAuthListMaxLength"), "lots", None)
    # an unknown capacity key is unknown where it would be
    unknown = key_value("LocalAuthListMaxLength", None, known=False)
    assert (unknown.address, unknown.known, unknown.characteristics) == (LOCAL_LIST_ENTRIES, False, None)


def test_a_get_configuration_answer_with_unknown_keys() -> None:
    values = configuration_values(
        [{"key": "HeartbeatInterval", "readonly": False, "value": "60"}, {"key": "Other"}], ["Bogus"]
    )
    assert [(v.address, v.value, v.known, v.mutability) for v in values] == [
        (HEARTBEAT_INTERVAL, "60", True, Mutability.READ_WRITE),
        (unmapped("Other"), None, True, None),
        (unmapped("Bogus"), None, False, None),
    ]


def test_variables_1_6_cannot_name_have_no_key() -> None:
    assert key_of(address("EVSE", "Power", evse_id=1)) is None
    assert key_of(address("OCPPCommCtrlr", "HeartbeatInterval", attribute_type=AttributeType.TARGET)) is None
    assert key_of(address(OCPP16_COMPONENT, "X", evse_id=1)) is None
    assert key_of(address("ocppcommctrlr", "heartbeatinterval")) == "HeartbeatInterval"


# --- the service ---------------------------------------------------------------------------------


def test_a_notify_report_part_stores_each_attribute_with_the_variables_characteristics() -> None:
    devices, _ = service()
    connector = Component("Connector", evse_id=1, connector_id=1)
    devices.reported(
        "acme",
        CP,
        [
            ReportedVariable(
                Component("OCPPCommCtrlr"),
                Variable("HeartbeatInterval"),
                [
                    ReportedAttribute(AttributeType.ACTUAL, "300", Mutability.READ_WRITE, True, False),
                    ReportedAttribute(AttributeType.TARGET, "600"),
                ],
                {"unit": "s", "dataType": "integer"},
            ),
            ReportedVariable(connector, Variable("ConnectorType"), [ReportedAttribute(value="cType2")]),
        ],
        NOW,
    )
    found, total = devices.search(TenantScope("acme"), CP, VariableQuery())
    assert total == 3
    assert [(v.address, v.value, v.characteristics, v.source) for v in found] == [
        (
            VariableAddress(connector, Variable("ConnectorType")),
            "cType2",
            None,
            VariableSource.NOTIFY_REPORT,
        ),
        (HEARTBEAT_INTERVAL, "300", {"unit": "s", "dataType": "integer"}, VariableSource.NOTIFY_REPORT),
        (
            address("OCPPCommCtrlr", "HeartbeatInterval", attribute_type=AttributeType.TARGET),
            "600",
            {"unit": "s", "dataType": "integer"},
            VariableSource.NOTIFY_REPORT,
        ),
    ]
    assert (found[1].mutability, found[1].persistent, found[1].constant) == (
        Mutability.READ_WRITE,
        True,
        False,
    )
    # by EVSE and by (case-insensitive) name
    assert [
        v.address.variable.name for v in devices.search(TenantScope("acme"), CP, VariableQuery(evse_id=1))[0]
    ] == ["ConnectorType"]
    assert devices.search(TenantScope("acme"), CP, VariableQuery(variable="heartbeatinterval"))[1] == 2


def test_get_variables_results_store_values_and_unknowns_only() -> None:
    devices, _ = service()
    devices.reported(
        "acme",
        CP,
        [
            ReportedVariable(
                Component("OCPPCommCtrlr"),
                Variable("HeartbeatInterval"),
                [ReportedAttribute(value="300", mutability=Mutability.READ_WRITE)],
            )
        ],
        NOW,
    )
    devices.read(
        "acme",
        CP,
        [
            GetVariableResult(HEARTBEAT_INTERVAL, GetVariableStatus.ACCEPTED, "120"),
            GetVariableResult(address("Nope", "X"), GetVariableStatus.UNKNOWN_COMPONENT),
            GetVariableResult(address("TxCtrlr", "Y"), GetVariableStatus.UNKNOWN_VARIABLE),
            GetVariableResult(address("TxCtrlr", "Z"), GetVariableStatus.REJECTED),
            GetVariableResult(
                address("TxCtrlr", "EVConnectionTimeOut", attribute_type=AttributeType.MAX_SET),
                GetVariableStatus.NOT_SUPPORTED_ATTRIBUTE_TYPE,
            ),
        ],
        NOW,
    )
    known = devices.known("acme", CP, [HEARTBEAT_INTERVAL, address("Nope", "X")])
    assert list(known) == [HEARTBEAT_INTERVAL]
    # the value is new, the mutability the report gave stays
    assert (known[HEARTBEAT_INTERVAL].value, known[HEARTBEAT_INTERVAL].mutability) == (
        "120",
        Mutability.READ_WRITE,
    )
    assert known[HEARTBEAT_INTERVAL].source is VariableSource.GET_VARIABLES
    found, _ = devices.search(TenantScope("acme"), CP, VariableQuery())
    assert [(v.address.component.name, v.address.variable.name, v.known) for v in found] == [
        ("Nope", "X", False),
        ("OCPPCommCtrlr", "HeartbeatInterval", True),
        ("TxCtrlr", "Y", False),
    ]


def test_set_variables_results_store_what_the_station_accepted() -> None:
    devices, _ = service()
    devices.set(
        "acme",
        CP,
        [
            SetVariableResult(HEARTBEAT_INTERVAL, SetVariableStatus.ACCEPTED, "60"),
            SetVariableResult(
                address("TxCtrlr", "EVConnectionTimeOut"), SetVariableStatus.REBOOT_REQUIRED, "90"
            ),
            SetVariableResult(address("TxCtrlr", "StopTxOnInvalidId"), SetVariableStatus.REJECTED, "true"),
            SetVariableResult(address("Nope", "X"), SetVariableStatus.UNKNOWN_COMPONENT, "1"),
        ],
        NOW,
    )
    found, _ = devices.search(TenantScope("acme"), CP, VariableQuery())
    assert [(v.address.variable.name, v.value, v.known, v.source) for v in found] == [
        ("X", None, False, VariableSource.SET_VARIABLES),
        ("HeartbeatInterval", "60", True, VariableSource.SET_VARIABLES),
        ("EVConnectionTimeOut", "90", True, VariableSource.SET_VARIABLES),
    ]


def test_a_credential_is_recorded_without_its_value() -> None:
    devices, store = service()
    password = address("SecurityCtrlr", "BasicAuthPassword")
    devices.set(
        "acme", CP, [SetVariableResult(password, SetVariableStatus.ACCEPTED, "s3cr3t-password-16")], NOW
    )
    devices.record(
        "acme", CP, [key_value("AuthorizationKey", "0011223344")], VariableSource.CHANGE_CONFIGURATION, NOW
    )
    stored = [v for _, _, values, _ in store.calls for v in values]
    assert [(v.address, v.value) for v in stored] == [(password, None), (password, None)]
    assert devices.known("acme", CP, [password])[password].ocpp16_key == "AuthorizationKey"


def test_operators_see_only_their_tenants_stations() -> None:
    devices, _ = service()
    devices.record("globex", CP, [VariableValue(HEARTBEAT_INTERVAL, "1")], VariableSource.GET_VARIABLES, NOW)
    with pytest.raises(NotFound):
        devices.search(TenantScope("globex"), CP, VariableQuery())
    assert devices.search(TenantScope("acme"), CP, VariableQuery()) == ([], 0)
