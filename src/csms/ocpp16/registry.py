"""The table of inbound actions: one handler per OCPP action, registered with ``@on``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from csms.domain.stations import ChargerContext
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


#: (services, charger, validated request payload, now) -> response payload (camelCase).
Handler = Callable[[Services, ChargerContext, dict[str, Any], datetime], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class InboundAction:
    name: str
    handler: Handler
    #: May a charger that is not (yet) Accepted send this? OCPP 1.6 §4.2.1: only boot.
    before_acceptance: bool


INBOUND: dict[str, InboundAction] = {}


def on(action: str, *, before_acceptance: bool = False) -> Callable[[Handler], Handler]:
    """Register ``handler`` for the CALL ``action`` sent by charge points."""

    def register(handler: Handler) -> Handler:
        if action in INBOUND:
            raise RuntimeError(f"two handlers for {action}")
        INBOUND[action] = InboundAction(action, handler, before_acceptance)
        return handler

    return register
