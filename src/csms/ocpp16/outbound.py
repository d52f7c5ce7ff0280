"""Outbound: the OCPP 1.6 CALLs the CSMS sends (commands), what each needs before it is sent
and what its answer leaves behind. One :class:`~csms.services.commands.ActionSpec` per action,
grouped by feature profile; :func:`registry` assembles them. The CALLs chargers send are
:mod:`csms.ocpp16.inbound`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ocpp.v16.enums import Action

from csms.domain.commands import Command, CommandStatus, Outcome
from csms.domain.device_model import (
    LOCAL_LIST_ENTRIES,
    LOCAL_LIST_ITEMS_PER_MESSAGE,
    VariableSource,
)
from csms.domain.local_list import UpdateType
from csms.domain.reservations import NewReservation
from csms.domain.smart_charging import ClearCriteria, ProfileSpec
from csms.domain.tokens import IdToken
from csms.errors import InvalidInput
from csms.ocpp16.configuration import configuration_values, key_value
from csms.ocpp16.local_list import entries_16, frames
from csms.ocpp16.mapping import connector_ref
from csms.ocpp16.schemas import SCHEMAS
from csms.ocppj.errors import RpcError
from csms.ocppj.times import parse_datetime
from csms.services.commands import ActionSpec, CommandRegistry, always_accepted, status_outcome
from csms.services.device_model import DeviceModelService
from csms.services.local_list import LocalListService
from csms.services.reservations import ReservationService
from csms.services.smart_charging import SmartChargingService


def validate_request(action: str, payload: dict[str, Any]) -> None:
    """Our CALL against the official 1.6 request schema (raises InvalidInput)."""
    try:
        SCHEMAS.validate_request(action, payload)
    except RpcError as exc:
        field = exc.details.get("field")
        raise InvalidInput(f"{action}: {exc.description}" + (f" (field {field})" if field else "")) from None


def validate_response(action: str, payload: dict[str, Any]) -> None:
    """The charger's CALLRESULT against the official 1.6 response schema."""
    SCHEMAS.validate_response(action, payload)


# --- Core profile ----------------------------------------------------------------------------


