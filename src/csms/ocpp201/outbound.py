"""Outbound: the commands the CSMS sends to OCPP 2.0.1 stations. Each neutral command is
translated into its 2.0.1 CALL; every CSMS-to-station CALL of the Core certification profile
(and of reservations, local lists and smart charging) is also available by its 2.0.1 name with
the operator's payload. One :class:`~csms.services.commands.ActionSpec` per command, grouped by
functional block (Part 2's letters); :func:`registry` assembles them.

2.0.1 payloads never carry ``null`` (an absent field is left out) and times have at most three
fraction digits (the neutral bodies are written so by the API; a payload given by name is
checked). What an answer leaves behind is read from the payload sent (``ocpp_request``), so a
neutral command and the same action sent by name have the same effect. Follow-ups the station
sends later (NotifyReport, ReportChargingProfiles, NotifyCustomerInformation,
LogStatusNotification, FirmwareStatusNotification) carry the command's ``requestId`` and are
handled by :mod:`csms.ocpp201.inbound`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from csms.constants import OCPP201
from csms.domain.commands import Command, CommandStatus, Outcome, Translation
from csms.domain.device_model import (
    GetVariableResult,
    GetVariableStatus,
    SetVariableResult,
    SetVariableStatus,
    VariableAddress,
    address,
    address_of,
    is_secret,
)
from csms.domain.events import iso
from csms.domain.local_list import LocalListEntry, UpdateType
from csms.domain.smart_charging import ClearCriteria
from csms.domain.tokens import DEFAULT_GROUP_TYPE, DEFAULT_TYPE
from csms.errors import InvalidInput
from csms.ocpp201.schemas import SCHEMAS
from csms.ocppj.errors import RpcError
from csms.ocppj.packing import budget, encoded_size, pack
from csms.ocppj.schemas import check_text
from csms.services.commands import (
    ActionSpec,
    CommandRegistry,
    ResultHandler,
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
    entry_data,
    entry_of,
    list_to_send,
    local_list_answers,
    reservation_specs,
)

#: SetVariableData.attributeValue is at most 1000 characters (a station may allow fewer).
MAX_VALUE_LENGTH: Final = 1000
#: DeviceDataCtrlr.ItemsPerMessage, by the instance that names the message.
ITEMS_PER_GET = address("DeviceDataCtrlr", "ItemsPerMessage", variable_instance="GetVariables")
ITEMS_PER_SET = address("DeviceDataCtrlr", "ItemsPerMessage", variable_instance="SetVariables")
_TOO_PRECISE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{4,}")


def validate_request(action: str, payload: dict[str, Any]) -> None:
    """Our CALL against the official 2.0.1 request schema, and 2.0.1's rule that a time has
    at most three fraction digits (raises InvalidInput naming the field)."""
    try:
        SCHEMAS.validate_request(action, payload)
        check_text(payload)
    except RpcError as exc:
        field = exc.details.get("field")
        raise InvalidInput(f"{action}: {exc.description}" + (f" (field {field})" if field else "")) from None
    _times(action, payload, "")


def _times(action: str, value: Any, path: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _times(action, item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _times(action, item, f"{path}[{i}]")
    elif isinstance(value, str) and _TOO_PRECISE.match(value):
        raise InvalidInput(f"{action}: {path}: a 2.0.1 time has at most three fraction digits")


def validate_response(action: str, payload: dict[str, Any]) -> None:
    """The station's CALLRESULT against the official 2.0.1 response schema."""
    SCHEMAS.validate_response(action, payload)


# --- neutral → 2.0.1 ---------------------------------------------------------------------------


def id_token(data: Mapping[str, Any], default_type: str = DEFAULT_TYPE.value) -> dict[str, Any]:
    return {"idToken": data["idToken"], "type": data.get("type") or default_type}


