"""Server-initiated OCPP 1.6 actions: what each needs before it is sent and what its answer
leaves behind. One :class:`~csms.services.commands.ActionSpec` per action, grouped by
feature profile; :func:`registry` assembles them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ocpp.v16.enums import Action

from csms.ocpp16 import schemas
from csms.services.commands import (
    ActionSpec,
    Command,
    CommandRegistry,
    CommandStatus,
    Outcome,
    always_accepted,
    status_outcome,
)
from csms.services.configuration import ConfigurationStore


def validate_request(action: str, payload: dict[str, Any]) -> None:
    """Our CALL against the official 1.6 request schema (raises InvalidInput)."""
    from csms.errors import InvalidInput
    from csms.ocpp16.errors import OcppError

    try:
        schemas.validate_request(action, payload)
    except OcppError as exc:
        field = exc.details.get("field")
        raise InvalidInput(f"{action}: {exc.description}" + (f" (field {field})" if field else "")) from None


def validate_response(action: str, payload: dict[str, Any]) -> None:
    """The charger's CALLRESULT against the official 1.6 response schema."""
    schemas.validate_response(action, payload)


# --- Core profile ----------------------------------------------------------------------------


def core(configuration: ConfigurationStore) -> list[ActionSpec]:
    def change_configuration(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        status = payload["status"]
        if status in ("Accepted", "RebootRequired"):
            configuration.set_value(
                command.tenant_id,
                command.charge_point_id,
                command.request["key"],
                command.request["value"],
                now,
            )
            reason = "reboot required" if status == "RebootRequired" else None
            return Outcome(CommandStatus.ACCEPTED, reason)
        return Outcome(CommandStatus.REJECTED, f"charger answered {status}")

    def get_configuration(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        configuration.store_report(
            command.tenant_id,
            command.charge_point_id,
            payload.get("configurationKey", []),
            payload.get("unknownKey", []),
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


def registry(configuration: ConfigurationStore) -> CommandRegistry:
    """Every server-initiated action this CSMS can send."""
    commands = CommandRegistry()
    for spec in core(configuration):
        commands.register(spec)
    return commands


__all__ = ["always_accepted", "registry", "validate_request", "validate_response"]
