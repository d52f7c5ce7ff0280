"""OCPP 1.6 frames the benchmarks send: what a typical AC charger sends, as JSON text."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

EPOCH = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)

_MEASURANDS = (
    ("Energy.Active.Import.Register", "Wh", None),
    ("Power.Active.Import", "W", None),
    ("Current.Import", "A", "L1"),
    ("Current.Import", "A", "L2"),
    ("Current.Import", "A", "L3"),
    ("Voltage", "V", "L1-N"),
    ("Voltage", "V", "L2-N"),
    ("Voltage", "V", "L3-N"),
    ("SoC", "Percent", None),
    ("Temperature", "Celsius", None),
)


def ts(seconds: float) -> str:
    """An OCPP dateTime ``seconds`` after :data:`EPOCH`."""
    moment = EPOCH + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def frame(unique_id: str, action: str, payload: dict[str, Any]) -> str:
    return json.dumps([2, unique_id, action, payload], separators=(",", ":"))


def boot() -> dict[str, Any]:
    return {
        "chargePointVendor": "Acme",
        "chargePointModel": "Wallbox-22",
        "chargePointSerialNumber": "SN-0001",
        "firmwareVersion": "4.2.1",
        "meterType": "ABB B23",
    }


def status(connector_id: int, state: str, at: float) -> dict[str, Any]:
    return {"connectorId": connector_id, "errorCode": "NoError", "status": state, "timestamp": ts(at)}


def authorize(id_tag: str) -> dict[str, Any]:
    return {"idTag": id_tag}


def start(id_tag: str, meter_start: int, at: float, connector_id: int = 1) -> dict[str, Any]:
    return {"connectorId": connector_id, "idTag": id_tag, "meterStart": meter_start, "timestamp": ts(at)}


def stop(transaction_id: int, meter_stop: int, at: float, id_tag: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "transactionId": transaction_id,
        "meterStop": meter_stop,
        "timestamp": ts(at),
        "reason": "Local",
    }
    if id_tag is not None:
        payload["idTag"] = id_tag
    return payload


def meter_values(
    transaction_id: int | None, samples: int, at: float, energy: int = 1000, connector_id: int = 1
) -> dict[str, Any]:
    """One meterValue with ``samples`` sampled values (1: energy only; 10: a three-phase set)."""
    values = []
    for i in range(samples):
        measurand, unit, phase = _MEASURANDS[i % len(_MEASURANDS)]
        value: dict[str, Any] = {
            "value": str(energy) if i == 0 else f"{230.0 + i:.1f}",
            "context": "Sample.Periodic",
            "measurand": measurand,
            "location": "Outlet",
            "unit": unit,
        }
        if phase is not None:
            value["phase"] = phase
        values.append(value)
    payload: dict[str, Any] = {
        "connectorId": connector_id,
        "meterValue": [{"timestamp": ts(at), "sampledValue": values}],
    }
    if transaction_id is not None:
        payload["transactionId"] = transaction_id
    return payload
