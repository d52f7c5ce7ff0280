"""The load manager's limits as charging profiles, through the neutral command pipeline
(ADR 0024 §9): the :class:`~csms.domain.load.ChargingLimitSender` of the product.

Each step becomes the neutral ``set-charging-profile`` an operator would submit, requested by
``load-management``: recorded as a command and a charging profile, delivered one at a time per
station, translated into 1.6 or 2.0.1 by the station's protocol. The profile is the EVSE's
**TxDefaultProfile** (id :data:`~csms.domain.load.PROFILE_ID_BASE` + the EVSE id, stack level
:data:`~csms.domain.load.PROFILE_STACK_LEVEL`), Relative, one period from 0 with no end: it
holds for the session running and for every one after it, until the next allocation replaces it.
The request carries ``loadManagement`` (site, allocation, direction, amperes), which the
translations leave out and the load manager reads back from the command.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from csms.domain.load import (
    LOAD_MANAGER,
    PROFILE_ID_BASE,
    PROFILE_STACK_LEVEL,
    LimitStep,
    StepOutcome,
    StepStatus,
)
from csms.domain.tenancy import TenantScope
from csms.errors import Conflict, InvalidInput, NotFound
from csms.services.commands import CommandService

log = logging.getLogger(__name__)


def profile_request(step: LimitStep, site_id: str, allocation_id: int) -> dict[str, Any]:
    """The neutral set-charging-profile body of one step, in the station's unit."""
    limit = step.limit_w if step.unit == "W" else step.limit_a
    return {
        "evseId": step.evse_id,
        "chargingProfile": {
            "id": PROFILE_ID_BASE + step.evse_id,
            "stackLevel": PROFILE_STACK_LEVEL,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": [
                {
                    "chargingRateUnit": step.unit,
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": limit, "numberPhases": step.number_phases}
                    ],
                }
            ],
        },
        "loadManagement": {
            "siteId": site_id,
            "allocationId": allocation_id,
            "direction": step.direction.value,
            "limitA": step.limit_a,
        },
    }


class CommandLimitSender:
    def __init__(self, commands: CommandService) -> None:
        self._commands = commands

    def send(
        self, scope: TenantScope, site_id: str, allocation_id: int, steps: Sequence[LimitStep]
    ) -> list[StepOutcome]:
        mine = TenantScope(scope.tenant_id, LOAD_MANAGER)
        outcomes = []
        for step in steps:
            request = profile_request(step, site_id, allocation_id)
            limit = request["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"]
            try:
                command = self._commands.submit(mine, step.station_id, "set-charging-profile", request)
            except (Conflict, InvalidInput, NotFound) as exc:
                # Decommissioned, or its protocol cannot take it: it counts at its maximum.
                log.warning(
                    "charging limit not submitted",
                    extra={"charge_point_id": step.station_id, "evse_id": step.evse_id, "error": str(exc)},
                )
                outcomes.append(
                    StepOutcome(
                        step.station_id,
                        step.evse_id,
                        StepStatus.FAILED.value,
                        direction=step.direction.value,
                        limit=limit,
                        unit=step.unit,
                        reason=str(exc),
                    )
                )
                continue
            outcomes.append(
                StepOutcome(
                    step.station_id,
                    step.evse_id,
                    StepStatus.SENT.value,
                    command_id=command.id,
                    direction=step.direction.value,
                    limit=limit,
                    unit=step.unit,
                )
            )
        return outcomes
