"""The bodies of the neutral commands: one per command, whichever protocol the station speaks
(the command pipeline translates it; what a protocol cannot express is refused there, naming
the field). Field names follow OCPP 2.0.1 where both protocols have the concept; ids the CSMS
allocates (requestId, remoteStartId, reservationId) are not in the body.
"""

# No `from __future__ import annotations`: Powertools reads the models' annotations.

from datetime import UTC, datetime
from itertools import pairwise
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from csms.api.common import MAX_INT, ApiModel
from csms.domain.device_model import AttributeType, address, is_secret
from csms.domain.events import iso
from csms.domain.tokens import DEFAULT_TYPE, MAX_ID_TOKEN_LENGTH, IdTokenType
from csms.services.neutral_commands import TRIGGER_MESSAGES

#: OCPP CiString: printable characters. No control characters (PostgreSQL text, where commands
#: and what they leave are stored, cannot even hold NUL).
CI_STRING_PATTERN = r"^[^\x00-\x1f\x7f]*$"


def _json_number(value: object) -> object:
    # pydantic's lax mode reads true as 1 and "5" as 5: an UnlockConnector for connector 1.
    if isinstance(value, bool | str):
        raise ValueError(f"must be a JSON number, not a {'boolean' if isinstance(value, bool) else 'string'}")
    return value


#: A JSON number (an integral one, 158.0 too, for an integer), never a boolean or a string. After
#: the constraints, so that the schema keeps them as minimum and maximum.
JSON_NUMBER = BeforeValidator(_json_number)
#: OCPP integers are 32-bit for every station (and every column they land in).
Int32 = Annotated[int, Field(ge=-MAX_INT - 1, le=MAX_INT), JSON_NUMBER]
NonNegativeInt32 = Annotated[int, Field(ge=0, le=MAX_INT), JSON_NUMBER]
PositiveInt32 = Annotated[int, Field(gt=0, le=MAX_INT), JSON_NUMBER]
NonNegativeNumber = Annotated[float, Field(ge=0, le=MAX_INT), JSON_NUMBER]
CiString = Annotated[str, Field(pattern=CI_STRING_PATTERN)]


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00:00-05:00
        raise ValueError("out of range in UTC") from None


#: A time in a command body: with a zone on input, sent to the station in UTC with milliseconds
#: (2.0.1 allows at most three fraction digits).
OcppDatetime = Annotated[
    AwareDatetime,
    AfterValidator(_in_utc),
    PlainSerializer(iso, return_type=str, when_used="json"),
]
Uri = Annotated[
    str, Field(min_length=1, max_length=512, pattern=r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1f\x7f]+$")
]


class IdTokenBody(ApiModel):
    id_token: str = Field(min_length=1, max_length=MAX_ID_TOKEN_LENGTH, pattern=CI_STRING_PATTERN)
    type: IdTokenType = Field(
        default=DEFAULT_TYPE, description="2.0.1 IdTokenEnumType (1.6 id tags have none: it is not sent)"
    )


# --- E, F: transactions, remote control ---


ChargingProfilePurpose = Literal[
    "ChargingStationMaxProfile", "TxDefaultProfile", "TxProfile", "ChargingStationExternalConstraints"
]
ChargingRateUnit = Literal["A", "W"]


def _tenths(value: float | None) -> float | None:
    # At most one fraction digit (1.6 multipleOf 0.1; 2.0.1 "accepts at most one digit
    # fraction"), checked in decimal (7.4 / 0.1 is 73.99999999999999 in binary).
    if value is not None and abs(round(value * 10) - value * 10) > 1e-6:
        raise ValueError("at most one digit after the decimal point")
    return value


class ChargingSchedulePeriod(ApiModel):
    start_period: NonNegativeInt32 = Field(description="seconds from the start of the schedule")
    limit: NonNegativeNumber = Field(description="in the schedule's chargingRateUnit; one decimal at most")
    number_phases: Annotated[int, Field(ge=1, le=3), JSON_NUMBER] | None = None
    phase_to_use: Annotated[int, Field(ge=1, le=3), JSON_NUMBER] | None = Field(
        default=None, description="2.0.1 only, with numberPhases 1"
    )

    _limit_tenths = field_validator("limit")(_tenths)


class ChargingSchedule(ApiModel):
    id: Int32 | None = Field(default=None, description="2.0.1's schedule id (default: its position, 1 to 3)")
    start_schedule: OcppDatetime | None = None
    duration: NonNegativeInt32 | None = Field(default=None, description="seconds")
    charging_rate_unit: ChargingRateUnit
    charging_schedule_period: list[ChargingSchedulePeriod] = Field(min_length=1, max_length=1024)
    min_charging_rate: NonNegativeNumber | None = None

    _rate_tenths = field_validator("min_charging_rate")(_tenths)

    @model_validator(mode="after")
    def _periods_in_order(self) -> Self:
        starts = [p.start_period for p in self.charging_schedule_period]
        if starts[0] != 0:
            raise ValueError("chargingSchedulePeriod: the first period must start at 0")
        if any(later <= earlier for earlier, later in pairwise(starts)):
            raise ValueError("chargingSchedulePeriod: startPeriod must increase from one period to the next")
        return self


