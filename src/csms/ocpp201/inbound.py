"""Handlers for every CALL a 2.0.1 station sends: the 2.0.1 payload becomes domain types, one
service call, and the answer is built as a camelCase payload (which the dispatcher checks
against the official response schema). Grouped by functional block (Part 2's letters).

2.0.1 forbids ``null`` for an absent field (Part 4, section 4.1.5): answers leave such fields
out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms.domain.charging_limits import ChargingLimit, ChargingNeeds
from csms.domain.diagnostics import ComponentVariable, DeviceEvent
from csms.domain.events import iso
from csms.domain.security import SecurityEvent
from csms.domain.stations import AvailabilityState, BootInfo, ChargerContext, ChargingState, ConnectorStatus
from csms.domain.transactions import TransactionEventIn, TransactionEventType
from csms.ocpp201.mapping import id_token, id_token_info, reported_variable, samples
from csms.ocpp201.registry import Services, on
from csms.ocppj.errors import RpcError, RpcErrorKind
from csms.ocppj.times import parse_datetime

# --- B: provisioning ------------------------------------------------------------------------


@on("BootNotification", before_acceptance=True)
def boot_notification(
    services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime
) -> dict[str, Any]:
    station = p["chargingStation"]
    modem = station.get("modem") or {}
    result = services.charge_points.boot(
        ctx,
        BootInfo(
            vendor=station["vendorName"],
            model=station["model"],
            serial_number=station.get("serialNumber"),
            firmware_version=station.get("firmwareVersion"),
            iccid=modem.get("iccid"),
            imsi=modem.get("imsi"),
            reason=p["reason"],
        ),
        now,
    )
    return {"currentTime": iso(now), "interval": result.interval, "status": result.status.value}


# --- C: authorization -------------------------------------------------------------------------


@on("Authorize")
def authorize(services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime) -> dict[str, Any]:
    # A Plug & Charge certificate (certificate, iso15118CertificateHashData) is not checked:
    # the answer is the token's verdict, without a certificateStatus.
    token = id_token(p["idToken"])
    return {"idTokenInfo": id_token_info(services.authorization.authorize(ctx, token, now), token)}


# --- B: provisioning, what the station has (GetBaseReport/GetReport answers) -------------------


@on("NotifyReport", before_acceptance=True)
def notify_report(
    services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime
) -> dict[str, Any]:
    # Allowed while Pending: a CSMS reads a Pending station's device model before accepting it.
    services.reports.device_model_report(
        ctx,
        p["requestId"],
        p["seqNo"],
        p.get("tbc", False),
        parse_datetime(p["generatedAt"]),
        [reported_variable(item) for item in p.get("reportData", ())],
        now,
    )
    return {}


# --- E: transactions --------------------------------------------------------------------------


@on("TransactionEvent")
def transaction_event(
    services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime
) -> dict[str, Any]:
    info, evse = p["transactionInfo"], p.get("evse") or {}
    event_type = TransactionEventType(p["eventType"])
    if p["seqNo"] < 0:
        raise RpcError(RpcErrorKind.PROPERTY_CONSTRAINT_VIOLATION, "seqNo must be >= 0", {"field": "seqNo"})
    token = id_token(p["idToken"]) if "idToken" in p else None
    stopped_reason = info.get("stoppedReason")
    if stopped_reason is None and event_type is TransactionEventType.ENDED:
        stopped_reason = "Local"  # "may be omitted when the reason is Local"
    result = services.transactions.record_event(
        ctx,
        TransactionEventIn(
            event_type=event_type,
            transaction_id=info["transactionId"],
            timestamp=parse_datetime(p["timestamp"]),
            trigger_reason=p["triggerReason"],
            seq_no=p["seqNo"],
            offline=p.get("offline", False),
            evse_id=evse.get("id"),
            connector_id=evse.get("connectorId"),
            id_token=token,
            charging_state=ChargingState(info["chargingState"]) if "chargingState" in info else None,
            stopped_reason=stopped_reason,
            remote_start_id=info.get("remoteStartId"),
            reservation_id=p.get("reservationId"),
            meter_values=tuple(samples(p.get("meterValue", ()))),
        ),
        now,
    )
    # idTokenInfo if and only if the event carried a token (E01.FR.11); no totalCost: the
    # CSMS prices nothing yet, and "omitted" means "not free", which is true.
    if token is None or result.id_token_info is None:
        return {}
    return {"idTokenInfo": id_token_info(result.id_token_info, token)}


# --- G: availability ------------------------------------------------------------------------


@on("Heartbeat", before_acceptance=True)
def heartbeat(services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {"currentTime": iso(services.charge_points.heartbeat(ctx, now))}


@on("StatusNotification", before_acceptance=True)
def status_notification(
    services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime
) -> dict[str, Any]:
    # Tolerated while Pending: real stations report their connectors before they are accepted.
    for name in ("evseId", "connectorId"):
        if p[name] < 0:
            raise RpcError(
                RpcErrorKind.PROPERTY_CONSTRAINT_VIOLATION, f"{name} must be >= 0", {"field": name}
            )
    _availability(services, ctx, p["evseId"], p["connectorId"], p["connectorStatus"], p["timestamp"], now)
    return {}


def _availability(
    services: Services,
    ctx: ChargerContext,
    evse_id: int,
    connector_id: int,
    status: str,
    timestamp: str,
    now: datetime,
) -> None:
    """A connector's ConnectorStatusEnumType value, from StatusNotification or from NotifyEvent's
    Connector.AvailabilityState (Core takes both). It says nothing about charging: that comes
    with the transaction's events."""
    services.charge_points.status_notification(
        ctx,
        ConnectorStatus(
            evse_id=evse_id,
            connector_id=connector_id,
            status=status,
            state=AvailabilityState(status),
            timestamp=parse_datetime(timestamp),
        ),
        now,
    )


