"""Simulated stations that hold the charging profiles they are sent, as real ones do: the
``ocpp`` library's 1.6 and 2.0.1 ChargePoints, each answering SetChargingProfile as it is told
(Accepted, Rejected, or no handler at all: the library's NotImplemented CALLERROR) and keeping,
per EVSE, the TxDefaultProfile limit in force in amperes per phase (watts converted back with the
phases and voltage they came with). ``on_profile`` is called after every profile taken, before
the answer leaves: the moment the station's limit changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ocpp.routing import on
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action
from ocpp.v201 import call_result as result201

from tests.integration.charger import SimulatedCharger
from tests.integration.station201 import SimulatedStation

VOLTAGE = 230.0
#: How long a test waits for what the stack must do before it fails (a hung pipeline, not a
#: slow one: nothing is judged by how long it took).
PATIENCE_SECONDS = 60.0

#: (station, evse, amperes per phase now in force)
ProfileObserver = Callable[[str, int, float], None]


def _amperes(schedule: dict[str, Any], phases: int) -> float:
    period = schedule["charging_schedule_period"][0]
    limit = float(period["limit"])
    if schedule["charging_rate_unit"] == "W":
        return limit / (VOLTAGE * int(period.get("number_phases") or phases))
    return limit


class _Holder:
    """What both protocols share: the answer to give and the limits held."""

    answer = "Accepted"
    observer: ProfileObserver | None = None
    #: Seconds the station takes before it applies a profile (real ones vary): None, at once.
    delay: Callable[[], float] | None = None
    #: While set and not open, the station holds its answers (a slow one, without timing).
    gate: asyncio.Event | None = None

    async def _pause(self) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if self.delay is not None:
            await asyncio.sleep(self.delay())

    def _take(self, station: str, evse: int, purpose: str, schedule: dict[str, Any]) -> str:
        if self.answer != "Accepted":
            self.refused += 1
            return self.answer
        assert purpose == "TxDefaultProfile", purpose
        self.received.append((evse, schedule))
        self.limits[evse] = _amperes(schedule, 3)
        if self.observer is not None:
            self.observer(station, evse, self.limits[evse])
        return "Accepted"

    def _init_holder(self) -> None:
        self.limits: dict[int, float] = {}
        self.received: list[tuple[int, dict[str, Any]]] = []
        self.refused = 0


class HoldingCharger16(SimulatedCharger, _Holder):
    def __init__(self, charge_point_id: str, connection: Any) -> None:
        super().__init__(charge_point_id, connection)
        self._init_holder()

    @on(Action.set_charging_profile)
    async def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any
    ) -> result16.SetChargingProfile:
        await self._pause()
        status = self._take(
            self.id,
            connector_id,
            cs_charging_profiles["charging_profile_purpose"],
            cs_charging_profiles["charging_schedule"],
        )
        return result16.SetChargingProfile(status=status)


class HoldingStation201(SimulatedStation, _Holder):
    def __init__(self, station_id: str, connection: Any) -> None:
        super().__init__(station_id, connection)
        self._init_holder()

    @on("SetChargingProfile")
    async def on_set_charging_profile(
        self, evse_id: int, charging_profile: dict[str, Any], **_: Any
    ) -> result201.SetChargingProfile:
        await self._pause()
        status = self._take(
            self.id,
            evse_id,
            charging_profile["charging_profile_purpose"],
            charging_profile["charging_schedule"][0],
        )
        return result201.SetChargingProfile(status=status)


async def until(condition: Callable[[], bool], what: str = "the condition") -> None:
    """Wait until ``condition()`` holds (checked every 20 ms); fails after PATIENCE_SECONDS."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE_SECONDS
    while not condition():
        assert loop.time() < deadline, f"{what} never came about"
        await asyncio.sleep(0.02)