class ChargingProfile(ApiModel):
    """Close to 2.0.1's ChargingProfileType; 1.6 takes one schedule and calls
    ChargingStationMaxProfile ChargePointMaxProfile."""

    id: Int32 = Field(description="chosen by the operator; the same id replaces a profile")
    stack_level: NonNegativeInt32 = Field(description="higher wins among profiles of the same purpose")
    charging_profile_purpose: ChargingProfilePurpose
    charging_profile_kind: Literal["Absolute", "Recurring", "Relative"]
    recurrency_kind: Literal["Daily", "Weekly"] | None = Field(default=None, description="Recurring only")
    valid_from: OcppDatetime | None = None
    valid_to: OcppDatetime | None = None
    transaction_id: str | None = Field(
        default=None, min_length=1, max_length=36, description="TxProfile only: the station's transaction id"
    )
    charging_schedule: list[ChargingSchedule] = Field(
        min_length=1, max_length=3, description="one to three schedules (1.6: exactly one)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        kind = self.charging_profile_kind
        for schedule in self.charging_schedule:
            if kind == "Recurring" and (self.recurrency_kind is None or schedule.start_schedule is None):
                raise ValueError(
                    "a Recurring profile needs recurrencyKind and chargingSchedule.startSchedule"
                )
            if kind == "Relative" and schedule.start_schedule is not None:
                raise ValueError(
                    "chargingSchedule.startSchedule: a Relative profile starts with the transaction"
                )
        if kind != "Recurring" and self.recurrency_kind is not None:
            raise ValueError("recurrencyKind: only for a Recurring profile")
        if self.transaction_id is not None and self.charging_profile_purpose != "TxProfile":
            raise ValueError("transactionId: only for a TxProfile")
        if self.valid_from is not None and self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ValueError("validTo must be after validFrom")
        return self


class StartTransaction(ApiModel):
    """1.6 RemoteStartTransaction, 2.0.1 RequestStartTransaction (the CSMS allocates the
    remoteStartId; the transaction the station starts with it shows on the command)."""

    id_token: IdTokenBody
    evse_id: PositiveInt32 | None = Field(default=None, description="absent: the station chooses")
    group_id_token: IdTokenBody | None = Field(default=None, description="2.0.1 only")
    charging_profile: ChargingProfile | None = Field(
        default=None, description="a TxProfile for the transaction to be started (no transactionId yet)"
    )

    @model_validator(mode="after")
    def _tx_profile(self) -> Self:
        profile = self.charging_profile
        if profile is not None and profile.charging_profile_purpose != "TxProfile":
            raise ValueError("chargingProfile: its chargingProfilePurpose must be TxProfile")
        if profile is not None and profile.transaction_id is not None:
            raise ValueError("chargingProfile.transactionId: the transaction does not exist yet")
        return self


class StopTransaction(ApiModel):
    transaction_id: str = Field(
        min_length=1, max_length=36, pattern=CI_STRING_PATTERN, description="the station's transaction id"
    )


class UnlockConnector(ApiModel):
    evse_id: PositiveInt32
    connector_id: PositiveInt32 = Field(default=1, description="1.6: always 1")


class TriggerMessage(ApiModel):
    requested_message: Literal[TRIGGER_MESSAGES] = Field(  # type: ignore[valid-type]
        description="2.0.1's names; 1.6 is asked for DiagnosticsStatusNotification by LogStatusNotification "
        "and has no TransactionEvent, certificate or PublishFirmware triggers"
    )
    evse_id: PositiveInt32 | None = None
    connector_id: PositiveInt32 | None = None

    @model_validator(mode="after")
    def _connector_on_evse(self) -> Self:
        if self.connector_id is not None and self.evse_id is None:
            raise ValueError("connectorId: only with evseId")
        return self


# --- B: provisioning ---


class Reset(ApiModel):
    type: Literal["Immediate", "OnIdle", "Hard"] = Field(
        description="2.0.1: Immediate or OnIdle (Hard is Immediate). 1.6: Immediate is a Soft reset, Hard a "
        "Hard one, OnIdle is refused"
    )
    evse_id: PositiveInt32 | None = Field(default=None, description="2.0.1 only: reset one EVSE")


class ComponentEvse(ApiModel):
    id: NonNegativeInt32
    connector_id: PositiveInt32 | None = None


Name50 = Annotated[str, Field(min_length=1, max_length=50, pattern=CI_STRING_PATTERN)]


class ComponentRef(ApiModel):
    name: Name50
    instance: Name50 | None = None
    evse: ComponentEvse | None = None


class VariableName(ApiModel):
    name: Name50
    instance: Name50 | None = None


class VariableRef(ApiModel):
    """A variable of the device model (1.6: the configuration key it maps to)."""

    component: ComponentRef
    variable: VariableName
    attribute_type: AttributeType | None = Field(default=None, description="default Actual")


class VariableValueIn(VariableRef):
    attribute_value: str = Field(
        max_length=1000, pattern=CI_STRING_PATTERN, description="as a string (1.6: at most 500 characters)"
    )

    @model_validator(mode="after")
    def _not_a_credential(self) -> Self:
        if is_secret(address(self.component.name, self.variable.name)):
            raise ValueError("the password is changed with the rotate-password command only")
        return self


class GetVariables(ApiModel):
    variables: list[VariableRef] | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="absent: everything (1.6 GetConfiguration of every key; 2.0.1 GetBaseReport "
        "FullInventory, its parts arriving as NotifyReport). 2.0.1 asks in parts of "
        "DeviceDataCtrlr.ItemsPerMessage",
    )


