"""The table of 1.6 inbound actions: one handler per OCPP action, registered with ``@on``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from csms.ocppj.registry import InboundTable
from csms.services.authorization import AuthorizationService
from csms.services.core import ChargePointService, DataTransferService
from csms.services.firmware import FirmwareService
from csms.services.transactions import TransactionService


@dataclass(frozen=True, slots=True)
class Services:
    """What inbound handlers may call."""

    charge_points: ChargePointService
    authorization: AuthorizationService
    transactions: TransactionService
    data_transfer: DataTransferService
    #: FirmwareManagement notifications; None answers them NotSupported.
    firmware: FirmwareService | None = None


INBOUND: Final = InboundTable[Services]()
#: ``@on(Action.x)`` registers the handler of the CALL ``x`` sent by charge points.
on = INBOUND.on
