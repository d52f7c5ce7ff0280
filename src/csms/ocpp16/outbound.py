"""Outbound: the commands the CSMS sends to OCPP 1.6 chargers. Each neutral command is
translated into its 1.6 CALL (or refused, naming the field 1.6 cannot express); a few 1.6
actions are also sent by their own name with the operator's payload. One
:class:`~csms.services.commands.ActionSpec` per command, grouped by feature profile;
:func:`registry` assembles them. The CALLs chargers send are :mod:`csms.ocpp16.inbound`.

What an answer leaves behind is read from the payload sent (``ocpp_request``), so a neutral
command and the same action sent by name have the same effect.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from csms.constants import OCPP16
from csms.domain.commands import Command, CommandStatus, Outcome, Translation
from csms.domain.device_model import (
    VariableSource,
    address_of,
)
from csms.domain.local_list import UpdateType
from csms.domain.smart_charging import ClearCriteria
from csms.errors import InvalidInput
from csms.ocpp16.configuration import configuration_values, is_max_limit, key_of, key_value
from csms.ocpp16.local_list import entries_16, frames
from csms.ocpp16.local_list import payload as local_list_payload
from csms.ocpp16.mapping import MAX_ID_TAG_LENGTH, connector_ref
from csms.ocpp16.schemas import SCHEMAS
from csms.ocppj.errors import RpcError
from csms.ocppj.schemas import check_text
from csms.services.commands import (
    ActionSpec,
    CommandRegistry,
    ResultHandler,
    always_accepted,
    answered,
    ocpp_action,
    status_outcome,
)
from csms.services.credentials import REDACTED, CredentialService
from csms.services.device_model import DeviceModelService
from csms.services.local_list import LocalListService
from csms.services.neutral_commands import (
    Preparations,
    availability_answered,
    cannot,
    list_to_send,
    local_list_answers,
    reservation_specs,
)

#: 1.6 ChangeConfiguration values are CiString500.
MAX_VALUE_LENGTH: Final = 500
#: The 1.6 security whitepaper: an AuthorizationKey is 16 to 20 bytes, sent hex-encoded.
MAX_AUTHORIZATION_KEY_BYTES: Final = 20
_INT32_MAX: Final = 2**31 - 1


def validate_request(action: str, payload: dict[str, Any]) -> None:
    """Our CALL against the official 1.6 request schema (raises InvalidInput)."""
    try:
        SCHEMAS.validate_request(action, payload)
        check_text(payload)
    except RpcError as exc:
        field = exc.details.get("field")
        raise InvalidInput(f"{action}: {exc.description}" + (f" (field {field})" if field else "")) from None


def validate_response(action: str, payload: dict[str, Any]) -> None:
    """The charger's CALLRESULT against the official 1.6 response schema."""
    SCHEMAS.validate_response(action, payload)


# --- translation helpers -------------------------------------------------------------------------


def _id_tag(value: dict[str, Any], field: str) -> str:
    tag = str(value["idToken"])
    if len(tag) > MAX_ID_TAG_LENGTH:
        raise cannot(f"{field}.idToken", f"a 1.6 id tag has at most {MAX_ID_TAG_LENGTH} characters")
    return tag


def _one_connector(r: dict[str, Any]) -> None:
    if r.get("connectorId") not in (None, 1):
        raise cannot(
            "connectorId",
            "a 1.6 charger has one connector per EVSE (connector 1 of EVSE N is its connector N)",
        )


def _transaction_id(value: str, field: str) -> int:
    if not value.isdigit() or int(value) > _INT32_MAX:
        raise cannot(field, "a 1.6 transaction id is an integer")
    return int(value)


_PURPOSES: Final = {
    "ChargingStationMaxProfile": "ChargePointMaxProfile",
    "TxDefaultProfile": "TxDefaultProfile",
    "TxProfile": "TxProfile",
}


def _purpose(value: str, field: str) -> str:
    if value not in _PURPOSES:
        raise cannot(field, f"1.6 has no {value} (it is set by systems outside the CSMS in 2.0.1)")
    return _PURPOSES[value]