def core(device_model: DeviceModelService) -> list[ActionSpec]:
    """The Core profile's commands. GetConfiguration and ChangeConfiguration answers go into the
    device model, each key mapped onto its 2.0.1 variable (csms.ocpp16.configuration)."""

    def change_configuration(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        status = payload["status"]
        if status in ("Accepted", "RebootRequired"):
            device_model.record(
                command.tenant_id,
                command.charge_point_id,
                [key_value(command.request["key"], command.request["value"])],
                VariableSource.CHANGE_CONFIGURATION,
                now,
            )
            reason = "reboot required" if status == "RebootRequired" else None
            return Outcome(CommandStatus.ACCEPTED, reason)
        return Outcome(CommandStatus.REJECTED, f"charger answered {status}")

    def get_configuration(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        device_model.record(
            command.tenant_id,
            command.charge_point_id,
            configuration_values(payload.get("configurationKey", []), payload.get("unknownKey", [])),
            VariableSource.GET_CONFIGURATION,
            now,
        )
        return Outcome(CommandStatus.ACCEPTED)

    def change_availability(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        status = payload["status"]
        if status == "Accepted":
            return Outcome(CommandStatus.ACCEPTED)
        if status == "Scheduled":
            return Outcome(
                CommandStatus.ACCEPTED, "scheduled: takes effect when the running transaction ends"
            )
        return Outcome(CommandStatus.REJECTED, f"charger answered {status}")

    return [
        ActionSpec(Action.remote_start_transaction, status_outcome()),
        ActionSpec(Action.remote_stop_transaction, status_outcome()),
        ActionSpec(Action.reset, status_outcome()),
        ActionSpec(Action.unlock_connector, status_outcome(("Unlocked",))),
        ActionSpec(Action.change_availability, change_availability),
        ActionSpec(Action.change_configuration, change_configuration),
        ActionSpec(Action.get_configuration, get_configuration),
        ActionSpec(Action.clear_cache, status_outcome()),
        ActionSpec(Action.data_transfer, status_outcome()),
    ]


# --- FirmwareManagement profile ----------------------------------------------------------------


def firmware_management() -> list[ActionSpec]:
    """UpdateFirmware and GetDiagnostics; the charger's progress arrives later in its
    FirmwareStatusNotification / DiagnosticsStatusNotification (csms.ocpp16.firmware)."""

    def get_diagnostics(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        # The fileName stays in the command's response; without one there is nothing to upload.
        if "fileName" not in payload:
            return Outcome(CommandStatus.ACCEPTED, "no diagnostics information available")
        return Outcome(CommandStatus.ACCEPTED)

    return [
        ActionSpec(Action.update_firmware, always_accepted),
        ActionSpec(Action.get_diagnostics, get_diagnostics),
    ]


# --- LocalAuthListManagement profile -----------------------------------------------------------

_LIST_REFUSALS = {
    "VersionMismatch": "charger answered VersionMismatch: its list is not the version this update "
    "builds on; read it with GetLocalListVersion and send a Full list",
    "Failed": "charger answered Failed: it could not update its local list",
    "NotSupported": "charger answered NotSupported: it has no local authorization list",
}


def local_auth_list(local_lists: LocalListService, device_model: DeviceModelService) -> list[ActionSpec]:
    """SendLocalList (derived from the tenant's id tokens, split into frames under 32 KB, see
    csms.ocpp16.local_list) and GetLocalListVersion. What the charger said it holds
    (LocalAuthListMaxLength, SendLocalListMaxLength: LocalAuthListCtrlr.Entries' maxLimit and
    LocalAuthListCtrlr.ItemsPerMessage in the device model) shapes the list."""

    def expand(command: Command) -> list[dict[str, Any]]:
        # The stored request is the operator's (updateType, idTags); the frames replace it.
        body = command.request
        plan = local_lists.plan(
            command.tenant_id,
            command.charge_point_id,
            UpdateType(body["updateType"]),
            body.get("idTags"),
            command.created_at,
        )
        known = device_model.known(
            command.tenant_id, command.charge_point_id, [LOCAL_LIST_ENTRIES, LOCAL_LIST_ITEMS_PER_MESSAGE]
        )
        entries, per_message = known.get(LOCAL_LIST_ENTRIES), known.get(LOCAL_LIST_ITEMS_PER_MESSAGE)
        capacity = entries.max_limit() if entries is not None else None
        held = len(entries_16(plan))
        if plan.update_type is UpdateType.FULL and capacity is not None and held > capacity:
            raise InvalidInput(
                f"the list has {held} id tags; the charger holds at most {capacity} (LocalAuthListMaxLength)"
            )
        return frames(plan, max_entries=per_message.int_value() if per_message is not None else None)

    def send_local_list(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        version = command.request["listVersion"]
        status = payload["status"]
        if status == "Accepted":
            local_lists.accepted(command.tenant_id, command.charge_point_id, version, now)
            return Outcome(CommandStatus.ACCEPTED)
        dropped = local_lists.not_accepted(command.charge_point_id, version, now)
        reason = _LIST_REFUSALS.get(status, f"charger answered {status}")
        if dropped:
            reason += f" ({dropped} following part(s) of the list not sent)"
        return Outcome(CommandStatus.REJECTED, reason)

    def send_local_list_failed(command: Command, now: datetime) -> None:
        local_lists.not_accepted(command.charge_point_id, command.request["listVersion"], now)

    def get_local_list_version(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        version = payload["listVersion"]
        local_lists.reported(command.tenant_id, command.charge_point_id, version, now)
        if version == -1:  # OCPP 1.6 §5.10: -1 = the local list is disabled
            return Outcome(CommandStatus.ACCEPTED, "the charger's local authorization list is disabled")
        return Outcome(CommandStatus.ACCEPTED)

    return [
        ActionSpec(Action.send_local_list, send_local_list, on_failure=send_local_list_failed, expand=expand),
        ActionSpec(Action.get_local_list_version, get_local_list_version),
    ]


# --- Reservation profile -----------------------------------------------------------------------


def reservation(reservations: ReservationService) -> list[ActionSpec]:
    """ReserveNow (the reservationId is allocated when the command is submitted) and
    CancelReservation, moving the reservation through its lifecycle."""

    def prepare_reserve(command: Command) -> dict[str, Any]:
        r = command.request
        reservation_id = reservations.request(
            NewReservation(
                tenant_id=command.tenant_id,
                charge_point_id=command.charge_point_id,
                evse_id=connector_ref(r["connectorId"]).evse_id,
                id_token=IdToken(r["idTag"]),
                group_id_token=r.get("parentIdTag"),
                expiry_date=parse_datetime(r["expiryDate"]),
                command_id=command.id,
            ),
            command.created_at,
        )
        return {**r, "reservationId": reservation_id}

    def reserve_now(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        status = payload["status"]
        reservation_id = command.request["reservationId"]
        if status == "Accepted":
            reservations.accepted(reservation_id, now)
            return Outcome(CommandStatus.ACCEPTED)
        reservations.rejected(reservation_id, now)
        return Outcome(CommandStatus.REJECTED, f"charger answered {status}")

    def reserve_failed(command: Command, now: datetime) -> None:
        reservations.failed(command.request["reservationId"], now)

    def prepare_cancel(command: Command) -> dict[str, Any]:
        reservations.cancellable(command.tenant_id, command.charge_point_id, command.request["reservationId"])
        return command.request

    def cancel_reservation(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        status = payload["status"]
        if status == "Accepted":
            reservations.cancelled(command.request["reservationId"], now)
            return Outcome(CommandStatus.ACCEPTED)
        return Outcome(CommandStatus.REJECTED, f"charger answered {status}: it holds no such reservation")

    return [
        ActionSpec(Action.reserve_now, reserve_now, prepare=prepare_reserve, on_failure=reserve_failed),
        ActionSpec(Action.cancel_reservation, cancel_reservation, prepare=prepare_cancel),
    ]


# --- SmartCharging profile ---------------------------------------------------------------------


def smart_charging(profiles: SmartChargingService) -> list[ActionSpec]:
    """SetChargingProfile and ClearChargingProfile keep the charger's profiles on record;
    GetCompositeSchedule's answer (the schedule) is the command's response."""

    def prepare_set(command: Command) -> dict[str, Any]:
        r = command.request
        p = r["csChargingProfiles"]
        profiles.requested(
            command.tenant_id,
            command.charge_point_id,
            ProfileSpec(
                evse_id=connector_ref(r["connectorId"]).evse_id,
                charging_profile_id=p["chargingProfileId"],
                purpose=p["chargingProfilePurpose"],
                stack_level=p["stackLevel"],
                kind=p["chargingProfileKind"],
                schedule=p["chargingSchedule"],
                recurrency_kind=p.get("recurrencyKind"),
                valid_from=_datetime_or_none(p.get("validFrom")),
                valid_to=_datetime_or_none(p.get("validTo")),
                transaction_id=p.get("transactionId"),
            ),
            command.id,
            command.created_at,
        )
        return r

    def set_charging_profile(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        status = payload["status"]
        if status == "Accepted":
            replaced = profiles.installed(command.id, now)
            return Outcome(
                CommandStatus.ACCEPTED, f"replaced {replaced} installed profile(s)" if replaced else None
            )
        profiles.rejected(command.id, now)
        return Outcome(CommandStatus.REJECTED, f"charger answered {status}")

    def set_failed(command: Command, now: datetime) -> None:
        profiles.failed(command.id, now)

    def clear_charging_profile(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        status = payload["status"]
        if status != "Accepted":
            return Outcome(CommandStatus.REJECTED, f"charger answered {status}: no matching profile")
        r = command.request
        profiles.cleared(
            command.tenant_id,
            command.charge_point_id,
            ClearCriteria(
                charging_profile_id=r.get("id"),
                evse_id=connector_ref(r["connectorId"]).evse_id if "connectorId" in r else None,
                purpose=r.get("chargingProfilePurpose"),
                stack_level=r.get("stackLevel"),
            ),
            now,
        )
        return Outcome(CommandStatus.ACCEPTED)

    return [
        ActionSpec(
            Action.set_charging_profile, set_charging_profile, prepare=prepare_set, on_failure=set_failed
        ),
        ActionSpec(Action.clear_charging_profile, clear_charging_profile),
        ActionSpec(Action.get_composite_schedule, status_outcome()),
    ]


def _datetime_or_none(value: str | None) -> datetime | None:
    return parse_datetime(value) if value is not None else None


# --- RemoteTrigger profile ---------------------------------------------------------------------


def remote_trigger() -> list[ActionSpec]:
    """TriggerMessage; the message it triggers arrives through the normal inbound path."""
    return [ActionSpec(Action.trigger_message, status_outcome())]


def registry(
    device_model: DeviceModelService,
    *,
    local_lists: LocalListService,
    reservations: ReservationService,
    charging_profiles: SmartChargingService,
) -> CommandRegistry:
    """Every server-initiated action this CSMS can send, from all six 1.6 feature profiles."""
    commands = CommandRegistry()
    for spec in (
        *core(device_model),
        *firmware_management(),
        *local_auth_list(local_lists, device_model),
        *reservation(reservations),
        *smart_charging(charging_profiles),
        *remote_trigger(),
    ):
        commands.register(spec)
    return commands


__all__ = ["always_accepted", "registry", "validate_request", "validate_response"]
