"""OCPP 2.0.1 notifications a station sends on its own, over a real WebSocket through the
local gateway, with PostgreSQL: security events, device events (NotifyEvent), customer
information, charging limits, a vehicle's charging needs, firmware and log progress, and the
station ending a reservation. Each is stored once (a retried frame changes nothing) and, where
integrators care, announced as a domain event."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.v201 import call
from sqlalchemy import Engine, text

from csms.app import wiring
from csms.domain.station_reports import ReportKind
from csms.local.stack import LocalStack
from csms.services.provisioning import ProvisioningService
from tests.integration.api_client import ApiClient
from tests.integration.conftest import rows
from tests.integration.event_helpers import stored
from tests.integration.station201 import connected_201, ocpp_now

pytestmark = pytest.mark.integration

PASSWORD = "a-16-to-40-char-secret"
STATION = "CS-REPORTS"


@pytest.fixture
def station(provisioning: ProvisioningService) -> str:
    provisioning.add_charger(STATION, "t1", datetime.now(UTC), password=PASSWORD)
    return STATION


async def send_twice(cs: Any, request: Any) -> list[Any]:
    """Send a CALL, then the same payload again as a station's retry (a new message id)."""
    return [await cs.call(request, suppress=False), await cs.call(request, suppress=False)]


async def test_security_events_are_kept_once_and_announced(
    stack: LocalStack, engine: Engine, station: str
) -> None:
    at = ocpp_now()
    async with connected_201(stack, station, password=PASSWORD) as cs:
        await send_twice(
            cs, call.SecurityEventNotification(type="TamperDetectionActivated", timestamp=at, tech_info="lid")
        )
        await cs.call(call.SecurityEventNotification(type="StartupOfTheDevice", timestamp=at), suppress=False)
    assert rows(engine, "SELECT type, tech_info FROM security_events ORDER BY id") == [
        {"type": "TamperDetectionActivated", "tech_info": "lid"},
        {"type": "StartupOfTheDevice", "tech_info": None},
    ]
    announced = stored(engine, "SecurityEventReceived")
    assert [e["data"]["type"] for e in announced] == ["TamperDetectionActivated", "StartupOfTheDevice"]
    assert announced[0]["stationId"] == station
    assert announced[0]["data"]["techInfo"] == "lid"


def an_event(event_id: int, timestamp: str, **overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "event_id": event_id,
        "timestamp": timestamp,
        "trigger": "Alerting",
        "actual_value": "82.5",
        "tech_code": "OVERTEMP",
        "event_notification_type": "PreconfiguredMonitor",
        "component": {"name": "TemperatureSensor", "evse": {"id": 1, "connector_id": 1}},
        "variable": {"name": "Temperature"},
    }
    return {**item, **overrides}


async def test_device_events_are_stored_and_a_retry_announces_nothing_new(
    stack: LocalStack, engine: Engine, station: str
) -> None:
    at = ocpp_now()
    first = call.NotifyEvent(
        generated_at=at, seq_no=0, event_data=[an_event(1, at), an_event(2, at, cleared=True)]
    )
    async with connected_201(stack, station, password=PASSWORD) as cs:
        await send_twice(cs, first)
        # a frame repeating one known item and bringing one new one
        await cs.call(
            call.NotifyEvent(generated_at=at, seq_no=1, event_data=[an_event(2, at), an_event(3, at)]),
            suppress=False,
        )
    assert rows(
        engine,
        "SELECT event_id, component, evse_id, connector_id, variable, trigger, actual_value, cleared, "
        "tech_code FROM device_events ORDER BY event_id",
    ) == [
        {
            "event_id": 1,
            "component": "TemperatureSensor",
            "evse_id": 1,
            "connector_id": 1,
            "variable": "Temperature",
            "trigger": "Alerting",
            "actual_value": "82.5",
            "cleared": None,
            "tech_code": "OVERTEMP",
        },
        {
            "event_id": 2,
            "component": "TemperatureSensor",
            "evse_id": 1,
            "connector_id": 1,
            "variable": "Temperature",
            "trigger": "Alerting",
            "actual_value": "82.5",
            "cleared": True,
            "tech_code": "OVERTEMP",
        },
        {
            "event_id": 3,
            "component": "TemperatureSensor",
            "evse_id": 1,
            "connector_id": 1,
            "variable": "Temperature",
            "trigger": "Alerting",
            "actual_value": "82.5",
            "cleared": None,
            "tech_code": "OVERTEMP",
        },
    ]
    announced = stored(engine, "DeviceEventsReported")
    assert [[e["eventId"] for e in event["data"]["events"]] for event in announced] == [[1, 2], [3]]