def evse(r: Mapping[str, Any]) -> dict[str, Any] | None:
    """EVSEType from a body's evseId and connectorId (None: the whole station)."""
    if "evseId" not in r:
        return None
    out = {"id": r["evseId"]}
    if "connectorId" in r:
        out["connectorId"] = r["connectorId"]
    return out


def charging_profile(p: Mapping[str, Any]) -> dict[str, Any]:
    """A neutral charging profile as a 2.0.1 ChargingProfileType (a schedule without an id gets
    its position, 1 to 3)."""
    out: dict[str, Any] = {
        "id": p["id"],
        "stackLevel": p["stackLevel"],
        "chargingProfilePurpose": p["chargingProfilePurpose"],
        "chargingProfileKind": p["chargingProfileKind"],
        "chargingSchedule": [
            {"id": s.get("id", i + 1), **{k: v for k, v in s.items() if k != "id"}}
            for i, s in enumerate(p["chargingSchedule"])
        ],
    }
    for key in ("recurrencyKind", "validFrom", "validTo", "transactionId"):
        if key in p:
            out[key] = p[key]
    return out


def component_variable(v: Mapping[str, Any]) -> dict[str, Any]:
    """A neutral variable as 2.0.1's component and variable (with the attribute type if given)."""
    out: dict[str, Any] = {"component": v["component"], "variable": v["variable"]}
    if "attributeType" in v:
        out["attributeType"] = v["attributeType"]
    return out


def _name(a: VariableAddress) -> str:
    return f"{a.component.name}.{a.variable.name}" + (
        f"[{a.variable.instance}]" if a.variable.instance else ""
    )


def _per_message(device_model: DeviceModelService, command: Command, where: VariableAddress) -> int | None:
    known = device_model.known(command.tenant_id, command.charge_point_id, [where]).get(where)
    return known.int_value() if known is not None else None


def _chunks(
    action: str, field: str, items: list[dict[str, Any]], limit: int | None
) -> list[list[dict[str, Any]]]:
    room = budget(action, {field: []})
    return pack(items, encoded_size, room, limit if limit and limit > 0 else None)


# --- B: provisioning (device model, reset) -------------------------------------------------------


