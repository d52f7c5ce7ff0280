"""Answers that arrive in parts: a station answers some requests with a CALLRESULT and then
sends what was asked for as its own CALLs, numbered and tied to the request by its requestId
(2.0.1 NotifyReport for GetBaseReport/GetReport, ReportChargingProfiles for
GetChargingProfiles, NotifyCustomerInformation for CustomerInformation). The parts are kept
per station, kind and request, so a command can show what arrived and whether it is complete,
whatever order the parts came in; their content also goes where the model keeps it (a report's
variables into the device model)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class ReportKind(StrEnum):
    """Which message the parts are (each answers one kind of request)."""

    DEVICE_MODEL = "NotifyReport"
    CHARGING_PROFILES = "ReportChargingProfiles"
    CUSTOMER_INFORMATION = "NotifyCustomerInformation"


@dataclass(frozen=True, slots=True)
class ReportPart:
    kind: ReportKind
    request_id: int
    #: What tells this part from the others of its request (a retried part repeats it): its
    #: seqNo, or for ReportChargingProfiles (which has none) its EVSE, source and profile ids.
    part: str
    #: More parts follow (2.0.1 tbc).
    to_be_continued: bool
    #: The part's content as it is kept here: customer data text, reported profiles, or for a
    #: device-model report only how many variables it carried (they are in the device model).
    payload: dict[str, Any]
    seq_no: int | None = None
    generated_at: datetime | None = None
    received_at: datetime | None = None


class ReportPartStore(Protocol):
    def add(self, tenant_id: str, charge_point_id: str, part: ReportPart, received_at: datetime) -> bool:
        """Keep a part; False if it was kept before (a retried frame)."""
        ...

    def parts(
        self, tenant_id: str, charge_point_id: str, kind: ReportKind, request_id: int
    ) -> list[ReportPart]:
        """The parts of one request received so far, by sequence number (then arrival)."""
        ...
