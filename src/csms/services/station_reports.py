"""Answers in parts (csms.domain.station_reports): each part is kept once, by its request, and
its content goes where the model keeps it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from csms.domain.device_model import ReportedVariable
from csms.domain.station_reports import ReportKind, ReportPart, ReportPartStore
from csms.domain.stations import ChargerContext
from csms.domain.tenancy import TenantScope
from csms.services.device_model import DeviceModelService
from csms.services.stations import Stations


class StationReportService:
    def __init__(self, parts: ReportPartStore, device_model: DeviceModelService, stations: Stations) -> None:
        self._parts = parts
        self._device_model = device_model
        self._stations = stations

    def device_model_report(
        self,
        ctx: ChargerContext,
        request_id: int,
        seq_no: int,
        to_be_continued: bool,
        generated_at: datetime,
        report: Sequence[ReportedVariable],
        now: datetime,
    ) -> None:
        """A NotifyReport part: its variables into the device model, then the part on record.
        (In that order: a part on record has its variables stored, and a retried part, which
        stores its variables again, is harmless.)"""
        self._device_model.reported(ctx.tenant_id, ctx.charge_point_id, report, now)
        self._parts.add(
            ctx.tenant_id,
            ctx.charge_point_id,
            ReportPart(
                ReportKind.DEVICE_MODEL,
                request_id,
                str(seq_no),
                to_be_continued,
                {"variables": len(report)},
                seq_no=seq_no,
                generated_at=generated_at,
            ),
            now,
        )

    def charging_profiles_report(
        self,
        ctx: ChargerContext,
        request_id: int,
        evse_id: int,
        source: str,
        to_be_continued: bool,
        profiles: Sequence[dict[str, Any]],
        now: datetime,
    ) -> None:
        """A ReportChargingProfiles part: the profiles the station has installed on one EVSE
        from one source (the CSMS, an EMS...), as it sent them."""
        ids = ",".join(str(p.get("id")) for p in profiles)
        self._parts.add(
            ctx.tenant_id,
            ctx.charge_point_id,
            ReportPart(
                ReportKind.CHARGING_PROFILES,
                request_id,
                f"{evse_id}:{source}:{ids}",
                to_be_continued,
                {"evseId": evse_id, "chargingLimitSource": source, "chargingProfiles": list(profiles)},
            ),
            now,
        )

    def customer_information(
        self,
        ctx: ChargerContext,
        request_id: int,
        seq_no: int,
        to_be_continued: bool,
        generated_at: datetime,
        data: str,
        now: datetime,
    ) -> None:
        """A NotifyCustomerInformation part: the customer data the station holds, as text."""
        self._parts.add(
            ctx.tenant_id,
            ctx.charge_point_id,
            ReportPart(
                ReportKind.CUSTOMER_INFORMATION,
                request_id,
                str(seq_no),
                to_be_continued,
                {"data": data},
                seq_no=seq_no,
                generated_at=generated_at,
            ),
            now,
        )

    def parts(
        self, scope: TenantScope, charge_point_id: str, kind: ReportKind, request_id: int
    ) -> list[ReportPart]:
        """The parts of one request received so far, in order."""
        self._stations.require(scope, charge_point_id)
        return self._parts.parts(scope.tenant_id, charge_point_id, kind, request_id)

    def parts_of(
        self, tenant_id: str, charge_point_id: str, kind: ReportKind, request_id: int
    ) -> list[ReportPart]:
        """As :meth:`parts`, for the command pipeline (the command is the tenant's already)."""
        return self._parts.parts(tenant_id, charge_point_id, kind, request_id)
