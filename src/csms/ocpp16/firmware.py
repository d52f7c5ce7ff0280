"""Handlers for the CALLs a charge point sends in the FirmwareManagement profile (OCPP 1.6
§4.4, §4.5): progress of a firmware update and of a diagnostics upload, recorded as a
timeline per charger. Registered in :data:`csms.ocpp16.registry.INBOUND`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ocpp.v16.enums import Action

from csms.domain.stations import ChargerContext
from csms.ocpp16.registry import Services, on
from csms.ocppj.errors import RpcError, RpcErrorKind
from csms.services.firmware import FirmwareService


def _firmware(services: Services, action: str) -> FirmwareService:
    if services.firmware is None:  # a dispatcher assembled without the block (unit tests)
        raise RpcError(RpcErrorKind.NOT_SUPPORTED, f"{action} is not supported by this CSMS")
    return services.firmware


@on(Action.firmware_status_notification)
def firmware_status_notification(
    services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime
) -> dict[str, Any]:
    _firmware(services, Action.firmware_status_notification).firmware_status(ctx, p["status"], now)
    return {}


@on(Action.diagnostics_status_notification)
def diagnostics_status_notification(
    services: Services, ctx: ChargerContext, p: dict[str, Any], now: datetime
) -> dict[str, Any]:
    _firmware(services, Action.diagnostics_status_notification).diagnostics_status(ctx, p["status"], now)
    return {}
