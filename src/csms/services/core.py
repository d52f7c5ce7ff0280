"""Core functional block: boot, heartbeat, status notifications, data transfer."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from csms.domain.connections import ConnectionStore
from csms.domain.events import iso, new_event
from csms.domain.stations import BootInfo, ChargerContext, ConnectorStatus, RegistrationStatus
from csms.domain.storage import Database, UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BootResult:
    status: RegistrationStatus
    interval: int


class ChargePointService:
    """BootNotification, Heartbeat and StatusNotification."""

    def __init__(self, db: Database, connections: ConnectionStore, heartbeat_interval: int) -> None:
        self._db = db
        self._connections = connections
        self._interval = heartbeat_interval

    def boot(self, ctx: ChargerContext, info: BootInfo, now: datetime) -> BootResult:
        """Record what the charger says about itself and tell it whether it is accepted."""

        def work(uow: UnitOfWork) -> RegistrationStatus:
            charge_point = uow.charge_points.get(ctx.charge_point_id)
            if charge_point is None:
                # Removed while connected: it is no longer ours.
                return RegistrationStatus.REJECTED
            uow.charge_points.record_boot(ctx.charge_point_id, info, now)
            status = charge_point.registration_status
            uow.events.add(
                new_event(
                    "ChargerBooted",
                    ctx.tenant_id,
                    ctx.charge_point_id,
                    now,
                    {
                        "registrationStatus": status.value,
                        "heartbeatInterval": self._interval,
                        "vendor": info.vendor,
                        "model": info.model,
                        "serialNumber": info.serial_number,
                        "chargeBoxSerialNumber": info.charge_box_serial_number,
                        "firmwareVersion": info.firmware_version,
                        "meterType": info.meter_type,
                        "meterSerialNumber": info.meter_serial_number,
                        "bootReason": info.reason,
                        # Transactions a rebooted station may have left open (stuck-transactions).
                        "openTransactionRefs": uow.transactions.open_transaction_ids(ctx.charge_point_id),
                    },
                )
            )
            return status

        status = self._db.run(work)
        if status is not ctx.registration_status:
            self._connections.set_registration_status(ctx.connection_id, status)
        return BootResult(status=status, interval=self._interval)

    def heartbeat(self, ctx: ChargerContext, now: datetime) -> datetime:
        """Liveness is already recorded in the connection store by the frame itself."""
        return now

    def status_notification(self, ctx: ChargerContext, status: ConnectorStatus, now: datetime) -> bool:
        """Store a connector's status. Returns whether it became the latest one."""

        def work(uow: UnitOfWork) -> bool:
            recorded = uow.connectors.record_status(ctx.tenant_id, ctx.charge_point_id, status, now)
            if recorded is None:
                return False
            previous = (
                recorded.previous_status,
                recorded.previous_error_code,
                recorded.previous_charging_state,
            )
            changed = previous != (status.status, status.error_code, recorded.charging_state)
            if recorded.new_report and changed:
                uow.events.add(
                    new_event(
                        "ConnectorStatusChanged",
                        ctx.tenant_id,
                        ctx.charge_point_id,
                        now,
                        {
                            "evseId": status.evse_id,
                            "connectorId": status.connector_id,
                            "status": status.status,
                            "state": status.state.value,
                            "chargingState": _value(recorded.charging_state),
                            "errorCode": status.error_code,
                            "info": status.info,
                            "vendorId": status.vendor_id,
                            "vendorErrorCode": status.vendor_error_code,
                            "statusTimestamp": iso(status.timestamp),
                            "previousStatus": recorded.previous_status,
                            "previousState": _value(recorded.previous_state),
                            "previousChargingState": _value(recorded.previous_charging_state),
                            "previousErrorCode": recorded.previous_error_code,
                        },
                    )
                )
            return True

        return self._db.run(work)


def _value(member: StrEnum | None) -> str | None:
    return member.value if member is not None else None


class DataTransferStatus(StrEnum):
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    UNKNOWN_MESSAGE_ID = "UnknownMessageId"
    UNKNOWN_VENDOR_ID = "UnknownVendorId"


@dataclass(frozen=True, slots=True)
class DataTransferResult:
    status: DataTransferStatus
    data: str | None = None


#: A vendor extension: receives (charger, messageId, data) and answers.
VendorHandler = Callable[[ChargerContext, str | None, str | None], DataTransferResult]

_vendor_handlers: dict[str, VendorHandler] = {}


def vendor_extension(vendor_id: str) -> Callable[[VendorHandler], VendorHandler]:
    """Register the DataTransfer handler for ``vendor_id``.

    This is the place for vendor-specific behaviour: write a function in a module under
    ``csms.vendors`` decorated with ``@vendor_extension("com.example")``; it is imported
    by :mod:`csms.vendors` and answers every DataTransfer.req with that vendorId.
    """

    def register(handler: VendorHandler) -> VendorHandler:
        _vendor_handlers[vendor_id] = handler
        return handler

    return register


class DataTransferService:
    """DataTransfer.req from a charger: route to a vendor extension or refuse."""

    def __init__(
        self, accepted_vendors: Iterable[str] = (), handlers: dict[str, VendorHandler] | None = None
    ):
        self._accepted = frozenset(accepted_vendors)
        self._handlers = _vendor_handlers if handlers is None else handlers

    def transfer(
        self, ctx: ChargerContext, vendor_id: str, message_id: str | None, data: Any
    ) -> DataTransferResult:
        handler = self._handlers.get(vendor_id)
        if handler is not None:
            return handler(ctx, message_id, data)
        if vendor_id in self._accepted:
            # Configured as known but without custom logic: acknowledge and keep a record
            # in the logs so the payload is not lost.
            log.info(
                "data transfer accepted",
                extra={"vendor_id": vendor_id, "message_id": message_id, "data": data},
            )
            return DataTransferResult(status=DataTransferStatus.ACCEPTED)
        return DataTransferResult(status=DataTransferStatus.UNKNOWN_VENDOR_ID)
