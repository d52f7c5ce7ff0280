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
from csms.domain.diagnostics import ComponentVariable, CustomerInformationPart, DeviceEvent
from csms.domain.events import iso
from csms.domain.security import SecurityEvent
from csms.domain.stations import AvailabilityState, BootInfo, ChargerContext, ConnectorStatus
from csms.ocpp201.mapping import id_token, id_token_info
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
    services.firmware.firmware_status(ctx, p["status"], now)
    return {}


# --- N: diagnostics ---------------------------------------------------------------------------


@on("LogStatusNotification", before_acceptance=True)
def log_status_notification(
    services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime
) -> dict[str, Any]:
    services.firmware.diagnostics_status(ctx, p["status"], now)
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
    services.diagnostics.customer_information(
        ctx,
        CustomerInformationPart(
            request_id=p["requestId"],
            seq_no=p["seqNo"],
            to_be_continued=p.get("tbc", False),
            generated_at=parse_datetime(p["generatedAt"]),
            data=p["data"],
        ),
        now,
    )
    return {}
