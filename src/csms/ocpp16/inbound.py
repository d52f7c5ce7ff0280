"""Inbound: a handler for every CALL a charge point sends in the Core profile (OCPP 1.6 §4);
FirmwareManagement's are :mod:`csms.ocpp16.firmware`, the answers to our own CALLs
:mod:`csms.ocpp16.outbound`.

Each handler turns the validated 1.6 payload into domain types, calls one service and
builds the 1.6 answer as a camelCase payload (which the dispatcher checks against the
library's official response schema). Grouped by functional block; registered in
:data:`csms.ocpp16.registry.INBOUND`.

The answers are plain dicts rather than the library's ``call_result`` dataclasses: those
live in ``ocpp.v16``, whose import pulls in the library's ChargePoint (~200 ms of cold
start, see :mod:`csms.ocpp16.library`), and ``asdict`` plus the camelCase conversion cost
more per frame than the rest of a Heartbeat.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ocpp.v16.enums import Action

from csms.domain.events import iso
from csms.domain.metering import MeterSample
from csms.domain.stations import BootInfo, ChargerContext, ConnectorStatus
from csms.domain.tokens import IdToken
from csms.domain.transactions import TransactionStart, TransactionStop
from csms.ocpp16.mapping import connector_ref, id_tag_info, status_states
from csms.ocpp16.registry import Services, on
from csms.ocppj.errors import RpcError, RpcErrorKind
from csms.ocppj.times import parse_datetime


def _samples(meter_values: list[dict[str, Any]]) -> list[MeterSample]:
    samples = []
    for meter_value in meter_values:
        timestamp = parse_datetime(meter_value["timestamp"])
        for sampled in meter_value["sampledValue"]:
            measurand = sampled.get("measurand", "Energy.Active.Import.Register")
            samples.append(
                MeterSample(
                    timestamp=timestamp,
                    value=sampled["value"],
                    measurand=measurand,
                    phase=sampled.get("phase"),
                    # OCPP 1.6 SampledValue: the unit defaults to Wh "if the (default) measurand
                    # is an Energy type"; any other measurand without a unit has none ('').
                    unit=sampled.get("unit", "Wh" if measurand.startswith("Energy.") else ""),
                    context=sampled.get("context", "Sample.Periodic"),
                    location=sampled.get("location", "Outlet"),
                    format=sampled.get("format", "Raw"),
                )
            )
    return samples


# --- Core: charge point lifecycle ----------------------------------------------------------


@on(Action.boot_notification, before_acceptance=True)
def boot_notification(
    services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime
) -> dict[str, Any]:
    result = services.charge_points.boot(
        ctx,
        BootInfo(
            vendor=p["chargePointVendor"],
            model=p["chargePointModel"],
            serial_number=p.get("chargePointSerialNumber"),
            charge_box_serial_number=p.get("chargeBoxSerialNumber"),
            firmware_version=p.get("firmwareVersion"),
            iccid=p.get("iccid"),
            imsi=p.get("imsi"),
            meter_type=p.get("meterType"),
            meter_serial_number=p.get("meterSerialNumber"),
        ),
        now,
    )
    return {"currentTime": iso(now), "interval": result.interval, "status": result.status.value}


@on(Action.heartbeat, before_acceptance=True)
def heartbeat(services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {"currentTime": iso(services.charge_points.heartbeat(ctx, now))}


@on(Action.status_notification)
def status_notification(
    services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime
) -> dict[str, Any]:
    if p["connectorId"] < 0:
        raise RpcError(
            RpcErrorKind.PROPERTY_CONSTRAINT_VIOLATION, "connectorId must be >= 0", {"field": "connectorId"}
        )
    timestamp = parse_datetime(p["timestamp"]) if "timestamp" in p else now
    ref = connector_ref(p["connectorId"])
    state, charging_state = status_states(p["status"])
    services.charge_points.status_notification(
        ctx,
        ConnectorStatus(
            evse_id=ref.evse_id,
            connector_id=ref.connector_id,
            status=p["status"],
            state=state,
            charging_state=charging_state,
            error_code=p["errorCode"],
            timestamp=timestamp,
            info=p.get("info"),
            vendor_id=p.get("vendorId"),
            vendor_error_code=p.get("vendorErrorCode"),
        ),
        now,
    )
    return {}


@on(Action.data_transfer)
def data_transfer(
    services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime
) -> dict[str, Any]:
    result = services.data_transfer.transfer(ctx, p["vendorId"], p.get("messageId"), p.get("data"))
    if result.data is None:
        return {"status": result.status.value}
    return {"status": result.status.value, "data": result.data}


# --- Authorization ---------------------------------------------------------------------------


@on(Action.authorize)
def authorize(services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime) -> dict[str, Any]:
    info = services.authorization.authorize(ctx, IdToken(p["idTag"]), now)
    return {"idTagInfo": id_tag_info(info)}


# --- Transactions ------------------------------------------------------------------------------


@on(Action.start_transaction)
def start_transaction(
    services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime
) -> dict[str, Any]:
    if p["connectorId"] < 1:
        raise RpcError(
            RpcErrorKind.PROPERTY_CONSTRAINT_VIOLATION,
            "connectorId must be > 0 for a transaction",
            {"field": "connectorId"},
        )
    ref = connector_ref(p["connectorId"])
    result = services.transactions.start(
        ctx,
        TransactionStart(
            evse_id=ref.evse_id,
            connector_id=ref.connector_id,
            id_token=IdToken(p["idTag"]),
            meter_start=p["meterStart"],
            timestamp=parse_datetime(p["timestamp"]),
            reservation_id=p.get("reservationId"),
        ),
        now,
    )
    # The protocol id of a 1.6 transaction is our id, as a number.
    return {"transactionId": result.transaction.id, "idTagInfo": id_tag_info(result.id_token_info)}


@on(Action.stop_transaction)
def stop_transaction(
    services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime
) -> dict[str, Any]:
    raw_data = p.get("transactionData")
    result = services.transactions.stop(
        ctx,
        TransactionStop(
            transaction_id=str(p["transactionId"]),
            meter_stop=p["meterStop"],
            timestamp=parse_datetime(p["timestamp"]),
            reason=p.get("reason"),
            id_token=IdToken(p["idTag"]) if "idTag" in p else None,
            transaction_data=tuple(_samples(raw_data)) if raw_data else (),
            raw_transaction_data=raw_data,
        ),
        now,
    )
    if result.id_token_info is None:
        return {}
    return {"idTagInfo": id_tag_info(result.id_token_info)}


@on(Action.meter_values)
def meter_values(services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime) -> dict[str, Any]:
    if p["connectorId"] < 0:
        raise RpcError(
            RpcErrorKind.PROPERTY_CONSTRAINT_VIOLATION, "connectorId must be >= 0", {"field": "connectorId"}
        )
    transaction_id = p.get("transactionId")
    services.transactions.meter_values(
        ctx,
        connector_ref(p["connectorId"]).evse_id,
        str(transaction_id) if transaction_id is not None else None,
        _samples(p["meterValue"]),
        now,
    )
    return {}


from csms.ocpp16 import firmware as _firmware  # noqa: E402, F401  (registers FirmwareManagement)
