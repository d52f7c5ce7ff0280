"""What a neutral command does whatever protocol carries it: the ids the CSMS allocates, the
records it opens before the CALL leaves (a reservation, a charging profile) and what an answer
common to both protocols leaves behind. Shared by :mod:`csms.ocpp16.outbound` and
:mod:`csms.ocpp201.outbound`, so a command prepared when the station spoke one protocol can be
translated for the other at delivery.

The request is the neutral body (camelCase, as the REST API takes it). Ids the CSMS allocates
are added to it: ``requestId`` (2.0.1 follow-ups), ``remoteStartId``, ``reservationId``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from csms.domain.commands import Command, CommandStatus, Outcome, Translation
from csms.domain.device_model import LOCAL_LIST_ENTRIES, LOCAL_LIST_ITEMS_PER_MESSAGE
from csms.domain.events import iso
from csms.domain.local_list import LocalListEntry, LocalListPlan, UpdateType
from csms.domain.reservations import NewReservation
from csms.domain.smart_charging import ClearCriteria, ProfileSpec
from csms.domain.tokens import AuthorizationStatus, IdToken, IdTokenInfo, IdTokenType
from csms.errors import InvalidInput
from csms.services.commands import (
    ActionSpec,
    FailureHandler,
    Preparer,
    ResultHandler,
    Translator,
    answered,
)
from csms.services.device_model import DeviceModelService
from csms.services.local_list import LocalListService
from csms.services.reservations import ReservationService
from csms.services.smart_charging import SmartChargingService

#: Neutral trigger-message names (2.0.1's MessageTriggerEnumType; 1.6 maps its own onto them).
TRIGGER_MESSAGES: Final = (
    "BootNotification",
    "Heartbeat",
    "MeterValues",
    "StatusNotification",
    "FirmwareStatusNotification",
    "LogStatusNotification",
    "TransactionEvent",
    "SignChargingStationCertificate",
    "SignV2GCertificate",
    "SignCombinedCertificate",
    "PublishFirmwareStatusNotification",
)


def token(data: Mapping[str, Any]) -> IdToken:
    """A neutral ``{idToken, type}``."""
    kind = data.get("type")
    return IdToken(data["idToken"], IdTokenType(kind) if kind else None)


def token_data(value: IdToken) -> dict[str, Any]:
    out: dict[str, Any] = {"idToken": value.value}
    if value.type is not None:
        out["type"] = value.type.value
    return out


def entry_data(item: LocalListEntry) -> dict[str, Any]:
    """A local list entry in neutral terms: the token, and its verdict unless it is removed."""
    out: dict[str, Any] = {"idToken": token_data(item.token)}
    if item.info is not None:
        info: dict[str, Any] = {"status": item.info.status.value}
        if item.info.expiry_date is not None:
            info["cacheExpiryDateTime"] = iso(item.info.expiry_date)
        if item.info.group is not None:
            info["groupIdToken"] = token_data(item.info.group)
        out["idTokenInfo"] = info
    return out


def entry_of(data: Mapping[str, Any]) -> LocalListEntry:
    """The inverse of :func:`entry_data`."""
    info = data.get("idTokenInfo")
    return LocalListEntry(
        token(data["idToken"]),
        IdTokenInfo(
            AuthorizationStatus(info["status"]),
            parse_datetime(info["cacheExpiryDateTime"]) if info.get("cacheExpiryDateTime") else None,
            token(info["groupIdToken"]) if info.get("groupIdToken") else None,
        )
        if info is not None
        else None,
    )


class Preparations:
    """The prepare hooks and shared answers of the neutral commands."""

    def __init__(
        self,
        request_ids: Callable[[], int],
        reservations: ReservationService,
        profiles: SmartChargingService,
    ) -> None:
        self._request_ids = request_ids
        self._reservations = reservations
        self._profiles = profiles

    # --- ids ------------------------------------------------------------------------------

    def allocate(self, field: str, when: Callable[[dict[str, Any]], bool] = lambda r: True) -> Preparer:
        """Fill ``field`` with a new request id (unless given, or ``when`` says it is not needed)."""

        def prepare(command: Command) -> dict[str, Any]:
            r = command.request
            if field in r or not when(r):
                return r
            return {**r, field: self._request_ids()}

        return prepare

    # --- reservations ---------------------------------------------------------------------

    def reserve(self, command: Command) -> dict[str, Any]:
        r = command.request
        reservation_id = self._reservations.request(
            NewReservation(
                tenant_id=command.tenant_id,
                charge_point_id=command.charge_point_id,
                evse_id=r.get("evseId"),
                id_token=token(r["idToken"]),
                group_id_token=token(r["groupIdToken"]) if r.get("groupIdToken") else None,
                expiry_date=parse_datetime(r["expiryDateTime"]),
                command_id=command.id,
                connector_type=r.get("connectorType"),
            ),
            command.created_at,
        )
        return {**r, "reservationId": reservation_id}

    def reserve_answered(self, command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        status = payload["status"]
        reservation_id = command.request["reservationId"]
        if status == "Accepted":
            self._reservations.accepted(reservation_id, now)
            return Outcome(CommandStatus.ACCEPTED)
        self._reservations.rejected(reservation_id, now)
        return Outcome(CommandStatus.REJECTED, answered(status, payload))

    def reserve_failed(self, command: Command, now: datetime) -> None:
        if "reservationId" in command.request:
            self._reservations.failed(command.request["reservationId"], now)

    def cancellable(self, command: Command) -> dict[str, Any]:
        self._reservations.cancellable(
            command.tenant_id, command.charge_point_id, command.request["reservationId"]
        )
        return command.request

    def cancel_answered(self, command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        status = payload["status"]
        if status == "Accepted":
            self._reservations.cancelled(command.request["reservationId"], now)
            return Outcome(CommandStatus.ACCEPTED)
        return Outcome(CommandStatus.REJECTED, answered(status, payload) + ": it holds no such reservation")

    # --- charging profiles ----------------------------------------------------------------

    def set_profile(self, command: Command) -> dict[str, Any]:
        r = command.request
        p = r["chargingProfile"]
        self._profiles.requested(
            command.tenant_id,
            command.charge_point_id,
            ProfileSpec(
                evse_id=r["evseId"],
                charging_profile_id=p["id"],
                purpose=p["chargingProfilePurpose"],
                stack_level=p["stackLevel"],
                kind=p["chargingProfileKind"],
                schedules=p["chargingSchedule"],
                recurrency_kind=p.get("recurrencyKind"),
                valid_from=_datetime_or_none(p.get("validFrom")),
                valid_to=_datetime_or_none(p.get("validTo")),
                transaction_id=p.get("transactionId"),
            ),
            command.id,
            command.created_at,
        )
        return r

    def profile_answered(self, command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        status = payload["status"]
        if status == "Accepted":
            replaced = self._profiles.installed(command.id, now)
            return Outcome(
                CommandStatus.ACCEPTED, f"replaced {replaced} installed profile(s)" if replaced else None
            )
        self._profiles.rejected(command.id, now)
        return Outcome(CommandStatus.REJECTED, answered(status, payload))

    def profile_failed(self, command: Command, now: datetime) -> None:
        self._profiles.failed(command.id, now)

    def cleared(self, criteria: Callable[[dict[str, Any]], ClearCriteria]) -> ResultHandler:
        """ClearChargingProfile's answer: Accepted clears the matching profiles on record
        (``criteria`` reads them from the payload sent)."""

        def handler(command: Command, payload: Mapping[str, Any], now: datetime) -> Outcome:
            status = payload["status"]
            if status != "Accepted":
                return Outcome(CommandStatus.REJECTED, answered(status, payload) + ": no matching profile")
            assert command.ocpp_request is not None
            self._profiles.cleared(
                command.tenant_id, command.charge_point_id, criteria(command.ocpp_request), now
            )
            return Outcome(CommandStatus.ACCEPTED)

        return handler


def reservation_specs(prep: Preparations, reserve: Translator) -> list[ActionSpec]:
    """reserve-now (``reserve``: its translation) and cancel-reservation, alike in both
    protocols but for the words."""
    return [
        ActionSpec(
            "reserve-now",
            prep.reserve_answered,
            translate=reserve,
            prepare=prep.reserve,
            on_failure=prep.reserve_failed,
        ),
        ActionSpec(
            "cancel-reservation",
            prep.cancel_answered,
            translate=lambda r: Translation("CancelReservation", {"reservationId": r["reservationId"]}),
            prepare=prep.cancellable,
        ),
    ]


@dataclass(frozen=True, slots=True)
class ListToSend:
    """A send-local-list's plan and what the station said it takes (None: not known)."""

    plan: LocalListPlan
    capacity: int | None
    per_message: int | None


