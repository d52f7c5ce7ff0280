"""Handlers for every CALL a 2.0.1 station sends: the 2.0.1 payload becomes domain types, one
service call, and the answer is built as a camelCase payload (which the dispatcher checks
against the official response schema). Grouped by functional block (Part 2's letters).

2.0.1 forbids ``null`` for an absent field (Part 4, section 4.1.5): answers leave such fields
out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms.domain.events import iso
from csms.domain.stations import BootInfo, ChargerContext
from csms.ocpp201.registry import Services, on

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


# --- G: availability ------------------------------------------------------------------------


@on("Heartbeat", before_acceptance=True)
def heartbeat(services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {"currentTime": iso(services.charge_points.heartbeat(ctx, now))}


# --- P: data transfer -----------------------------------------------------------------------


@on("DataTransfer")
def data_transfer(
    services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime
) -> dict[str, Any]:
    result = services.data_transfer.transfer(ctx, p["vendorId"], p.get("messageId"), p.get("data"))
    if result.data is None:
        return {"status": result.status.value}
    return {"status": result.status.value, "data": result.data}
