"""OCPP 1.6 configuration keys onto the device model, and back: one table.

A key with a 2.0.1 equivalent (the research brief's mapping, §8.3) becomes that variable, e.g.
``HeartbeatInterval`` is ``OCPPCommCtrlr.HeartbeatInterval``; a key whose 1.6 value is a
capacity (``LocalAuthListMaxLength``) becomes the ``maxLimit`` characteristic of the variable
that counts (``LocalAuthListCtrlr.Entries``), as a 2.0.1 station reports it. Any other key (no
equivalent, a different value vocabulary, or a vendor's key) is variable ``<key>`` of component
``OCPP16``. Every value keeps the key it came under (``ocpp16_key``). 1.6 keys are
case-insensitive.

Migration 0013 carried the stored configuration over with a frozen copy of this table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from csms.domain.device_model import (
    Component,
    Mutability,
    Variable,
    VariableAddress,
    VariableValue,
    address,
)

#: The component of 1.6 keys without a 2.0.1 equivalent.
OCPP16_COMPONENT: Final = "OCPP16"


@dataclass(frozen=True, slots=True)
class KeyMapping:
    key: str
    address: VariableAddress
    #: The 1.6 value is the variable's ``maxLimit`` characteristic, not its value.
    as_max_limit: bool = False


def _m(
    key: str, component: str, variable: str, instance: str | None = None, *, limit: bool = False
) -> KeyMapping:
    return KeyMapping(key, address(component, variable, variable_instance=instance), limit)


#: Keys not here (NumberOfConnectors, the *MaxLength keys, SupportedFeatureProfiles,
#: ConnectorPhaseRotation (a CSV per connector, per component in 2.0.1), LightIntensity,
#: BlinkRepeat, ChargingScheduleAllowedChargingRateUnit (Current/Power, 2.0.1 says A/W), vendor
#: keys) are OCPP16.<key>.
KEYS: Final[tuple[KeyMapping, ...]] = (
    _m("HeartbeatInterval", "OCPPCommCtrlr", "HeartbeatInterval"),
    _m("MeterValueSampleInterval", "SampledDataCtrlr", "TxUpdatedInterval"),
    _m("ClockAlignedDataInterval", "AlignedDataCtrlr", "Interval"),
    _m("MeterValuesSampledData", "SampledDataCtrlr", "TxUpdatedMeasurands"),
    _m("MeterValuesAlignedData", "AlignedDataCtrlr", "Measurands"),
    _m("StopTxnSampledData", "SampledDataCtrlr", "TxEndedMeasurands"),
    _m("StopTxnAlignedData", "AlignedDataCtrlr", "TxEndedMeasurands"),
    _m("ConnectionTimeOut", "TxCtrlr", "EVConnectionTimeOut"),
    _m("LocalAuthorizeOffline", "AuthCtrlr", "LocalAuthorizeOffline"),
    _m("LocalPreAuthorize", "AuthCtrlr", "LocalPreAuthorize"),
    _m("AllowOfflineTxForUnknownId", "AuthCtrlr", "OfflineTxForUnknownIdEnabled"),
    _m("AuthorizationCacheEnabled", "AuthCacheCtrlr", "Enabled"),
    _m("AuthorizeRemoteTxRequests", "AuthCtrlr", "AuthorizeRemoteStart"),
    _m("LocalAuthListEnabled", "LocalAuthListCtrlr", "Enabled"),
    _m("LocalAuthListMaxLength", "LocalAuthListCtrlr", "Entries", limit=True),
    _m("SendLocalListMaxLength", "LocalAuthListCtrlr", "ItemsPerMessage"),
    _m("ResetRetries", "OCPPCommCtrlr", "ResetRetries"),
    _m("StopTransactionOnEVSideDisconnect", "TxCtrlr", "StopTxOnEVSideDisconnect"),
    _m("StopTransactionOnInvalidId", "TxCtrlr", "StopTxOnInvalidId"),
    _m("MaxEnergyOnInvalidId", "TxCtrlr", "MaxEnergyOnInvalidId"),
    _m("TransactionMessageAttempts", "OCPPCommCtrlr", "MessageAttempts", "TransactionEvent"),
    _m("TransactionMessageRetryInterval", "OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent"),
    _m("UnlockConnectorOnEVSideDisconnect", "OCPPCommCtrlr", "UnlockOnEVSideDisconnect"),
    _m("WebSocketPingInterval", "OCPPCommCtrlr", "WebSocketPingInterval"),
    _m("MinimumStatusDuration", "OCPPCommCtrlr", "MinimumStatusDuration"),
    _m("SupportedFileTransferProtocols", "OCPPCommCtrlr", "FileTransferProtocols"),
    _m("ChargeProfileMaxStackLevel", "SmartChargingCtrlr", "ProfileStackLevel"),
    _m("ChargingScheduleMaxPeriods", "SmartChargingCtrlr", "PeriodsPerSchedule"),
    _m("MaxChargingProfilesInstalled", "SmartChargingCtrlr", "Entries", "ChargingProfiles", limit=True),
    _m("ConnectorSwitch3to1PhaseSupported", "SmartChargingCtrlr", "Phases3to1"),
    _m("GetConfigurationMaxKeys", "DeviceDataCtrlr", "ItemsPerMessage", "GetVariables"),
    _m("ReserveConnectorZeroSupported", "ReservationCtrlr", "NonEvseSpecific"),
    # The 1.6 security extension.
    _m("AuthorizationKey", "SecurityCtrlr", "BasicAuthPassword"),
    _m("SecurityProfile", "SecurityCtrlr", "SecurityProfile"),
    _m("CpoName", "SecurityCtrlr", "OrganizationName"),
    _m("CertificateSignedMaxChainSize", "SecurityCtrlr", "MaxCertificateChainSize"),
    _m("CertificateStoreMaxLength", "SecurityCtrlr", "CertificateEntries"),
    _m("AdditionalRootCertificateCheck", "SecurityCtrlr", "AdditionalRootCertificateCheck"),
)

_BY_KEY: Final = {m.key.lower(): m for m in KEYS}
_BY_ADDRESS: Final = {m.address.key(): m for m in KEYS}


#: A capacity the mapping carries over: a whole number (migration 0013 uses the same rule).
_WHOLE = re.compile(r"\s*[-+]?[0-9]{1,18}\s*")


def _whole_number(value: str | None) -> int | None:
    return int(value) if value is not None and _WHOLE.fullmatch(value) else None


def unmapped(key: str) -> VariableAddress:
    """Where a key without a 2.0.1 equivalent lives."""
    return VariableAddress(Component(OCPP16_COMPONENT), Variable(key))


def key_value(key: str, value: str | None, readonly: bool | None = None, known: bool = True) -> VariableValue:
    """A key's value (GetConfiguration, ChangeConfiguration) as a device-model value."""
    mapping = _BY_KEY.get(key.lower())
    mutability = None if readonly is None else Mutability.READ_ONLY if readonly else Mutability.READ_WRITE
    if mapping is not None and mapping.as_max_limit:
        limit = _whole_number(value)
        if limit is not None or value is None:
            return VariableValue(
                mapping.address,
                None,
                known=known,
                mutability=mutability,
                characteristics={"maxLimit": limit} if limit is not None else None,
                ocpp16_key=key,
            )
        mapping = None  # not a number: kept as reported, under its key
    where = mapping.address if mapping is not None else unmapped(key)
    return VariableValue(where, value, known=known, mutability=mutability, ocpp16_key=key)


def configuration_values(keys: Iterable[dict[str, Any]], unknown_keys: Iterable[str]) -> list[VariableValue]:
    """A GetConfiguration answer: its configurationKey and unknownKey lists."""
    return [key_value(k["key"], k.get("value"), k.get("readonly")) for k in keys] + [
        key_value(key, None, known=False) for key in unknown_keys
    ]


def key_of(variable_address: VariableAddress) -> str | None:
    """The 1.6 key of a device-model attribute (None: 1.6 has no key for it)."""
    mapping = _BY_ADDRESS.get(variable_address.key())
    if mapping is not None:
        return mapping.key
    c, v = variable_address.component, variable_address.variable
    if (
        c.name.lower() == OCPP16_COMPONENT.lower()
        and c.instance is None
        and c.evse_id is None
        and v.instance is None
        and variable_address.attribute_type.value == "Actual"
    ):
        return v.name
    return None


def is_max_limit(key: str) -> bool:
    """Whether the key's value is a capacity (the variable's ``maxLimit``)."""
    mapping = _BY_KEY.get(key.lower())
    return mapping is not None and mapping.as_max_limit