def list_to_send(
    local_lists: LocalListService, device_model: DeviceModelService, command: Command
) -> ListToSend:
    """The list a send-local-list command sends (its ``idTokens`` name a differential's tokens),
    with the capacity (LocalAuthListCtrlr.Entries' maxLimit, 1.6 LocalAuthListMaxLength) and
    the entries per message (LocalAuthListCtrlr.ItemsPerMessage, 1.6 SendLocalListMaxLength)
    the station reported."""
    body = command.request
    named = body.get("idTokens")
    plan = local_lists.plan(
        command.tenant_id,
        command.charge_point_id,
        UpdateType(body["updateType"]),
        [token(t) for t in named] if named is not None else None,
        command.created_at,
    )
    known = device_model.known(
        command.tenant_id, command.charge_point_id, [LOCAL_LIST_ENTRIES, LOCAL_LIST_ITEMS_PER_MESSAGE]
    )
    entries, per_message = known.get(LOCAL_LIST_ENTRIES), known.get(LOCAL_LIST_ITEMS_PER_MESSAGE)
    limit = per_message.int_value() if per_message is not None else None
    return ListToSend(
        plan, entries.max_limit() if entries is not None else None, limit if limit and limit > 0 else None
    )


def availability_answered(command: Command, payload: Mapping[str, Any], now: datetime) -> Outcome:
    """ChangeAvailability (both protocols): Scheduled is accepted, for later."""
    status = payload["status"]
    if status == "Accepted":
        return Outcome(CommandStatus.ACCEPTED)
    if status == "Scheduled":
        return Outcome(CommandStatus.ACCEPTED, "scheduled: takes effect when the running transaction ends")
    return Outcome(CommandStatus.REJECTED, answered(status, payload))