async def test_customer_information_parts_are_kept_in_order(
    stack: LocalStack, engine: Engine, station: str
) -> None:
    at = ocpp_now()
    async with connected_201(stack, station, password=PASSWORD) as cs:
        await cs.call(
            call.NotifyCustomerInformation(data="part two", seq_no=1, generated_at=at, request_id=7),
            suppress=False,
        )
        await send_twice(
            cs,
            call.NotifyCustomerInformation(
                data="part one", seq_no=0, generated_at=at, request_id=7, tbc=True
            ),
        )
    parts = wiring.station_reports().parts_of("t1", station, ReportKind.CUSTOMER_INFORMATION, 7)
    assert [(p.seq_no, p.to_be_continued, p.payload["data"]) for p in parts] == [
        (0, True, "part one"),
        (1, False, "part two"),
    ]


def report_item(
    component: dict[str, Any], variable: str, *attributes: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "component": component,
        "variable": {"name": variable},
        "variable_attribute": list(attributes),
        **extra,
    }


async def test_a_multi_part_report_fills_the_device_model_whatever_the_order(
    stack: LocalStack, station: str, api: ApiClient
) -> None:
    at = ocpp_now()
    first = [
        report_item(
            {"name": "OCPPCommCtrlr"},
            "HeartbeatInterval",
            {"type": "Actual", "value": "300", "mutability": "ReadWrite", "persistent": True},
            variable_characteristics={"data_type": "integer", "unit": "s", "supports_monitoring": False},
        ),
        report_item(
            {"name": "Connector", "evse": {"id": 1, "connector_id": 1}},
            "ConnectorType",
            {"type": "Actual", "value": "cType2", "mutability": "ReadOnly"},
        ),
    ]
    second = [
        report_item(
            {"name": "SecurityCtrlr"},
            "BasicAuthPassword",
            {"type": "Actual", "mutability": "WriteOnly"},
        ),
        report_item(
            {"name": "LocalAuthListCtrlr"},
            "Entries",
            {"type": "Actual", "value": "12", "mutability": "ReadOnly"},
            variable_characteristics={"data_type": "integer", "max_limit": 500, "supports_monitoring": False},
        ),
    ]
    async with connected_201(stack, station, password=PASSWORD) as cs:
        # the last part first, then the first one twice (a retry)
        await cs.call(
            call.NotifyReport(request_id=42, generated_at=at, seq_no=1, report_data=second), suppress=False
        )
        await send_twice(
            cs, call.NotifyReport(request_id=42, generated_at=at, seq_no=0, report_data=first, tbc=True)
        )
    parts = wiring.station_reports().parts_of("t1", station, ReportKind.DEVICE_MODEL, 42)
    assert [(p.seq_no, p.to_be_continued, p.payload) for p in parts] == [
        (0, True, {"variables": 2}),
        (1, False, {"variables": 2}),
    ]
    viewer = api.as_("t1", "viewer")
    found = await asyncio.to_thread(viewer.get, f"/api/v1/stations/{station}/variables", limit=50)
    assert found.status == 200, found.body
    by_name = {(v["component"]["name"], v["variable"]["name"]): v for v in found.body["items"]}
    assert by_name[("OCPPCommCtrlr", "HeartbeatInterval")]["value"] == "300"
    assert by_name[("Connector", "ConnectorType")]["component"]["evse"] == {"id": 1, "connectorId": 1}
    # a password is a write-only secret: recorded as present, never with a value
    assert by_name[("SecurityCtrlr", "BasicAuthPassword")]["value"] is None
    assert by_name[("LocalAuthListCtrlr", "Entries")]["characteristics"]["maxLimit"] == 500