class SetVariables(ApiModel):
    variables: list[VariableValueIn] = Field(
        min_length=1,
        max_length=500,
        description="1.6: one ChangeConfiguration per variable; 2.0.1: SetVariables in parts of "
        "DeviceDataCtrlr.ItemsPerMessage",
    )


# --- C, D, G: authorization, local list, availability ---


class ChangeAvailability(ApiModel):
    operational: bool
    evse_id: NonNegativeInt32 | None = Field(default=None, description="absent or 0: the whole station")
    connector_id: PositiveInt32 | None = Field(default=None, description="one connector of the EVSE (1.6: 1)")

    @model_validator(mode="after")
    def _connector_on_evse(self) -> Self:
        if self.connector_id is not None and not self.evse_id:
            raise ValueError("connectorId: only with an evseId above 0")
        return self


class ClearCache(ApiModel):
    pass


class SendLocalList(ApiModel):
    """Not an OCPP payload: the list is derived from the tenant's id tokens, and the version is
    allocated per station."""

    update_type: Literal["Full", "Differential"] = Field(
        description="Full: every id token of the tenant. Differential: the named idTokens (one the tenant "
        "does not have is removed from the station's list), or without idTokens every token changed since "
        "the last Full list the station accepted"
    )
    id_tokens: list[IdTokenBody] | None = Field(default=None, min_length=1, max_length=5000)

    @model_validator(mode="after")
    def _names_only_for_differential(self) -> Self:
        if self.update_type == "Full" and self.id_tokens is not None:
            raise ValueError("idTokens: only for a Differential update (a Full list holds every token)")
        return self


class GetLocalListVersion(ApiModel):
    pass


# --- H: reservation ---


class ReserveNow(ApiModel):
    """The reservationId is allocated by the CSMS (see the command's request)."""

    evse_id: PositiveInt32 | None = Field(
        default=None, description="absent: any EVSE (2.0.1 NonEvseSpecific; 1.6 connector 0)"
    )
    connector_type: str | None = Field(
        default=None, max_length=20, description="2.0.1 only: ConnectorEnumType (cType2, cCCS2, ...)"
    )
    expiry_date_time: OcppDatetime = Field(description="in the future")
    id_token: IdTokenBody
    group_id_token: IdTokenBody | None = None

    @field_validator("expiry_date_time")
    @classmethod
    def _in_the_future(cls, value: datetime) -> datetime:
        # Checked here too: a station that never connected has its command prepared later.
        if value <= datetime.now(UTC):
            raise ValueError("must be in the future")
        return value


class CancelReservation(ApiModel):
    reservation_id: Annotated[int, Field(ge=1, le=MAX_INT), JSON_NUMBER]


# --- K: smart charging ---


class SetChargingProfile(ApiModel):
    evse_id: NonNegativeInt32 = Field(description="0 = the whole station")
    charging_profile: ChargingProfile

    @model_validator(mode="after")
    def _evse_fits_purpose(self) -> Self:
        purpose = self.charging_profile.charging_profile_purpose
        if purpose == "ChargingStationMaxProfile" and self.evse_id != 0:
            raise ValueError("evseId: a ChargingStationMaxProfile is set on EVSE 0")
        if purpose == "TxProfile" and self.evse_id == 0:
            raise ValueError("evseId: a TxProfile is set on an EVSE (> 0)")
        return self


