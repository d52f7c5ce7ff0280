"""The device model against PostgreSQL: the service the adapters call (NotifyReport,
GetVariables, SetVariables, 1.6 configuration) and what operators read at
/stations/{id}/variables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from csms.data.database import PgDatabase
from csms.data.device_model import PgDeviceModelStore
from csms.data.fleet import PgFleetQueries
from csms.data.liveness import PgHeartbeatIntervals
from csms.domain.device_model import (
    HEARTBEAT_INTERVAL,
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
    VariableSource,
    address,
)
from csms.ocpp16.configuration import configuration_values, key_value
from csms.services.device_model import DeviceModelService
from csms.services.stations import Stations
from tests.integration.api_client import ApiClient
from tests.integration.conftest import rows

pytestmark = pytest.mark.integration
V1 = "/api/v1"
T0 = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)


@pytest.fixture
def devices(engine: Engine, api: ApiClient) -> DeviceModelService:
    admin = api.as_("acme", "admin")
    for station in ("DM-201", "DM-16"):
        assert admin.post(f"{V1}/stations", {"id": station, "securityProfile": 0}).status == 201
    db = PgDatabase(engine)
    return DeviceModelService(PgDeviceModelStore(db), Stations(PgFleetQueries(db)))


def _report() -> list[ReportedVariable]:
    return [
        ReportedVariable(
            Component("OCPPCommCtrlr"),
            Variable("HeartbeatInterval"),
            [
                ReportedAttribute(AttributeType.ACTUAL, "300", Mutability.READ_WRITE, True, False),
                ReportedAttribute(AttributeType.MAX_SET, "3600", Mutability.READ_ONLY),
            ],
            {"unit": "s", "dataType": "integer", "minLimit": 10},
        ),
        ReportedVariable(
            Component("EVSE", evse_id=1),
            Variable("Power"),
            [ReportedAttribute(value="22000", mutability=Mutability.READ_ONLY)],
            {"unit": "W", "dataType": "decimal", "maxLimit": 22000},
        ),
        ReportedVariable(
            Component("Connector", evse_id=1, connector_id=1),
            Variable("ConnectorType"),
            [ReportedAttribute(value="cType2", mutability=Mutability.READ_ONLY)],
        ),
        ReportedVariable(
            Component("SecurityCtrlr"),
            Variable("BasicAuthPassword"),
            [ReportedAttribute(mutability=Mutability.WRITE_ONLY)],
        ),
    ]


def test_a_notify_report_then_get_and_set_variables(
    devices: DeviceModelService, engine: Engine, api: ApiClient
) -> None:
    # Given a 2.0.1 station's report, in two parts
    report = _report()
    devices.reported("acme", "DM-201", report[:2], T0)
    devices.reported("acme", "DM-201", report[2:], T0)
    # When GetVariables reads the heartbeat interval (its case as the station spells it) and
    # SetVariables sets the password and an unknown variable
    devices.read(
        "acme",
        "DM-201",
        [
            GetVariableResult(
                address("ocppcommctrlr", "heartbeatInterval"), GetVariableStatus.ACCEPTED, "240"
            ),
            GetVariableResult(address("EVSE", "Nope", evse_id=1), GetVariableStatus.UNKNOWN_VARIABLE),
        ],
        T0 + timedelta(minutes=1),
    )
    devices.set(
        "acme",
        "DM-201",
        [
            SetVariableResult(
                address("SecurityCtrlr", "BasicAuthPassword"),
                SetVariableStatus.ACCEPTED,
                "a-new-password-1234",
            )
        ],
        T0 + timedelta(minutes=2),
    )

    # Then each attribute is one row, updated in place (names as last received), metadata kept,
    # the credential without value
    assert rows(
        engine,
        "SELECT component, evse_id, connector_id, variable, attribute_type, value, mutability, persistent, "
        "characteristics ->> 'unit' AS unit, known, source FROM device_model_variables "
        "WHERE charge_point_id = 'DM-201' ORDER BY id",
    ) == [
        {
            "component": "ocppcommctrlr",
            "evse_id": -1,
            "connector_id": -1,
            "variable": "heartbeatInterval",
            "attribute_type": "Actual",
            "value": "240",
            "mutability": "ReadWrite",
            "persistent": True,
            "unit": "s",
            "known": True,
            "source": "GetVariables",
        },
        {
            "component": "OCPPCommCtrlr",
            "evse_id": -1,
            "connector_id": -1,
            "variable": "HeartbeatInterval",
            "attribute_type": "MaxSet",
            "value": "3600",
            "mutability": "ReadOnly",
            "persistent": None,
            "unit": "s",
            "known": True,
            "source": "NotifyReport",
        },
        {
            "component": "EVSE",
            "evse_id": 1,
            "connector_id": -1,
            "variable": "Power",
            "attribute_type": "Actual",
            "value": "22000",
            "mutability": "ReadOnly",
            "persistent": None,
            "unit": "W",
            "known": True,
            "source": "NotifyReport",
        },
        {
            "component": "Connector",
            "evse_id": 1,
            "connector_id": 1,
            "variable": "ConnectorType",
            "attribute_type": "Actual",
            "value": "cType2",
            "mutability": "ReadOnly",
            "persistent": None,
            "unit": None,
            "known": True,
            "source": "NotifyReport",
        },
        {
            "component": "SecurityCtrlr",
            "evse_id": -1,
            "connector_id": -1,
            "variable": "BasicAuthPassword",
            "attribute_type": "Actual",
            "value": None,
            "mutability": "WriteOnly",
            "persistent": None,
            "unit": None,
            "known": True,
            "source": "SetVariables",
        },
        {
            "component": "EVSE",
            "evse_id": 1,
            "connector_id": -1,
            "variable": "Nope",
            "attribute_type": "Actual",
            "value": None,
            "mutability": None,
            "persistent": None,
            "unit": None,
            "known": False,
            "source": "GetVariables",
        },
    ]
    # and the liveness job reads the interval the station last said
    assert PgHeartbeatIntervals(PgDatabase(engine)).heartbeat_intervals(["DM-201"]) == {"DM-201": 240}

    # The API lists them by component, EVSE, connector and variable, with filters
    viewer = api.as_("acme", "viewer")
    listed = viewer.get(f"{V1}/stations/DM-201/variables")
    assert listed.status == 200
    assert listed.body["total"] == 6
    assert [
        (i["component"]["name"], i["component"]["evse"], i["variable"]["name"], i["attributeType"])
        for i in listed.body["items"]
    ] == [
        ("Connector", {"id": 1, "connectorId": 1}, "ConnectorType", "Actual"),
        ("EVSE", {"id": 1, "connectorId": None}, "Nope", "Actual"),
        ("EVSE", {"id": 1, "connectorId": None}, "Power", "Actual"),
        ("ocppcommctrlr", None, "heartbeatInterval", "Actual"),
        ("OCPPCommCtrlr", None, "HeartbeatInterval", "MaxSet"),
        ("SecurityCtrlr", None, "BasicAuthPassword", "Actual"),
    ]
    power = listed.body["items"][2]
    assert power == {
        "component": {"name": "EVSE", "instance": None, "evse": {"id": 1, "connectorId": None}},
        "variable": {"name": "Power", "instance": None},
        "attributeType": "Actual",
        "value": "22000",
        "mutability": "ReadOnly",
        "persistent": None,
        "constant": None,
        "characteristics": {"unit": "W", "dataType": "decimal", "maxLimit": 22000},
        "known": True,
        "source": "NotifyReport",
        "ocpp16Key": None,
        "updatedAt": "2026-12-09T12:00:00Z",
    }
    by_evse = viewer.get(f"{V1}/stations/DM-201/variables?evseId=1&variable=POWER")
    assert [i["variable"]["name"] for i in by_evse.body["items"]] == ["Power"]
    by_component = viewer.get(f"{V1}/stations/DM-201/variables?component=ocppcommctrlr&limit=1&offset=1")
    assert (by_component.body["total"], [i["attributeType"] for i in by_component.body["items"]]) == (
        2,
        ["MaxSet"],
    )
    assert viewer.get(f"{V1}/stations/DM-201/variables?evseId=-1").status == 422
    assert viewer.get(f"{V1}/stations/NOPE/variables").status == 404
    assert api.as_("globex", "admin").get(f"{V1}/stations/DM-201/variables").status == 404


def test_a_16_chargers_configuration_with_its_keys(
    devices: DeviceModelService, engine: Engine, api: ApiClient
) -> None:
    # Given a 1.6 charger's GetConfiguration answer, then a ChangeConfiguration it accepted
    devices.record(
        "acme",
        "DM-16",
        configuration_values(
            [
                {"key": "HeartbeatInterval", "readonly": False, "value": "900"},
                {"key": "LocalAuthListMaxLength", "readonly": True, "value": "250"},
                {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
            ],
            ["ConnectorPhaseRotation"],
        ),
        VariableSource.GET_CONFIGURATION,
        T0,
    )
    devices.record(
        "acme", "DM-16", [key_value("heartbeatinterval", "60")], VariableSource.CHANGE_CONFIGURATION, T0
    )
    # Then operators see each under its 2.0.1 variable, with the key it came under
    listed = api.as_("acme", "viewer").get(f"{V1}/stations/DM-16/variables")
    assert [
        (
            i["component"]["name"],
            i["variable"]["name"],
            i["value"],
            i["characteristics"],
            i["mutability"],
            i["known"],
            i["ocpp16Key"],
        )
        for i in listed.body["items"]
    ] == [
        (
            "LocalAuthListCtrlr",
            "Entries",
            None,
            {"maxLimit": 250},
            "ReadOnly",
            True,
            "LocalAuthListMaxLength",
        ),
        ("OCPP16", "ConnectorPhaseRotation", None, None, None, False, "ConnectorPhaseRotation"),
        ("OCPP16", "NumberOfConnectors", "2", None, "ReadOnly", True, "NumberOfConnectors"),
        # the change keeps the mutability the report gave
        ("OCPPCommCtrlr", "HeartbeatInterval", "60", None, "ReadWrite", True, "heartbeatinterval"),
    ]
    assert devices.known("acme", "DM-16", [HEARTBEAT_INTERVAL])[HEARTBEAT_INTERVAL].int_value() == 60