async def test_reported_charging_profiles_are_kept_with_their_request(
    stack: LocalStack, station: str
) -> None:
    profile = {
        "id": 3,
        "stack_level": 0,
        "charging_profile_purpose": "TxDefaultProfile",
        "charging_profile_kind": "Absolute",
        "charging_schedule": [
            {
                "id": 1,
                "charging_rate_unit": "A",
                "charging_schedule_period": [{"start_period": 0, "limit": 16.0}],
            }
        ],
    }
    async with connected_201(stack, station, password=PASSWORD) as cs:
        await send_twice(
            cs,
            call.ReportChargingProfiles(
                request_id=9, charging_limit_source="CSO", charging_profile=[profile], evse_id=1, tbc=True
            ),
        )
        await cs.call(
            call.ReportChargingProfiles(
                request_id=9, charging_limit_source="EMS", charging_profile=[profile], evse_id=0
            ),
            suppress=False,
        )
    parts = wiring.station_reports().parts_of("t1", station, ReportKind.CHARGING_PROFILES, 9)
    assert [(p.payload["evseId"], p.payload["chargingLimitSource"], p.to_be_continued) for p in parts] == [
        (1, "CSO", True),
        (0, "EMS", False),
    ]
    assert parts[0].payload["chargingProfiles"][0]["chargingSchedule"][0]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 16.0}
    ]


async def test_an_external_limit_is_kept_until_cleared(
    stack: LocalStack, engine: Engine, station: str
) -> None:
    schedule = {
        "id": 1,
        "charging_rate_unit": "A",
        "charging_schedule_period": [{"start_period": 0, "limit": 16.0}],
    }
    async with connected_201(stack, station, password=PASSWORD) as cs:
        await cs.call(
            call.NotifyChargingLimit(
                charging_limit={"charging_limit_source": "EMS", "is_grid_critical": True},
                evse_id=1,
                charging_schedule=[schedule],
            ),
            suppress=False,
        )
        await cs.call(
            call.NotifyChargingLimit(charging_limit={"charging_limit_source": "SO"}), suppress=False
        )
        limits = rows(
            engine,
            "SELECT source, evse_id, is_grid_critical, schedules, cleared_at FROM charging_limits "
            "ORDER BY source",
        )
        await send_twice(cs, call.ClearedChargingLimit(charging_limit_source="EMS", evse_id=1))
    assert limits == [
        {
            "source": "EMS",
            "evse_id": 1,
            "is_grid_critical": True,
            "schedules": [
                {
                    "id": 1,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
                }
            ],
            "cleared_at": None,
        },
        {"source": "SO", "evse_id": 0, "is_grid_critical": None, "schedules": [], "cleared_at": None},
    ]
    cleared = rows(engine, "SELECT source FROM charging_limits WHERE cleared_at IS NOT NULL")
    assert cleared == [{"source": "EMS"}]
    # set EMS, set SO, cleared EMS once (the retry finds nothing to clear)
    assert [(e["data"]["source"], e["data"]["cleared"]) for e in stored(engine, "ChargingLimitChanged")] == [
        ("EMS", False),
        ("SO", False),
        ("EMS", True),
    ]