# --- J: meter values outside transactions --------------------------------------------------------


@on("MeterValues")
def meter_values(services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime) -> dict[str, Any]:
    # 2.0.1 sends a transaction's readings in its TransactionEvents; MeterValues are the
    # station's (evseId 0: the main meter) or an EVSE's outside any transaction.
    if p["evseId"] < 0:
        raise RpcError(RpcErrorKind.PROPERTY_CONSTRAINT_VIOLATION, "evseId must be >= 0", {"field": "evseId"})
    services.transactions.meter_values(ctx, p["evseId"], None, samples(p["meterValue"]), now)
    return {}


# --- P: data transfer -----------------------------------------------------------------------


@on("DataTransfer")
def data_transfer(
    services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime
) -> dict[str, Any]:
    result = services.data_transfer.transfer(ctx, p["vendorId"], p.get("messageId"), p.get("data"))
    if result.data is None:
        return {"status": result.status.value}
    return {"status": result.status.value, "data": result.data}


# --- A: security ------------------------------------------------------------------------------


@on("SecurityEventNotification", before_acceptance=True)
def security_event_notification(
    services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime
) -> dict[str, Any]:
    services.security.record(
        ctx,
        SecurityEvent(type=p["type"], timestamp=parse_datetime(p["timestamp"]), tech_info=p.get("techInfo")),
        now,
    )
    return {}


# --- H: reservation ---------------------------------------------------------------------------


@on("ReservationStatusUpdate")
def reservation_status_update(
    services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime
) -> dict[str, Any]:
    # An unknown or already ended reservation changes nothing; the answer is the same (the
    # station needs no opinion from us to have removed it).
    services.reservations.station_update(
        ctx, p["reservationId"], p["reservationUpdateStatus"] == "Expired", now
    )
    return {}


# --- K: smart charging, what the station reports -------------------------------------------------


@on("NotifyChargingLimit")
def notify_charging_limit(
    services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime
) -> dict[str, Any]:
    limit = p["chargingLimit"]
    services.charging_limits.limit_set(
        ctx,
        ChargingLimit(
            source=limit["chargingLimitSource"],
            evse_id=p.get("evseId"),
            is_grid_critical=limit.get("isGridCritical"),
            schedules=tuple(p.get("chargingSchedule", ())),
        ),
        now,
    )
    return {}