_LIST_REFUSALS = {
    "VersionMismatch": "station answered VersionMismatch: its list is not the version this update "
    "builds on; read it with get-local-list-version and send a Full list",
    "Failed": "station answered Failed: it could not update its local list",
    "NotSupported": "station answered NotSupported: it has no local authorization list",
}


def local_list_answers(
    local_lists: LocalListService, version_field: str
) -> tuple[ResultHandler, FailureHandler, ResultHandler]:
    """SendLocalList's answer and failure, GetLocalListVersion's answer (``version_field``:
    listVersion in 1.6, versionNumber in 2.0.1)."""

    def send_local_list(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        version = command.request["listVersion"]
        status = payload["status"]
        if status == "Accepted":
            local_lists.accepted(command.tenant_id, command.charge_point_id, version, now)
            return Outcome(CommandStatus.ACCEPTED)
        dropped = local_lists.not_accepted(command.charge_point_id, version, now)
        reason = _LIST_REFUSALS.get(status, answered(status, payload))
        if dropped:
            reason += f" ({dropped} following part(s) of the list not sent)"
        return Outcome(CommandStatus.REJECTED, reason)

    def send_local_list_failed(command: Command, now: datetime) -> None:
        if "listVersion" in command.request:
            local_lists.not_accepted(command.charge_point_id, command.request["listVersion"], now)

    def get_local_list_version(command: Command, payload: dict[str, Any], now: datetime) -> Outcome:
        version = payload[version_field]
        local_lists.reported(command.tenant_id, command.charge_point_id, version, now)
        if version == -1:  # OCPP 1.6 §5.10: -1 = the local list is disabled
            return Outcome(CommandStatus.ACCEPTED, "the station's local authorization list is disabled")
        return Outcome(CommandStatus.ACCEPTED, result={"listVersion": version})

    return send_local_list, send_local_list_failed, get_local_list_version


def cannot(field: str, why: str) -> InvalidInput:
    """The error of a request the protocol cannot express: names the field."""
    return InvalidInput(f"{field}: {why}")


def parse_datetime(value: str) -> datetime:
    """A time of a neutral body (the API took it with a zone and wrote it in UTC)."""
    return datetime.fromisoformat(value)


def _datetime_or_none(value: str | None) -> datetime | None:
    return parse_datetime(value) if value is not None else None
