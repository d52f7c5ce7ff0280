"""Test data builders: the usual payload, overridden where a test cares."""

from __future__ import annotations

import json
from typing import Any

STARTED = "2026-11-21T10:00:00Z"


def _with(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **overrides}
    return {k: v for k, v in merged.items() if v is not None}


def a_boot_notification(**overrides: Any) -> dict[str, Any]:
    return _with(
        {
            "chargePointVendor": "Acme",
            "chargePointModel": "Fast-22",
            "chargePointSerialNumber": "SN-1",
            "chargeBoxSerialNumber": "BOX-1",
            "firmwareVersion": "1.2.3",
            "iccid": "8944",
            "imsi": "2620",
            "meterType": "ABB",
            "meterSerialNumber": "M-1",
        },
        overrides,
    )


def a_status_notification(**overrides: Any) -> dict[str, Any]:
    return _with(
        {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": STARTED}, overrides
    )


def a_start_transaction(**overrides: Any) -> dict[str, Any]:
    return _with({"connectorId": 1, "idTag": "TAG1", "meterStart": 1000, "timestamp": STARTED}, overrides)


def a_stop_transaction(transaction_id: int, **overrides: Any) -> dict[str, Any]:
    return _with(
        {
            "transactionId": transaction_id,
            "meterStop": 5000,
            "timestamp": "2026-11-21T11:00:00Z",
            "reason": "Local",
            "idTag": "TAG1",
        },
        overrides,
    )


def a_sampled_value(**overrides: Any) -> dict[str, Any]:
    return _with({"value": "1234", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}, overrides)


def a_meter_values(samples: int = 1, transaction_id: int | None = None, **overrides: Any) -> dict[str, Any]:
    measurands = ["Energy.Active.Import.Register", "Power.Active.Import", "Current.Import", "Voltage", "SoC"]
    values = [
        a_sampled_value(
            value=str(1000 + i),
            measurand=measurands[i % len(measurands)],
            phase=f"L{i // 5 + 1}" if i >= 5 else None,
        )
        for i in range(samples)
    ]
    return _with(
        {
            "connectorId": 1,
            "transactionId": transaction_id,
            "meterValue": [{"timestamp": "2026-11-21T10:30:00Z", "sampledValue": values}],
        },
        overrides,
    )


def call(action: str, payload: dict[str, Any], unique_id: str = "uid-1") -> str:
    return json.dumps([2, unique_id, action, payload])


def a_charging_profile(**overrides: Any) -> dict[str, Any]:
    """A valid neutral charging profile (camelCase, as the REST API takes it); overrides replace
    fields (a ``chargingSchedule`` given as one schedule becomes the list of it)."""
    profile: dict[str, Any] = {
        "id": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 7.4},
                    {"startPeriod": 3600, "limit": 16.1},
                ],
            }
        ],
    }
    profile.update(overrides)
    if isinstance(profile["chargingSchedule"], dict):
        profile["chargingSchedule"] = [profile["chargingSchedule"]]
    return profile


# --- neutral command bodies (as the REST API passes them to the pipeline) ------------------------


def a_variable(
    component: str = "OCPPCommCtrlr", variable: str = "HeartbeatInterval", **overrides: Any
) -> dict[str, Any]:
    """A neutral device-model variable (get-variables, set-variables)."""
    return _with({"component": {"name": component}, "variable": {"name": variable}}, overrides)


def a_reservation(**overrides: Any) -> dict[str, Any]:
    """A prepared reserve-now body (the reservationId the CSMS allocated filled in)."""
    return _with(
        {
            "evseId": 1,
            "expiryDateTime": "2026-12-10T13:00:00.000Z",
            "idToken": {"idToken": "DRIVER", "type": "ISO14443"},
            "reservationId": 42,
        },
        overrides,
    )
