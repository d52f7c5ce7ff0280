"""OCPP frames the benchmarks send: what a typical AC charger sends, as JSON text. OCPP 1.6
first, then the same charger speaking 2.0.1 (``*_201``): the same readings in 2.0.1's shapes,
valid against the official 2.0.1 schemas."""

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


# --- OCPP 2.0.1 ---------------------------------------------------------------------------------

#: The three-phase set of :data:`_MEASURANDS` in 2.0.1 terms. 2.0.1 has no Temperature
#: measurand: Frequency takes its place, so a set is ten samples in both versions.
_MEASURANDS_201 = (*_MEASURANDS[:-1], ("Frequency", "Hz", None))


def id_token_201(tag: str) -> dict[str, Any]:
    return {"idToken": tag, "type": "ISO14443"}


def boot_201(serial: str = "SN-0001") -> dict[str, Any]:
    return {
        "chargingStation": {
            "vendorName": "Acme",
            "model": "Wallbox-22",
            "serialNumber": serial,
            "firmwareVersion": "4.2.1",
        },
        "reason": "PowerUp",
    }


def status_201(evse_id: int, connector_id: int, state: str, at: float) -> dict[str, Any]:
    """``state``: a ConnectorStatusEnumType (Available, Occupied, Reserved, Unavailable, Faulted)."""
    return {"timestamp": ts(at), "connectorStatus": state, "evseId": evse_id, "connectorId": connector_id}


def authorize_201(tag: str) -> dict[str, Any]:
    return {"idToken": id_token_201(tag)}


def sampled_values_201(samples: int, energy: int, context: str = "Sample.Periodic") -> list[dict[str, Any]]:
    """``samples`` SampledValueTypes (1: energy only; 10: a three-phase set, as :func:`meter_values`)."""
    values = []
    for i in range(samples):
        measurand, unit, phase = _MEASURANDS_201[i % len(_MEASURANDS_201)]
        value: dict[str, Any] = {
            "value": energy if i == 0 else round(230.0 + i, 1),
            "context": context,
            "measurand": measurand,
            "location": "Outlet",
            "unitOfMeasure": {"unit": unit},
        }
        if phase is not None:
            value["phase"] = phase
        values.append(value)
    return values


def meter_value_201(samples: int, at: float, energy: int, context: str = "Sample.Periodic") -> dict[str, Any]:
    """One MeterValueType."""
    return {"timestamp": ts(at), "sampledValue": sampled_values_201(samples, energy, context)}


def meter_values_201(evse_id: int, samples: int, at: float, energy: int = 1000) -> dict[str, Any]:
    """A MeterValues request (outside a transaction: 2.0.1 sends a transaction's in its events)."""
    return {"evseId": evse_id, "meterValue": [meter_value_201(samples, at, energy)]}


def transaction_event(
    event_type: str,
    transaction_id: str,
    seq_no: int,
    at: float,
    trigger_reason: str,
    *,
    id_tag: str | None = None,
    charging_state: str | None = None,
    stopped_reason: str | None = None,
    meter: dict[str, Any] | None = None,
    evse: tuple[int, int] = (1, 1),
) -> dict[str, Any]:
    """A TransactionEvent request (``event_type``: Started, Updated or Ended)."""
    info: dict[str, Any] = {"transactionId": transaction_id}
    if charging_state is not None:
        info["chargingState"] = charging_state
    if stopped_reason is not None:
        info["stoppedReason"] = stopped_reason
    payload: dict[str, Any] = {
        "eventType": event_type,
        "timestamp": ts(at),
        "triggerReason": trigger_reason,
        "seqNo": seq_no,
        "transactionInfo": info,
        "evse": {"id": evse[0], "connectorId": evse[1]},
    }
    if id_tag is not None:
        payload["idToken"] = id_token_201(id_tag)
    if meter is not None:
        payload["meterValue"] = [meter]
    return payload
