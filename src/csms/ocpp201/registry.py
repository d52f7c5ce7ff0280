"""The table of 2.0.1 inbound actions: one handler per OCPP action, registered with ``@on``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from csms.ocppj.registry import InboundTable
from csms.services.authorization import AuthorizationService
from csms.services.charging_limits import ChargingLimitService
from csms.services.core import ChargePointService, DataTransferService
from csms.services.diagnostics import DiagnosticsService
from csms.services.firmware import FirmwareService
from csms.services.reservations import ReservationService
from csms.services.security import SecurityEventService
from csms.services.station_reports import StationReportService
from csms.services.transactions import TransactionService


@dataclass(frozen=True, slots=True)
class Services:
    """What inbound 2.0.1 handlers may call."""

    charge_points: ChargePointService
    authorization: AuthorizationService
    data_transfer: DataTransferService
    security: SecurityEventService
    diagnostics: DiagnosticsService
    firmware: FirmwareService
    reservations: ReservationService
    charging_limits: ChargingLimitService
    transactions: TransactionService
    reports: StationReportService


INBOUND: Final = InboundTable[Services]()
#: ``@on("Action")`` registers the handler of the CALL sent by 2.0.1 stations.
on = INBOUND.on
