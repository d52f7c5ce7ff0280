"""A station's device model as the CSMS knows it: components (optionally on an EVSE or a
connector), their variables and each variable's attributes (Actual, Target, MinSet, MaxSet).

OCPP 2.0.1 reports it with NotifyReport (answering GetBaseReport/GetReport), GetVariables and
SetVariables. An OCPP 1.6 charger has flat configuration keys (GetConfiguration,
ChangeConfiguration); the 1.6 adapter maps each key onto the 2.0.1 variable that means the same
(csms.ocpp16.configuration), so one store serves both and the CSMS reads one name, e.g.
``OCPPCommCtrlr.HeartbeatInterval``, whichever protocol the station speaks.

Component and variable names and instances are case-insensitive (OCPP 2.0.1 Part 2): stored as
received, compared lower-cased (as PostgreSQL lower() does).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class AttributeType(StrEnum):
    ACTUAL = "Actual"
    TARGET = "Target"
    MIN_SET = "MinSet"
    MAX_SET = "MaxSet"


class Mutability(StrEnum):
    READ_ONLY = "ReadOnly"
    WRITE_ONLY = "WriteOnly"
    READ_WRITE = "ReadWrite"


class VariableSource(StrEnum):
    """The message a stored value came from."""

    #: Carried over from the 1.6 configuration table by migration 0013.
    MIGRATED = "Migrated"
    GET_CONFIGURATION = "GetConfiguration"
    CHANGE_CONFIGURATION = "ChangeConfiguration"
    NOTIFY_REPORT = "NotifyReport"
    GET_VARIABLES = "GetVariables"
    SET_VARIABLES = "SetVariables"


class GetVariableStatus(StrEnum):
    """GetVariableStatusEnumType (2.0.1)."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    UNKNOWN_COMPONENT = "UnknownComponent"
    UNKNOWN_VARIABLE = "UnknownVariable"
    NOT_SUPPORTED_ATTRIBUTE_TYPE = "NotSupportedAttributeType"