def variables_written(device_model: DeviceModelService) -> ResultHandler:
    """SetVariables' answer: each value the station applied goes into the device model (matched
    to what was sent by component and variable, not by position; a credential's without its
    value); refusals are the command's reason."""

    def handler(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        sent = {
            address_of(d).key(): d["attributeValue"] for d in (command.ocpp_request or {})["setVariableData"]
        }
        results = [
            SetVariableResult(
                address_of(r),
                SetVariableStatus(r["attributeStatus"]),
                sent.get(address_of(r).key(), ""),
            )
            for r in payload["setVariableResult"]
        ]
        device_model.set(command.tenant_id, command.charge_point_id, results, now)
        applied = (SetVariableStatus.ACCEPTED, SetVariableStatus.REBOOT_REQUIRED)
        refused = [f"{_name(r.address)} {r.status.value}" for r in results if r.status not in applied]
        if refused:
            return Outcome(
                CommandStatus.REJECTED, f"{len(refused)} of {len(results)} not set: " + ", ".join(refused)
            )
        reboot = any(r.status is SetVariableStatus.REBOOT_REQUIRED for r in results)
        return Outcome(CommandStatus.ACCEPTED, "reboot required" if reboot else None)

    return handler


def provisioning(device_model: DeviceModelService, prep: Preparations) -> list[ActionSpec]:
    """GetVariables / GetBaseReport / GetReport, SetVariables, Reset, SetNetworkProfile. Results
    land in the device model (a report's parts arrive as NotifyReport)."""

    def read(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        results = [
            GetVariableResult(address_of(r), GetVariableStatus(r["attributeStatus"]), r.get("attributeValue"))
            for r in payload["getVariableResult"]
        ]
        device_model.read(command.tenant_id, command.charge_point_id, results, now)
        missed = [
            f"{_name(r.address)} {r.status.value}"
            for r in results
            if r.status is not GetVariableStatus.ACCEPTED
        ]
        return Outcome(
            CommandStatus.ACCEPTED,
            f"{len(missed)} of {len(results)} not read: " + ", ".join(missed) if missed else None,
        )

    def report(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        status = payload["status"]
        if status == "Accepted":
            return Outcome(CommandStatus.ACCEPTED, "the report follows in NotifyReport parts")
        if status == "EmptyResultSet":
            return Outcome(CommandStatus.ACCEPTED, "nothing to report (EmptyResultSet)")
        return Outcome(CommandStatus.REJECTED, answered(status, payload))

    #: One neutral get-variables is a GetBaseReport (everything) or GetVariables (named ones).
    get_answers: dict[str, ResultHandler] = {"GetVariables": read, "GetBaseReport": report}

    def get_variables_answered(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        return get_answers[command.action or ""](command, payload, now)

    def get_variables(r: dict[str, Any]) -> Translation:
        variables = r.get("variables")
        if variables is None:
            return Translation(
                "GetBaseReport", {"requestId": r["requestId"], "reportBase": "FullInventory"}, r["requestId"]
            )
        return Translation("GetVariables", {"getVariableData": [component_variable(v) for v in variables]})

    def get_variables_expand(command: Command) -> list[dict[str, Any]]:
        variables = command.request.get("variables")
        if variables is None:
            return [command.request]
        chunks = _chunks(
            "GetVariables",
            "getVariableData",
            variables,
            _per_message(device_model, command, ITEMS_PER_GET),
        )
        return [{"variables": chunk} for chunk in chunks]

    written = variables_written(device_model)

    def set_data(v: Mapping[str, Any], field: str) -> dict[str, Any]:
        if is_secret(address_of(v)):
            raise cannot(field, "the password is changed with the rotate-password command")
        if len(v["attributeValue"]) > MAX_VALUE_LENGTH:
            raise cannot(
                f"{field}.attributeValue", f"a 2.0.1 value has at most {MAX_VALUE_LENGTH} characters"
            )
        return {**component_variable(v), "attributeValue": v["attributeValue"]}

    def set_variables(r: dict[str, Any]) -> Translation:
        return Translation(
            "SetVariables",
            {"setVariableData": [set_data(v, f"variables[{i}]") for i, v in enumerate(r["variables"])]},
        )

    def set_variables_expand(command: Command) -> list[dict[str, Any]]:
        chunks = _chunks(
            "SetVariables",
            "setVariableData",
            command.request["variables"],
            _per_message(device_model, command, ITEMS_PER_SET),
        )
        return [{"variables": chunk} for chunk in chunks]

    def no_secrets(command: Command) -> dict[str, Any]:
        for i, d in enumerate(command.request.get("setVariableData", [])):
            if is_secret(address_of(d)):
                raise cannot(
                    f"setVariableData[{i}]", "the password is changed with the rotate-password command"
                )
        return command.request

    def reset(r: dict[str, Any]) -> Translation:
        # 2.0.1 does not tell soft from hard: an Immediate reset reboots now.
        out: dict[str, Any] = {"type": "OnIdle" if r["type"] == "OnIdle" else "Immediate"}
        if "evseId" in r:
            out["evseId"] = r["evseId"]
        return Translation("Reset", out)

    reset_answered = status_outcome(("Accepted", "Scheduled"))
    return [
        ActionSpec(
            "get-variables",
            get_variables_answered,
            translate=get_variables,
            prepare=prep.allocate("requestId", when=lambda r: r.get("variables") is None),
            expand=get_variables_expand,
        ),
        ActionSpec("set-variables", written, translate=set_variables, expand=set_variables_expand),
        ActionSpec("reset", reset_answered, translate=reset),
        ocpp_action("GetVariables", read),
        ocpp_action("SetVariables", written, prepare=no_secrets),
        ocpp_action("GetBaseReport", report, request_id="requestId", prepare=prep.allocate("requestId")),
        ocpp_action("GetReport", report, request_id="requestId", prepare=prep.allocate("requestId")),
        ocpp_action("Reset", reset_answered),
        ocpp_action("SetNetworkProfile", status_outcome()),
    ]


# --- C, D: authorization, local list ----------------------------------------------------------


def authorization(local_lists: LocalListService, device_model: DeviceModelService) -> list[ActionSpec]:
    """ClearCache; SendLocalList (derived from the tenant's id tokens, split under 32 KB and
    LocalAuthListCtrlr.ItemsPerMessage, each part the next version) and GetLocalListVersion."""

    def entry(item: LocalListEntry) -> dict[str, Any]:
        kind = (item.token.type or DEFAULT_TYPE).value
        out: dict[str, Any] = {"idToken": {"idToken": item.token.value, "type": kind}}
        if item.info is not None:
            info: dict[str, Any] = {"status": item.info.status.value}
            if item.info.expiry_date is not None:
                info["cacheExpiryDateTime"] = iso(item.info.expiry_date)
            if item.info.group is not None:
                info["groupIdToken"] = {
                    "idToken": item.info.group.value,
                    "type": (item.info.group.type or DEFAULT_GROUP_TYPE).value,
                }
            out["idTokenInfo"] = info
        return out

    def send(part: dict[str, Any]) -> Translation:
        out: dict[str, Any] = {"versionNumber": part["listVersion"], "updateType": part["updateType"]}
        if part["entries"]:
            out["localAuthorizationList"] = [entry(entry_of(e)) for e in part["entries"]]
        return Translation("SendLocalList", out)

    def expand(command: Command) -> list[dict[str, Any]]:
        to_send = list_to_send(local_lists, device_model, command)
        plan, capacity = to_send.plan, to_send.capacity
        if plan.update_type is UpdateType.FULL and capacity is not None and len(plan.entries) > capacity:
            raise InvalidInput(
                f"the list has {len(plan.entries)} id tokens; the station holds at most {capacity} "
                "(LocalAuthListCtrlr.Entries)"
            )
        last_version = plan.first_version + max(len(plan.entries), 1)
        room = budget(
            "SendLocalList",
            {"versionNumber": last_version, "updateType": "Differential", "localAuthorizationList": []},
        )
        chunks = pack(plan.entries, lambda e: encoded_size(entry(e)), room, to_send.per_message)
        return [
            {
                "updateType": (plan.update_type if i == 0 else UpdateType.DIFFERENTIAL).value,
                "listVersion": plan.first_version + i,
                "entries": [entry_data(e) for e in chunk],
            }
            for i, chunk in enumerate(chunks)
        ]

    sent, failed, version = local_list_answers(local_lists, "versionNumber")
    return [
        ActionSpec("clear-cache", status_outcome(), translate=lambda r: Translation("ClearCache", {})),
        ActionSpec("send-local-list", sent, translate=send, on_failure=failed, expand=expand),
        ActionSpec(
            "get-local-list-version", version, translate=lambda r: Translation("GetLocalListVersion", {})
        ),
        ocpp_action("ClearCache", status_outcome()),
        ocpp_action("GetLocalListVersion", version),
    ]


# --- E, F: transactions, remote control ------------------------------------------------------------


def remote_control(prep: Preparations) -> list[ActionSpec]:
    """RequestStartTransaction (remoteStartId allocated: the transaction the station starts
    names it), RequestStopTransaction, GetTransactionStatus, TriggerMessage, UnlockConnector."""

    def start(r: dict[str, Any]) -> Translation:
        out: dict[str, Any] = {"idToken": id_token(r["idToken"]), "remoteStartId": r["remoteStartId"]}
        if "evseId" in r:
            out["evseId"] = r["evseId"]
        if "groupIdToken" in r:
            out["groupIdToken"] = id_token(r["groupIdToken"], DEFAULT_GROUP_TYPE.value)
        if "chargingProfile" in r:
            out["chargingProfile"] = charging_profile(r["chargingProfile"])
        return Translation("RequestStartTransaction", out, r["remoteStartId"])

    def started(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        outcome = status_outcome()(command, payload, now)
        if "transactionId" in payload:  # a transaction was running on the EVSE already
            return Outcome(outcome.status, outcome.reason, {"transactionId": payload["transactionId"]})
        return outcome

    def transaction_status(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        return Outcome(CommandStatus.ACCEPTED, result=dict(payload))

    def trigger(r: dict[str, Any]) -> Translation:
        out: dict[str, Any] = {"requestedMessage": r["requestedMessage"]}
        where = evse(r)
        if where is not None:
            out["evse"] = where
        return Translation("TriggerMessage", out)

    def unlock(r: dict[str, Any]) -> Translation:
        return Translation("UnlockConnector", {"evseId": r["evseId"], "connectorId": r.get("connectorId", 1)})

    return [
        ActionSpec("start-transaction", started, translate=start, prepare=prep.allocate("remoteStartId")),
        ActionSpec(
            "stop-transaction",
            status_outcome(),
            translate=lambda r: Translation("RequestStopTransaction", {"transactionId": r["transactionId"]}),
        ),
        ActionSpec("trigger-message", status_outcome(), translate=trigger),
        ActionSpec("unlock-connector", status_outcome(("Unlocked",)), translate=unlock),
        ocpp_action(
            "RequestStartTransaction",
            started,
            request_id="remoteStartId",
            prepare=prep.allocate("remoteStartId"),
        ),
        ocpp_action("RequestStopTransaction", status_outcome()),
        ocpp_action("GetTransactionStatus", transaction_status),
        ocpp_action("TriggerMessage", status_outcome()),
        ocpp_action("UnlockConnector", status_outcome(("Unlocked",))),
    ]


# --- G: availability ----------------------------------------------------------------------------


def availability() -> list[ActionSpec]:
    def change(r: dict[str, Any]) -> Translation:
        out: dict[str, Any] = {"operationalStatus": "Operative" if r["operational"] else "Inoperative"}
        where = evse(r)
        if where is not None:
            out["evse"] = where
        return Translation("ChangeAvailability", out)

    return [
        ActionSpec("change-availability", availability_answered, translate=change),
        ocpp_action("ChangeAvailability", availability_answered),
    ]


# --- H: reservation -------------------------------------------------------------------------------


def reservation(prep: Preparations) -> list[ActionSpec]:
    def reserve(r: dict[str, Any]) -> Translation:
        out: dict[str, Any] = {
            "id": r["reservationId"],
            "expiryDateTime": r["expiryDateTime"],
            "idToken": id_token(r["idToken"]),
        }
        for key in ("evseId", "connectorType"):
            if key in r:
                out[key] = r[key]
        if "groupIdToken" in r:
            out["groupIdToken"] = id_token(r["groupIdToken"], DEFAULT_GROUP_TYPE.value)
        return Translation("ReserveNow", out)

    return reservation_specs(prep, reserve)


# --- K: smart charging ------------------------------------------------------------------------------


def smart_charging(prep: Preparations) -> list[ActionSpec]:
    """SetChargingProfile and ClearChargingProfile keep the station's profiles on record;
    GetChargingProfiles is answered by ReportChargingProfiles parts; GetCompositeSchedule's
    schedule is the command's result."""

    def set_profile(r: dict[str, Any]) -> Translation:
        profile = r["chargingProfile"]
        if profile["chargingProfilePurpose"] == "TxProfile" and "transactionId" not in profile:
            # K01.FR.03: the CSMS includes the transactionId when it sets a TxProfile (a 1.6
            # station applies one without it to the running transaction; a 2.0.1 one rejects it).
            raise cannot("chargingProfile.transactionId", "a 2.0.1 TxProfile names the transaction it is for")
        return Translation(
            "SetChargingProfile",
            {"evseId": r["evseId"], "chargingProfile": charging_profile(r["chargingProfile"])},
        )

    def clear_profile(r: dict[str, Any]) -> Translation:
        out: dict[str, Any] = {}
        if "chargingProfileId" in r:
            out["chargingProfileId"] = r["chargingProfileId"]
        criteria = {k: r[k] for k in ("evseId", "chargingProfilePurpose", "stackLevel") if k in r}
        if criteria:
            out["chargingProfileCriteria"] = criteria
        return Translation("ClearChargingProfile", out)

    def criteria(sent: dict[str, Any]) -> ClearCriteria:
        c = sent.get("chargingProfileCriteria") or {}
        return ClearCriteria(
            charging_profile_id=sent.get("chargingProfileId"),
            evse_id=c.get("evseId"),
            purpose=c.get("chargingProfilePurpose"),
            stack_level=c.get("stackLevel"),
        )

    def get_profiles(r: dict[str, Any]) -> Translation:
        wanted = {
            k: r[k]
            for k in ("chargingProfilePurpose", "stackLevel", "chargingProfileId", "chargingLimitSource")
            if k in r
        }
        out: dict[str, Any] = {"requestId": r["requestId"], "chargingProfile": wanted}
        if "evseId" in r:
            out["evseId"] = r["evseId"]
        return Translation("GetChargingProfiles", out, r["requestId"])

    def profiles_answered(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        if payload["status"] == "Accepted":
            return Outcome(CommandStatus.ACCEPTED, "the profiles follow in ReportChargingProfiles parts")
        return Outcome(CommandStatus.ACCEPTED, "the station has no such profiles (NoProfiles)")

    def composite(r: dict[str, Any]) -> Translation:
        return Translation(
            "GetCompositeSchedule", {k: r[k] for k in ("evseId", "duration", "chargingRateUnit") if k in r}
        )

    def composite_answered(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        status = payload["status"]
        if status != "Accepted":
            return Outcome(CommandStatus.REJECTED, answered(status, payload))
        schedule = payload.get("schedule")
        return Outcome(
            CommandStatus.ACCEPTED, result={"schedule": schedule} if schedule is not None else None
        )

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
        ActionSpec(
            "get-charging-profiles",
            profiles_answered,
            translate=get_profiles,
            prepare=prep.allocate("requestId"),
        ),
        ActionSpec("get-composite-schedule", composite_answered, translate=composite),
        ocpp_action("ClearChargingProfile", cleared),
        ocpp_action("GetCompositeSchedule", composite_answered),
    ]


# --- L, M, N, P: firmware, certificates, diagnostics, data transfer ----------------------------------


def firmware_and_diagnostics(prep: Preparations) -> list[ActionSpec]:
    """UpdateFirmware and GetLog (progress arrives in FirmwareStatusNotification and
    LogStatusNotification with the requestId), certificates, CustomerInformation, DataTransfer."""
    accepted_or_cancelled = ("Accepted", "AcceptedCanceled")

    def update_firmware(r: dict[str, Any]) -> Translation:
        firmware = {
            k: r[k]
            for k in ("location", "retrieveDateTime", "installDateTime", "signingCertificate", "signature")
            if k in r
        }
        out: dict[str, Any] = {"requestId": r["requestId"], "firmware": firmware}
        for key in ("retries", "retryInterval"):
            if key in r:
                out[key] = r[key]
        return Translation("UpdateFirmware", out, r["requestId"])

    def upload_logs(r: dict[str, Any]) -> Translation:
        log = {"remoteLocation": r["location"]}
        for key in ("oldestTimestamp", "latestTimestamp"):
            if key in r:
                log[key] = r[key]
        out: dict[str, Any] = {
            "log": log,
            "logType": r.get("logType", "DiagnosticsLog"),
            "requestId": r["requestId"],
        }
        for key in ("retries", "retryInterval"):
            if key in r:
                out[key] = r[key]
        return Translation("GetLog", out, r["requestId"])

    def log_answered(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        outcome = status_outcome(accepted_or_cancelled)(command, payload, now)
        if outcome.status is CommandStatus.ACCEPTED and "filename" in payload:
            return Outcome(outcome.status, outcome.reason, {"filename": payload["filename"]})
        return outcome

    def installed_certificates(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        if payload["status"] != "Accepted":
            return Outcome(CommandStatus.ACCEPTED, "no such certificates (NotFound)")
        return Outcome(
            CommandStatus.ACCEPTED,
            result={"certificateHashDataChain": payload.get("certificateHashDataChain", [])},
        )

    def data_transfer(r: dict[str, Any]) -> Translation:
        return Translation("DataTransfer", {k: r[k] for k in ("vendorId", "messageId", "data") if k in r})

    def transferred(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        outcome = status_outcome()(command, payload, now)
        if "data" in payload:
            return Outcome(outcome.status, outcome.reason, {"data": payload["data"]})
        return outcome

    firmware_answered = status_outcome(accepted_or_cancelled)
    return [
        ActionSpec(
            "update-firmware",
            firmware_answered,
            translate=update_firmware,
            prepare=prep.allocate("requestId"),
        ),
        ActionSpec("upload-logs", log_answered, translate=upload_logs, prepare=prep.allocate("requestId")),
        ActionSpec("data-transfer", transferred, translate=data_transfer),
        ocpp_action(
            "UpdateFirmware", firmware_answered, request_id="requestId", prepare=prep.allocate("requestId")
        ),
        ocpp_action("GetLog", log_answered, request_id="requestId", prepare=prep.allocate("requestId")),
        ocpp_action("InstallCertificate", status_outcome()),
        ocpp_action("GetInstalledCertificateIds", installed_certificates),
        ocpp_action("DeleteCertificate", status_outcome()),
        ocpp_action(
            "CustomerInformation",
            status_outcome(),
            request_id="requestId",
            prepare=prep.allocate("requestId"),
        ),
        ocpp_action("DataTransfer", transferred),
    ]


def security(device_model: DeviceModelService, credentials: CredentialService) -> list[ActionSpec]:
    """rotate-password as SetVariables SecurityCtrlr.BasicAuthPassword (A01): the plain password
    (16 to 40 characters). Accepted or RebootRequired makes it the station's."""
    written = variables_written(device_model)

    def translate(r: dict[str, Any]) -> Translation:
        return Translation(
            "SetVariables",
            {
                "setVariableData": [
                    {
                        "component": {"name": "SecurityCtrlr"},
                        "variable": {"name": "BasicAuthPassword"},
                        "attributeValue": REDACTED,
                    }
                ]
            },
        )

    def build(command: Command, payload: dict[str, Any]) -> dict[str, Any]:
        [data] = payload["setVariableData"]
        return {"setVariableData": [{**data, "attributeValue": credentials.reveal(command)}]}

    def answered(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        outcome = written(command, payload, now)
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


def registry(
    device_model: DeviceModelService,
    *,
    local_lists: LocalListService,
    preparations: Preparations,
    credentials: CredentialService | None = None,
) -> CommandRegistry:
    """Every command a 2.0.1 station can be sent: every neutral one, and the 2.0.1 actions
    available by name (rotate-password when ``credentials`` are given)."""
    commands = CommandRegistry(OCPP201, validate_request, validate_response)
    for spec in (
        *provisioning(device_model, preparations),
        *authorization(local_lists, device_model),
        *remote_control(preparations),
        *availability(),
        *reservation(preparations),
        *smart_charging(preparations),
        *firmware_and_diagnostics(preparations),
        *(security(device_model, credentials) if credentials is not None else []),
    ):
        commands.register(spec)
    return commands


__all__ = ["registry", "validate_request", "validate_response"]