class ClearChargingProfile(ApiModel):
    charging_profile_id: Int32 | None = Field(default=None, description="the other fields are then ignored")
    evse_id: NonNegativeInt32 | None = Field(default=None, description="0 = profiles of the whole station")
    charging_profile_purpose: ChargingProfilePurpose | None = None
    stack_level: NonNegativeInt32 | None = None


class GetChargingProfiles(ApiModel):
    """2.0.1 only; the profiles arrive as ReportChargingProfiles parts."""

    evse_id: NonNegativeInt32 | None = Field(default=None, description="absent: every EVSE; 0: the station's")
    charging_profile_purpose: ChargingProfilePurpose | None = None
    stack_level: NonNegativeInt32 | None = None
    charging_profile_id: list[Int32] | None = Field(default=None, min_length=1)
    charging_limit_source: list[Literal["EMS", "Other", "SO", "CSO"]] | None = Field(
        default=None, min_length=1, max_length=4
    )


class GetCompositeSchedule(ApiModel):
    evse_id: NonNegativeInt32 = Field(description="0 = the whole station's consumption")
    duration: PositiveInt32 = Field(description="seconds")
    charging_rate_unit: ChargingRateUnit | None = None


# --- L, N, P: firmware, diagnostics, data transfer ---


class UpdateFirmware(ApiModel):
    location: Uri = Field(description="where the station downloads the firmware (URI)")
    retrieve_date_time: OcppDatetime = Field(description="when it may start downloading")
    install_date_time: OcppDatetime | None = Field(default=None, description="2.0.1 only")
    retries: NonNegativeInt32 | None = None
    retry_interval: NonNegativeInt32 | None = Field(default=None, description="seconds")
    signing_certificate: str | None = Field(
        default=None, min_length=1, max_length=5500, description="2.0.1 only: PEM"
    )
    signature: str | None = Field(
        default=None, min_length=1, max_length=800, description="2.0.1 only: base64"
    )


class UploadLogs(ApiModel):
    location: Uri = Field(description="where the station uploads the log (URI)")
    log_type: Literal["DiagnosticsLog", "SecurityLog"] | None = Field(
        default=None, description="default DiagnosticsLog (1.6 GetDiagnostics); SecurityLog is 2.0.1's"
    )
    oldest_timestamp: OcppDatetime | None = None
    latest_timestamp: OcppDatetime | None = None
    retries: NonNegativeInt32 | None = None
    retry_interval: NonNegativeInt32 | None = Field(default=None, description="seconds")

    @model_validator(mode="after")
    def _window(self) -> Self:
        if (
            self.oldest_timestamp is not None
            and self.latest_timestamp is not None
            and self.latest_timestamp <= self.oldest_timestamp
        ):
            raise ValueError("latestTimestamp must be after oldestTimestamp")
        return self


class DataTransfer(ApiModel):
    vendor_id: str = Field(min_length=1, max_length=255, pattern=CI_STRING_PATTERN)
    message_id: str | None = Field(default=None, max_length=50, pattern=CI_STRING_PATTERN)
    data: Any = Field(default=None, description="any JSON for 2.0.1; a string for 1.6")

    @field_validator("data")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("any text but NUL")
        return value


# --- A: security ---

#: 2.0.1's BasicAuthPassword: 16 to 40 of identifierString's characters; the same for 1.6 (see
#: csms.services.credentials for how 1.6 carries it).
PASSWORD_PATTERN = r"^[A-Za-z0-9*\-_=:+|@.]{16,40}$"


class RotatePassword(ApiModel):
    password: str | None = Field(
        default=None,
        pattern=PASSWORD_PATTERN,
        description="the new password (16 to 40 of A-Z a-z 0-9 * - _ = : + | @ .); absent: one is generated "
        "and shown once, in this answer. Never stored or shown afterwards",
    )


#: Every neutral command: its name → its body.
COMMANDS: dict[str, type[ApiModel]] = {
    "start-transaction": StartTransaction,
    "stop-transaction": StopTransaction,
    "reset": Reset,
    "unlock-connector": UnlockConnector,
    "change-availability": ChangeAvailability,
    "clear-cache": ClearCache,
    "trigger-message": TriggerMessage,
    "get-variables": GetVariables,
    "set-variables": SetVariables,
    "set-charging-profile": SetChargingProfile,
    "clear-charging-profile": ClearChargingProfile,
    "get-charging-profiles": GetChargingProfiles,
    "get-composite-schedule": GetCompositeSchedule,
    "reserve-now": ReserveNow,
    "cancel-reservation": CancelReservation,
    "send-local-list": SendLocalList,
    "get-local-list-version": GetLocalListVersion,
    "update-firmware": UpdateFirmware,
    "upload-logs": UploadLogs,
    "data-transfer": DataTransfer,
}
