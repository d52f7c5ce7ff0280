"""A station's device model: what it reported (NotifyReport, GetVariables), what it accepted
(SetVariables) and, for an OCPP 1.6 charger, its configuration keys mapped onto the same
variables (csms.ocpp16.configuration). Operators read it; the CSMS reads the variables it
needs (the heartbeat interval, the local list's capacity) by their 2.0.1 names.

Entry points for the adapters: :meth:`DeviceModelService.reported` (NotifyReport, one call per
part), :meth:`~DeviceModelService.read` (GetVariables results), :meth:`~DeviceModelService.set`
(SetVariables results) and :meth:`~DeviceModelService.record` (anything already mapped, e.g.
the 1.6 GetConfiguration/ChangeConfiguration answers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from csms.domain.device_model import (
    DeviceModelStore,
    DeviceVariable,
    GetVariableResult,
    GetVariableStatus,
    ReportedVariable,
    SetVariableResult,
    SetVariableStatus,
    VariableAddress,
    VariableQuery,
    VariableSource,
    VariableValue,
    is_secret,
)
from csms.domain.tenancy import TenantScope
from csms.services.stations import Stations

_UNKNOWN = frozenset({GetVariableStatus.UNKNOWN_COMPONENT, GetVariableStatus.UNKNOWN_VARIABLE})
_UNKNOWN_SET = frozenset({SetVariableStatus.UNKNOWN_COMPONENT, SetVariableStatus.UNKNOWN_VARIABLE})
_APPLIED = frozenset({SetVariableStatus.ACCEPTED, SetVariableStatus.REBOOT_REQUIRED})


def _storable(value: VariableValue) -> VariableValue:
    """A credential's value is not kept: only that it was reported or set."""
    return replace(value, value=None) if value.value is not None and is_secret(value.address) else value


class DeviceModelService:
    def __init__(self, store: DeviceModelStore, stations: Stations) -> None:
        self._store = store
        self._stations = stations

    # --- what stations report ----------------------------------------------------------------

    def record(
        self,
        tenant_id: str,
        charge_point_id: str,
        values: Sequence[VariableValue],
        source: VariableSource,
        at: datetime,
    ) -> None:
        """Store these attributes as the station reported them (credentials without value)."""
        self._store.record(tenant_id, charge_point_id, [_storable(v) for v in values], source, at)

    def reported(
        self, tenant_id: str, charge_point_id: str, report: Sequence[ReportedVariable], at: datetime
    ) -> None:
        """A NotifyReport part's reportData: every attribute of every variable, with the
        variable's characteristics on each of its attributes."""
        values = [
            VariableValue(
                VariableAddress(part.component, part.variable, attribute.type),
                attribute.value,
                mutability=attribute.mutability,
                persistent=attribute.persistent,
                constant=attribute.constant,
                characteristics=part.characteristics,
            )
            for part in report
            for attribute in part.attributes
        ]
        self.record(tenant_id, charge_point_id, values, VariableSource.NOTIFY_REPORT, at)

    def read(
        self, tenant_id: str, charge_point_id: str, results: Sequence[GetVariableResult], at: datetime
    ) -> None:
        """GetVariables results: an Accepted value is stored, an unknown component or variable
        is marked unknown; Rejected and NotSupportedAttributeType change nothing."""
        values = [
            VariableValue(r.address, r.value)
            if r.status is GetVariableStatus.ACCEPTED
            else VariableValue(r.address, None, known=False)
            for r in results
            if r.status is GetVariableStatus.ACCEPTED or r.status in _UNKNOWN
        ]
        self.record(tenant_id, charge_point_id, values, VariableSource.GET_VARIABLES, at)

    def set(
        self, tenant_id: str, charge_point_id: str, results: Sequence[SetVariableResult], at: datetime
    ) -> None:
        """SetVariables results: the value asked for is stored where the station accepted it
        (Accepted or RebootRequired), an unknown component or variable is marked unknown."""
        values = [
            VariableValue(r.address, r.value)
            if r.status in _APPLIED
            else VariableValue(r.address, None, known=False)
            for r in results
            if r.status in _APPLIED or r.status in _UNKNOWN_SET
        ]
        self.record(tenant_id, charge_point_id, values, VariableSource.SET_VARIABLES, at)

    # --- what the CSMS and operators read ------------------------------------------------------

    def known(
        self, tenant_id: str, charge_point_id: str, addresses: Sequence[VariableAddress]
    ) -> dict[VariableAddress, DeviceVariable]:
        """The stored attributes among these addresses that the station knows, by the address asked."""
        found = {
            v.address.key(): v for v in self._store.find(tenant_id, charge_point_id, addresses) if v.known
        }
        return {a: found[a.key()] for a in addresses if a.key() in found}

    def search(
        self, scope: TenantScope, charge_point_id: str, query: VariableQuery
    ) -> tuple[list[DeviceVariable], int]:
        """A page of the station's attributes (known or not), by component, EVSE, connector,
        variable and attribute type."""
        self._stations.require(scope, charge_point_id)
        return self._store.search(scope.tenant_id, charge_point_id, query)