async def test_a_vehicles_needs_are_kept_and_answered_without_a_schedule(
    stack: LocalStack, engine: Engine, station: str
) -> None:
    departure = (
        (datetime.now(UTC) + timedelta(hours=3)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )
    async with connected_201(stack, station, password=PASSWORD) as cs:
        answer = await cs.call(
            call.NotifyEVChargingNeeds(
                evse_id=1,
                charging_needs={
                    "requested_energy_transfer": "AC_three_phase",
                    "departure_time": departure,
                    "ac_charging_parameters": {
                        "energy_amount": 20000,
                        "ev_min_current": 6,
                        "ev_max_current": 32,
                        "ev_max_voltage": 400,
                    },
                },
                max_schedule_tuples=3,
            ),
            suppress=False,
        )
    assert answer.status == "Rejected"
    [needs] = rows(
        engine,
        "SELECT evse_id, requested_energy_transfer, max_schedule_tuples, parameters FROM ev_charging_needs",
    )
    assert needs == {
        "evse_id": 1,
        "requested_energy_transfer": "AC_three_phase",
        "max_schedule_tuples": 3,
        "parameters": {"energyAmount": 20000, "evMinCurrent": 6, "evMaxCurrent": 32, "evMaxVoltage": 400},
    }


async def test_firmware_and_log_progress_join_the_timelines(
    stack: LocalStack, engine: Engine, station: str, api: ApiClient
) -> None:
    async with connected_201(stack, station, password=PASSWORD) as cs:
        await cs.call(call.FirmwareStatusNotification(status="Downloading", request_id=4), suppress=False)
        await cs.call(call.LogStatusNotification(status="Uploaded", request_id=5), suppress=False)
        await cs.call(call.FirmwareStatusNotification(status="Idle"), suppress=False)
    assert rows(engine, "SELECT kind, status, request_id FROM charge_point_events ORDER BY id") == [
        {"kind": "firmware", "status": "Downloading", "request_id": 4},
        {"kind": "diagnostics", "status": "Uploaded", "request_id": 5},
        {"kind": "firmware", "status": "Idle", "request_id": None},
    ]
    # and the timelines say which request each step reports on
    viewer = api.as_("t1", "viewer")
    firmware = (await asyncio.to_thread(viewer.get, f"/api/v1/stations/{station}/firmware-status")).body[
        "items"
    ]
    assert [(e["status"], e["requestId"]) for e in firmware] == [("Idle", None), ("Downloading", 4)]
    logs = (await asyncio.to_thread(viewer.get, f"/api/v1/stations/{station}/diagnostics-status")).body[
        "items"
    ]
    assert [(e["status"], e["requestId"]) for e in logs] == [("Uploaded", 5)]


async def test_a_station_ends_its_own_reservations_and_not_others(
    stack: LocalStack, engine: Engine, station: str, provisioning: ProvisioningService
) -> None:
    provisioning.add_charger("CS-OTHER", "t1", datetime.now(UTC), security_profile=0)
    expiry = datetime.now(UTC) + timedelta(hours=1)
    with engine.begin() as conn:
        for cp in (station, station, "CS-OTHER"):
            conn.execute(
                text(
                    "INSERT INTO reservations (tenant_id, charge_point_id, evse_id, id_token, "
                    "expiry_date, "
                    "status, created_at, updated_at) "
                    "VALUES ('t1', :cp, 1, 'TAG', :expiry, 'active', now(), now())"
                ),
                {"cp": cp, "expiry": expiry},
            )
    mine, removed, theirs = (r["id"] for r in rows(engine, "SELECT id FROM reservations ORDER BY id"))
    async with connected_201(stack, station, password=PASSWORD) as cs:
        await cs.call(
            call.ReservationStatusUpdate(reservation_id=mine, reservation_update_status="Expired"),
            suppress=False,
        )
        await cs.call(
            call.ReservationStatusUpdate(reservation_id=removed, reservation_update_status="Removed"),
            suppress=False,
        )
        await cs.call(
            call.ReservationStatusUpdate(reservation_id=theirs, reservation_update_status="Removed"),
            suppress=False,
        )
        await cs.call(
            call.ReservationStatusUpdate(reservation_id=999999, reservation_update_status="Expired"),
            suppress=False,
        )
    assert rows(engine, "SELECT id, status FROM reservations ORDER BY id") == [
        {"id": mine, "status": "expired"},
        {"id": removed, "status": "cancelled"},
        {"id": theirs, "status": "active"},
    ]


async def test_operators_read_what_a_station_reported_and_other_tenants_do_not(
    stack: LocalStack, station: str, api: ApiClient
) -> None:
    at = ocpp_now()
    async with connected_201(stack, station, password=PASSWORD) as cs:
        await cs.call(call.SecurityEventNotification(type="MemoryExhaustion", timestamp=at), suppress=False)
        await cs.call(
            call.NotifyEvent(generated_at=at, seq_no=0, event_data=[an_event(5, at)]), suppress=False
        )
        await cs.call(
            call.NotifyChargingLimit(charging_limit={"charging_limit_source": "CSO"}, evse_id=2),
            suppress=False,
        )
    viewer = api.as_("t1", "viewer")
    security = await asyncio.to_thread(viewer.get, f"/api/v1/stations/{station}/security-events")
    assert security.status == 200
    assert [(e["type"], e["techInfo"]) for e in security.body["items"]] == [("MemoryExhaustion", None)]
    events = await asyncio.to_thread(
        viewer.get, f"/api/v1/stations/{station}/device-events", component="TemperatureSensor"
    )
    assert [(e["eventId"], e["evseId"], e["variable"]) for e in events.body["items"]] == [
        (5, 1, "Temperature")
    ]
    none = await asyncio.to_thread(
        viewer.get, f"/api/v1/stations/{station}/device-events", component="Connector"
    )
    assert none.body["total"] == 0
    limits = await asyncio.to_thread(viewer.get, f"/api/v1/stations/{station}/charging-limits")
    assert [(limit["source"], limit["evseId"]) for limit in limits.body] == [("CSO", 2)]
    stranger = api.as_("t2", "admin")
    for path in ("security-events", "device-events", "charging-limits"):
        refused = await asyncio.to_thread(stranger.get, f"/api/v1/stations/{station}/{path}")
        assert refused.status == 404