@on("ClearedChargingLimit")
def cleared_charging_limit(
    services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime
) -> dict[str, Any]:
    services.charging_limits.limit_cleared(ctx, p["chargingLimitSource"], p.get("evseId"), now)
    return {}


@on("ReportChargingProfiles")
def report_charging_profiles(
    services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime
) -> dict[str, Any]:
    services.reports.charging_profiles_report(
        ctx,
        p["requestId"],
        p["evseId"],
        p["chargingLimitSource"],
        p.get("tbc", False),
        p["chargingProfile"],
        now,
    )
    return {}


@on("NotifyEVChargingNeeds")
def notify_ev_charging_needs(
    services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime
) -> dict[str, Any]:
    needs = p["chargingNeeds"]
    departure = needs.get("departureTime")
    services.charging_limits.needs(
        ctx,
        ChargingNeeds(
            evse_id=p["evseId"],
            requested_energy_transfer=needs["requestedEnergyTransfer"],
            departure_time=parse_datetime(departure) if departure else None,
            max_schedule_tuples=p.get("maxScheduleTuples"),
            parameters=needs.get("acChargingParameters") or needs.get("dcChargingParameters"),
        ),
        now,
    )
    # Stored for load management; no schedule is computed for a vehicle's needs (yet), so the
    # station keeps to its own profiles (K15: Rejected = no schedule will follow).
    return {"status": "Rejected", "statusInfo": {"reasonCode": "NoSchedule"}}


# --- L: firmware management -------------------------------------------------------------------


@on("FirmwareStatusNotification", before_acceptance=True)
def firmware_status_notification(
    services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime
) -> dict[str, Any]:
    services.firmware.firmware_status(ctx, p["status"], now, p.get("requestId"))
    return {}


# --- N: diagnostics ---------------------------------------------------------------------------


@on("LogStatusNotification", before_acceptance=True)
def log_status_notification(
    services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime
) -> dict[str, Any]:
    services.firmware.diagnostics_status(ctx, p["status"], now, p.get("requestId"))
    return {}


def _device_event(item: dict[str, Any]) -> DeviceEvent:
    component, variable = item["component"], item["variable"]
    evse = component.get("evse") or {}
    return DeviceEvent(
        event_id=item["eventId"],
        timestamp=parse_datetime(item["timestamp"]),
        trigger=item["trigger"],
        actual_value=item["actualValue"],
        where=ComponentVariable(
            component=component["name"],
            variable=variable["name"],
            component_instance=component.get("instance"),
            variable_instance=variable.get("instance"),
            evse_id=evse.get("id"),
            connector_id=evse.get("connectorId"),
        ),
        notification_type=item["eventNotificationType"],
        cause=item.get("cause"),
        tech_code=item.get("techCode"),
        tech_info=item.get("techInfo"),
        cleared=item.get("cleared"),
        transaction_id=item.get("transactionId"),
        variable_monitoring_id=item.get("variableMonitoringId"),
    )


#: NotifyEvent values of AvailabilityState that are connector statuses.
_CONNECTOR_STATUSES = frozenset(AvailabilityState)


@on("NotifyEvent", before_acceptance=True)
def notify_event(services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime) -> dict[str, Any]:
    services.diagnostics.device_events(ctx, [_device_event(item) for item in p["eventData"]], now)
    for item in p["eventData"]:
        # A connector's (or the whole station's) AvailabilityState is its status, as a
        # StatusNotification would have said it.
        component, evse = item["component"], item["component"].get("evse") or {}
        if item["variable"]["name"] != "AvailabilityState" or item["actualValue"] not in _CONNECTOR_STATUSES:
            continue
        if component["name"] == "Connector" and "connectorId" in evse:
            where = (evse["id"], evse["connectorId"])
        elif component["name"] == "ChargingStation":
            where = (0, 0)
        else:
            continue
        _availability(services, ctx, *where, item["actualValue"], item["timestamp"], now)
    return {}


@on("NotifyCustomerInformation")
def notify_customer_information(
    services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime
) -> dict[str, Any]:
    services.reports.customer_information(
        ctx, p["requestId"], p["seqNo"], p.get("tbc", False), parse_datetime(p["generatedAt"]), p["data"], now
    )
    return {}