def charging_profile(p: dict[str, Any], field: str) -> dict[str, Any]:
    """A neutral charging profile as a 1.6 ChargingProfile: one schedule, 1.6's purpose names,
    an integer transaction id; a schedule's id is 2.0.1's alone and left out."""
    schedules = p["chargingSchedule"]
    if len(schedules) != 1:
        raise cannot(f"{field}.chargingSchedule", "a 1.6 charging profile has exactly one schedule")
    s = schedules[0]
    periods = []
    for i, period in enumerate(s["chargingSchedulePeriod"]):
        if "phaseToUse" in period:
            raise cannot(
                f"{field}.chargingSchedule[0].chargingSchedulePeriod[{i}].phaseToUse", "1.6 has no phaseToUse"
            )
        periods.append({k: period[k] for k in ("startPeriod", "limit", "numberPhases") if k in period})
    schedule = {
        k: s[k] for k in ("duration", "startSchedule", "chargingRateUnit", "minChargingRate") if k in s
    }
    schedule["chargingSchedulePeriod"] = periods
    out: dict[str, Any] = {
        "chargingProfileId": p["id"],
        "stackLevel": p["stackLevel"],
        "chargingProfilePurpose": _purpose(p["chargingProfilePurpose"], f"{field}.chargingProfilePurpose"),
        "chargingProfileKind": p["chargingProfileKind"],
        "chargingSchedule": schedule,
    }
    for key in ("recurrencyKind", "validFrom", "validTo"):
        if key in p:
            out[key] = p[key]
    if "transactionId" in p:
        out["transactionId"] = _transaction_id(p["transactionId"], f"{field}.transactionId")
    return out


def _key(v: dict[str, Any], field: str) -> str:
    found = key_of(address_of(v))
    if found is None:
        c, var = v["component"], v["variable"]
        raise cannot(field, f"1.6 has no configuration key for {c['name']}.{var['name']}")
    return found


# --- Core profile ----------------------------------------------------------------------------