class SetVariableStatus(StrEnum):
    """SetVariableStatusEnumType (2.0.1)."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    UNKNOWN_COMPONENT = "UnknownComponent"
    UNKNOWN_VARIABLE = "UnknownVariable"
    NOT_SUPPORTED_ATTRIBUTE_TYPE = "NotSupportedAttributeType"
    REBOOT_REQUIRED = "RebootRequired"


@dataclass(frozen=True, slots=True)
class Component:
    """A component, on the station as a whole (no EVSE), on an EVSE or on one connector of it."""

    name: str
    instance: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    instance: str | None = None


@dataclass(frozen=True, slots=True)
class VariableAddress:
    """One attribute of one variable of one component."""

    component: Component
    variable: Variable
    attribute_type: AttributeType = AttributeType.ACTUAL

    def key(self) -> tuple[str, str, int, int, str, str, str]:
        """What identifies the attribute: names and instances case-folded, absent ones empty."""
        c, v = self.component, self.variable
        return (
            c.name.lower(),
            (c.instance or "").lower(),
            -1 if c.evse_id is None else c.evse_id,
            -1 if c.connector_id is None else c.connector_id,
            v.name.lower(),
            (v.instance or "").lower(),
            self.attribute_type.value,
        )


def address(
    component: str,
    variable: str,
    *,
    component_instance: str | None = None,
    variable_instance: str | None = None,
    evse_id: int | None = None,
    connector_id: int | None = None,
    attribute_type: AttributeType = AttributeType.ACTUAL,
) -> VariableAddress:
    return VariableAddress(
        Component(component, component_instance, evse_id, connector_id),
        Variable(variable, variable_instance),
        attribute_type,
    )


def address_of(item: Mapping[str, Any]) -> VariableAddress:
    """The address a neutral command body (and a 2.0.1 GetVariableData, SetVariableData or their
    results) names: ``component`` {name, instance?, evse? {id, connectorId?}}, ``variable``
    {name, instance?}, ``attributeType``? (Actual by default)."""
    component, variable = item["component"], item["variable"]
    where = component.get("evse") or {}
    return address(
        component["name"],
        variable["name"],
        component_instance=component.get("instance"),
        variable_instance=variable.get("instance"),
        evse_id=where.get("id"),
        connector_id=where.get("connectorId"),
        attribute_type=AttributeType(item.get("attributeType", "Actual")),
    )


#: Variables the CSMS reads, by their 2.0.1 names (a 1.6 charger's keys map onto them).
HEARTBEAT_INTERVAL = address("OCPPCommCtrlr", "HeartbeatInterval")
#: The local authorization list's capacity is the ``maxLimit`` characteristic of Entries.
LOCAL_LIST_ENTRIES = address("LocalAuthListCtrlr", "Entries")
LOCAL_LIST_ITEMS_PER_MESSAGE = address("LocalAuthListCtrlr", "ItemsPerMessage")
#: Credentials: the CSMS records that they were set, never their value.
SECRET_VARIABLES = frozenset({("securityctrlr", "basicauthpassword")})


def is_secret(variable_address: VariableAddress) -> bool:
    return (
        variable_address.component.name.lower(),
        variable_address.variable.name.lower(),
    ) in SECRET_VARIABLES


@dataclass(frozen=True, slots=True)
class VariableValue:
    """What a message says about one attribute: its value (None: not reported, e.g. WriteOnly),
    or that the station does not know the component or variable (``known=False``). Absent
    metadata (mutability, persistent, constant, characteristics) keeps what is stored."""

    address: VariableAddress
    value: str | None
    known: bool = True
    mutability: Mutability | None = None
    persistent: bool | None = None
    constant: bool | None = None
    #: VariableCharacteristicsType as reported (unit, dataType, minLimit, maxLimit, valuesList,
    #: supportsMonitoring).
    characteristics: dict[str, Any] | None = None
    #: The OCPP 1.6 configuration key the value was reported under.
    ocpp16_key: str | None = None


@dataclass(frozen=True, slots=True)
class ReportedAttribute:
    """VariableAttributeType of a NotifyReport part."""

    type: AttributeType = AttributeType.ACTUAL
    value: str | None = None
    mutability: Mutability | None = None
    persistent: bool | None = None
    constant: bool | None = None


@dataclass(frozen=True, slots=True)
class ReportedVariable:
    """ReportDataType: one variable of one component with its attributes and characteristics."""

    component: Component
    variable: Variable
    attributes: Sequence[ReportedAttribute] = field(default_factory=tuple)
    characteristics: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class GetVariableResult:
    address: VariableAddress
    status: GetVariableStatus
    value: str | None = None


@dataclass(frozen=True, slots=True)
class SetVariableResult:
    """The station's answer for one attribute, with the value the CSMS asked it to set."""

    address: VariableAddress
    status: SetVariableStatus
    value: str


@dataclass(frozen=True, slots=True)
class DeviceVariable:
    """One stored attribute."""

    address: VariableAddress
    value: str | None
    mutability: Mutability | None
    persistent: bool | None
    constant: bool | None
    characteristics: dict[str, Any] | None
    #: False: the station said it does not know the component or variable.
    known: bool
    source: VariableSource
    ocpp16_key: str | None
    updated_at: datetime

    def max_limit(self) -> int | None:
        """The ``maxLimit`` characteristic as a whole number, if there is one."""
        limit = (self.characteristics or {}).get("maxLimit")
        return int(limit) if isinstance(limit, int | float) and limit == int(limit) else None

    def int_value(self) -> int | None:
        """The value as a whole number, if it is one."""
        try:
            return int(str(self.value).strip()) if self.value is not None else None
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class VariableQuery:
    """Filters: component and variable names (case-insensitive), the EVSE a component is on."""

    component: str | None = None
    variable: str | None = None
    evse_id: int | None = None
    limit: int = 100
    offset: int = 0


class DeviceModelStore(Protocol):
    def record(
        self,
        tenant_id: str,
        charge_point_id: str,
        values: Sequence[VariableValue],
        source: VariableSource,
        at: datetime,
    ) -> None:
        """Upsert each attribute (one row per address; the last of duplicates wins)."""
        ...

    def find(
        self, tenant_id: str, charge_point_id: str, addresses: Sequence[VariableAddress]
    ) -> list[DeviceVariable]:
        """The stored attributes among these addresses."""
        ...

    def search(
        self, tenant_id: str, charge_point_id: str, query: VariableQuery
    ) -> tuple[list[DeviceVariable], int]: ...