def configuration_changed(device_model: DeviceModelService) -> ResultHandler:
    """ChangeConfiguration's answer: an accepted value goes into the device model under its key's
    variable (a credential's without its value)."""

    def handler(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        status = payload["status"]
        sent = command.ocpp_request or {}
        if status in ("Accepted", "RebootRequired"):
            device_model.record(
                command.tenant_id,
                command.charge_point_id,
                [key_value(sent["key"], sent["value"])],
                VariableSource.CHANGE_CONFIGURATION,
                now,
            )
            reason = "reboot required" if status == "RebootRequired" else None
            return Outcome(CommandStatus.ACCEPTED, reason)
        return Outcome(CommandStatus.REJECTED, answered(status, payload))

    return handler


def core(device_model: DeviceModelService, prep: Preparations) -> list[ActionSpec]:
    """The Core profile. GetConfiguration and ChangeConfiguration answers go into the device
    model, each key mapped onto its 2.0.1 variable (csms.ocpp16.configuration)."""

    change_configuration = configuration_changed(device_model)

    def get_configuration(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        device_model.record(
            command.tenant_id,
            command.charge_point_id,
            configuration_values(payload.get("configurationKey", []), payload.get("unknownKey", [])),
            VariableSource.GET_CONFIGURATION,
            now,
        )
        return Outcome(CommandStatus.ACCEPTED)

    def start(r: dict[str, Any]) -> Translation:
        if "groupIdToken" in r:
            raise cannot("groupIdToken", "1.6 RemoteStartTransaction has no group id token")
        out: dict[str, Any] = {"idTag": _id_tag(r["idToken"], "idToken")}
        if "evseId" in r:
            out["connectorId"] = r["evseId"]
        if "chargingProfile" in r:
            out["chargingProfile"] = charging_profile(r["chargingProfile"], "chargingProfile")
        return Translation("RemoteStartTransaction", out)

    def stop(r: dict[str, Any]) -> Translation:
        return Translation(
            "RemoteStopTransaction", {"transactionId": _transaction_id(r["transactionId"], "transactionId")}
        )

    def reset(r: dict[str, Any]) -> Translation:
        if "evseId" in r:
            raise cannot("evseId", "a 1.6 charger resets as a whole")
        kind = {"Immediate": "Soft", "Hard": "Hard"}.get(r["type"])
        if kind is None:
            raise cannot("type", "1.6 has no OnIdle reset (Immediate is a Soft reset, Hard a Hard one)")
        return Translation("Reset", {"type": kind})

    def unlock(r: dict[str, Any]) -> Translation:
        _one_connector(r)
        return Translation("UnlockConnector", {"connectorId": r["evseId"]})

    def availability(r: dict[str, Any]) -> Translation:
        _one_connector(r)
        return Translation(
            "ChangeAvailability",
            {"connectorId": r.get("evseId", 0), "type": "Operative" if r["operational"] else "Inoperative"},
        )

    def get_variables(r: dict[str, Any]) -> Translation:
        variables = r.get("variables")
        if variables is None:
            return Translation("GetConfiguration", {})
        keys = [_key(v, f"variables[{i}]") for i, v in enumerate(variables)]
        return Translation("GetConfiguration", {"key": list(dict.fromkeys(keys))})

    def set_variables_expand(command: Command) -> list[dict[str, Any]]:
        # One ChangeConfiguration per key: 1.6 changes one at a time.
        return [{"variables": [v]} for v in command.request["variables"]]

    def set_variables(r: dict[str, Any]) -> Translation:
        variables = r["variables"]
        if len(variables) != 1:
            raise cannot("variables", "1.6 changes one configuration key per ChangeConfiguration")
        [v] = variables
        key = _key(v, "variables[0]")
        if key_of_is_secret(key):
            raise cannot("variables[0]", "the password is changed with the rotate-password command")
        if is_max_limit(key):
            raise cannot("variables[0]", f"{key} is a capacity the charger reports, not a setting")
        value = v["attributeValue"]
        if len(value) > MAX_VALUE_LENGTH:
            raise cannot(
                "variables[0].attributeValue", f"a 1.6 value has at most {MAX_VALUE_LENGTH} characters"
            )
        return Translation("ChangeConfiguration", {"key": key, "value": value})

    def data_transfer(r: dict[str, Any]) -> Translation:
        out: dict[str, Any] = {k: r[k] for k in ("vendorId", "messageId") if k in r}
        if "data" in r:
            if not isinstance(r["data"], str):
                raise cannot("data", "1.6 DataTransfer data is a string")
            out["data"] = r["data"]
        return Translation("DataTransfer", out)

    return [
        ActionSpec(
            "start-transaction", status_outcome(), translate=start, prepare=prep.allocate("remoteStartId")
        ),
        ActionSpec("stop-transaction", status_outcome(), translate=stop),
        ActionSpec("reset", status_outcome(), translate=reset),
        ActionSpec("unlock-connector", status_outcome(("Unlocked",)), translate=unlock),
        ActionSpec("change-availability", availability_answered, translate=availability),
        ActionSpec("clear-cache", status_outcome(), translate=lambda r: Translation("ClearCache", {})),
        ActionSpec(
            "get-variables",
            get_configuration,
            translate=get_variables,
            prepare=prep.allocate("requestId", when=lambda r: r.get("variables") is None),
        ),
        ActionSpec(
            "set-variables", change_configuration, translate=set_variables, expand=set_variables_expand
        ),
        ActionSpec("data-transfer", status_outcome(), translate=data_transfer),
        # By their 1.6 names.
        ocpp_action("RemoteStartTransaction", status_outcome()),
        ocpp_action("RemoteStopTransaction", status_outcome()),
        ocpp_action("Reset", status_outcome()),
        ocpp_action("UnlockConnector", status_outcome(("Unlocked",))),
        ocpp_action("ChangeAvailability", availability_answered),
        ocpp_action("ChangeConfiguration", change_configuration, prepare=_no_credentials),
        ocpp_action("GetConfiguration", get_configuration),
        ocpp_action("ClearCache", status_outcome()),
        ocpp_action("DataTransfer", status_outcome()),
    ]


def security(device_model: DeviceModelService, credentials: CredentialService) -> list[ActionSpec]:
    """rotate-password as ChangeConfiguration AuthorizationKey (the 1.6 security whitepaper,
    security profiles 1 and 2): the key is the password's bytes, hex-encoded, 16 to 20 of them;
    the charger decodes it and presents the password in Basic auth."""
    changed = configuration_changed(device_model)

    def translate(r: dict[str, Any]) -> Translation:
        if not 16 <= r["passwordLength"] <= MAX_AUTHORIZATION_KEY_BYTES:
            raise cannot("password", "a 1.6 AuthorizationKey holds 16 to 20 bytes")
        return Translation("ChangeConfiguration", {"key": "AuthorizationKey", "value": REDACTED})

    def build(command: Command, payload: dict[str, Any]) -> dict[str, Any]:
        return {**payload, "value": credentials.reveal(command).encode().hex()}

    def answered(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        outcome = changed(command, payload, now)
        credentials.answered(command, outcome.status is CommandStatus.ACCEPTED)
        return outcome

    return [
        ActionSpec(
            "rotate-password",
            answered,
            translate=translate,
            prepare=credentials.prepare,
            on_failure=lambda command, now: credentials.failed(command),
            build=build,
        )
    ]


def _no_credentials(command: Command) -> dict[str, Any]:
    """The charger's password is changed by rotate-password only: it is never stored in a
    command (csms.services.credentials)."""
    if key_of_is_secret(command.request.get("key", "")):
        raise cannot("key", "the password (AuthorizationKey) is changed with the rotate-password command")
    return command.request


def key_of_is_secret(key: str) -> bool:
    return key.lower() == "authorizationkey"


# --- FirmwareManagement profile ----------------------------------------------------------------


def firmware_management(prep: Preparations) -> list[ActionSpec]:
    """UpdateFirmware and GetDiagnostics; the charger's progress arrives later in its
    FirmwareStatusNotification / DiagnosticsStatusNotification (csms.ocpp16.firmware)."""

    def get_diagnostics(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        # The fileName stays in the command's response; without one there is nothing to upload.
        if "fileName" not in payload:
            return Outcome(CommandStatus.ACCEPTED, "no diagnostics information available")
        return Outcome(CommandStatus.ACCEPTED, result={"filename": payload["fileName"]})

    def update_firmware(r: dict[str, Any]) -> Translation:
        # 1.6 installs as soon as it has downloaded and cannot check a signature: dropping
        # either would do something else than asked.
        for field in ("installDateTime", "signingCertificate", "signature"):
            if field in r:
                raise cannot(
                    field, "1.6 UpdateFirmware has none (a 1.6 charger installs what it downloads, unchecked)"
                )
        out: dict[str, Any] = {"location": r["location"], "retrieveDate": r["retrieveDateTime"]}
        for key in ("retries", "retryInterval"):
            if key in r:
                out[key] = r[key]
        return Translation("UpdateFirmware", out)

    def upload_logs(r: dict[str, Any]) -> Translation:
        if r.get("logType", "DiagnosticsLog") != "DiagnosticsLog":
            raise cannot("logType", "a 1.6 charger uploads diagnostics only")
        out: dict[str, Any] = {"location": r["location"]}
        for neutral, ocpp in (
            ("oldestTimestamp", "startTime"),
            ("latestTimestamp", "stopTime"),
            ("retries", "retries"),
            ("retryInterval", "retryInterval"),
        ):
            if neutral in r:
                out[ocpp] = r[neutral]
        return Translation("GetDiagnostics", out)

    return [
        ActionSpec(
            "update-firmware", always_accepted, translate=update_firmware, prepare=prep.allocate("requestId")
        ),
        ActionSpec("upload-logs", get_diagnostics, translate=upload_logs, prepare=prep.allocate("requestId")),
        ocpp_action("UpdateFirmware", always_accepted),
        ocpp_action("GetDiagnostics", get_diagnostics),
    ]


# --- LocalAuthListManagement profile -----------------------------------------------------------


def local_auth_list(local_lists: LocalListService, device_model: DeviceModelService) -> list[ActionSpec]:
    """SendLocalList (derived from the tenant's id tokens, split into frames under 32 KB, see
    csms.ocpp16.local_list) and GetLocalListVersion. What the charger said it holds
    (LocalAuthListMaxLength, SendLocalListMaxLength: LocalAuthListCtrlr.Entries' maxLimit and
    LocalAuthListCtrlr.ItemsPerMessage in the device model) shapes the list."""

    def expand(command: Command) -> list[dict[str, Any]]:
        for i, t in enumerate(command.request.get("idTokens") or []):
            _id_tag(t, f"idTokens[{i}]")
        to_send = list_to_send(local_lists, device_model, command)
        held = len(entries_16(to_send.plan))
        if (
            to_send.plan.update_type is UpdateType.FULL
            and to_send.capacity is not None
            and held > to_send.capacity
        ):
            raise InvalidInput(
                f"the list has {held} id tokens; the charger holds at most {to_send.capacity} "
                "(LocalAuthListMaxLength)"
            )
        return frames(to_send.plan, max_entries=to_send.per_message)

    sent, failed, version = local_list_answers(local_lists, "listVersion")
    return [
        ActionSpec(
            "send-local-list",
            sent,
            translate=lambda part: Translation("SendLocalList", local_list_payload(part)),
            on_failure=failed,
            expand=expand,
        ),
        ActionSpec(
            "get-local-list-version", version, translate=lambda r: Translation("GetLocalListVersion", {})
        ),
        ocpp_action("GetLocalListVersion", version),
    ]


# --- Reservation profile -----------------------------------------------------------------------


def reservation(prep: Preparations) -> list[ActionSpec]:
    """ReserveNow (the reservationId is allocated when the command is submitted) and
    CancelReservation, moving the reservation through its lifecycle."""

    def reserve(r: dict[str, Any]) -> Translation:
        if "connectorType" in r:
            raise cannot("connectorType", "a 1.6 reservation is for a connector, not a connector type")
        out: dict[str, Any] = {
            "connectorId": r.get("evseId", 0),
            "expiryDate": r["expiryDateTime"],
            "idTag": _id_tag(r["idToken"], "idToken"),
            "reservationId": r["reservationId"],
        }
        if "groupIdToken" in r:
            out["parentIdTag"] = _id_tag(r["groupIdToken"], "groupIdToken")
        return Translation("ReserveNow", out)

    return reservation_specs(prep, reserve)


# --- SmartCharging profile ---------------------------------------------------------------------


def smart_charging(prep: Preparations) -> list[ActionSpec]:
    """SetChargingProfile and ClearChargingProfile keep the charger's profiles on record;
    GetCompositeSchedule's answer is the command's result, in neutral terms."""

    def set_profile(r: dict[str, Any]) -> Translation:
        return Translation(
            "SetChargingProfile",
            {
                "connectorId": r["evseId"],
                "csChargingProfiles": charging_profile(r["chargingProfile"], "chargingProfile"),
            },
        )

    def clear_profile(r: dict[str, Any]) -> Translation:
        out: dict[str, Any] = {}
        if "chargingProfileId" in r:
            out["id"] = r["chargingProfileId"]
        if "evseId" in r:
            out["connectorId"] = r["evseId"]
        if "chargingProfilePurpose" in r:
            out["chargingProfilePurpose"] = _purpose(r["chargingProfilePurpose"], "chargingProfilePurpose")
        if "stackLevel" in r:
            out["stackLevel"] = r["stackLevel"]
        return Translation("ClearChargingProfile", out)

    def criteria(sent: dict[str, Any]) -> ClearCriteria:
        purpose = sent.get("chargingProfilePurpose")
        return ClearCriteria(
            charging_profile_id=sent.get("id"),
            evse_id=connector_ref(sent["connectorId"]).evse_id if "connectorId" in sent else None,
            purpose="ChargingStationMaxProfile" if purpose == "ChargePointMaxProfile" else purpose,
            stack_level=sent.get("stackLevel"),
        )

    def no_profiles_query(r: dict[str, Any]) -> Translation:
        raise InvalidInput("get-charging-profiles: 1.6 has no GetChargingProfiles")

    def composite(r: dict[str, Any]) -> Translation:
        out = {"connectorId": r["evseId"], "duration": r["duration"]}
        if "chargingRateUnit" in r:
            out["chargingRateUnit"] = r["chargingRateUnit"]
        return Translation("GetCompositeSchedule", out)

    def composite_answered(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        status = payload["status"]
        if status != "Accepted":
            return Outcome(CommandStatus.REJECTED, answered(status, payload))
        schedule = payload.get("chargingSchedule")
        if schedule is None:
            return Outcome(CommandStatus.ACCEPTED)
        result: dict[str, Any] = {
            "evseId": payload.get("connectorId", (command.ocpp_request or {}).get("connectorId")),
            "chargingRateUnit": schedule["chargingRateUnit"],
            "chargingSchedulePeriod": schedule["chargingSchedulePeriod"],
        }
        for key, value in (
            ("scheduleStart", payload.get("scheduleStart", schedule.get("startSchedule"))),
            ("duration", schedule.get("duration")),
        ):
            if value is not None:
                result[key] = value
        return Outcome(CommandStatus.ACCEPTED, result={"schedule": result})

    cleared = prep.cleared(criteria)
    return [
        ActionSpec(
            "set-charging-profile",
            prep.profile_answered,
            translate=set_profile,
            prepare=prep.set_profile,
            on_failure=prep.profile_failed,
        ),
        ActionSpec("clear-charging-profile", cleared, translate=clear_profile),
        ActionSpec("get-charging-profiles", always_accepted, translate=no_profiles_query),
        ActionSpec("get-composite-schedule", composite_answered, translate=composite),
        ocpp_action("ClearChargingProfile", cleared),
        ocpp_action("GetCompositeSchedule", composite_answered),
    ]


# --- RemoteTrigger profile ---------------------------------------------------------------------

#: Neutral message names → 1.6's; the others 1.6 cannot trigger.
_TRIGGERS: Final = {
    "BootNotification": "BootNotification",
    "Heartbeat": "Heartbeat",
    "MeterValues": "MeterValues",
    "StatusNotification": "StatusNotification",
    "FirmwareStatusNotification": "FirmwareStatusNotification",
    "LogStatusNotification": "DiagnosticsStatusNotification",
}


def remote_trigger() -> list[ActionSpec]:
    """TriggerMessage; the message it triggers arrives through the normal inbound path."""

    def trigger(r: dict[str, Any]) -> Translation:
        message = _TRIGGERS.get(r["requestedMessage"])
        if message is None:
            raise cannot("requestedMessage", f"a 1.6 charger cannot be asked for {r['requestedMessage']}")
        _one_connector(r)
        out: dict[str, Any] = {"requestedMessage": message}
        if "evseId" in r:
            out["connectorId"] = r["evseId"]
        return Translation("TriggerMessage", out)

    return [
        ActionSpec("trigger-message", status_outcome(), translate=trigger),
        ocpp_action("TriggerMessage", status_outcome()),
    ]


def registry(
    device_model: DeviceModelService,
    *,
    local_lists: LocalListService,
    preparations: Preparations,
    credentials: CredentialService | None = None,
) -> CommandRegistry:
    """Every command a 1.6 charger can be sent: the neutral ones 1.6 can express, and the 1.6
    actions available by name (rotate-password when ``credentials`` are given)."""
    commands = CommandRegistry(OCPP16, validate_request, validate_response)
    for spec in (
        *core(device_model, preparations),
        *firmware_management(preparations),
        *local_auth_list(local_lists, device_model),
        *reservation(preparations),
        *smart_charging(preparations),
        *remote_trigger(),
        *(security(device_model, credentials) if credentials is not None else []),
    ):
        commands.register(spec)
    return commands


__all__ = ["always_accepted", "registry", "validate_request", "validate_response"]
