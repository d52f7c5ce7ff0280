"""Simulated chargers for the browser tests: the ``ocpp`` library's v16 and v201 ChargePoints over
real WebSockets to ``csms dev``, driven from a loop in a thread of their own (Playwright's sync
API runs the test itself).

They behave as a charger in a car park does: boot, report their connectors, and answer the
console's commands by doing the thing (a remote start starts a transaction that meters every
second until a remote stop; a charging profile is installed and reported back).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201

T = TypeVar("T")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ChargerLoop:
    """An asyncio loop in a daemon thread; ``run`` waits for a coroutine from the test's thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="e2e-chargers", daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)


class Charger16(ChargePoint16):  # type: ignore[misc]
    """An OCPP 1.6 charger with ``connectors`` connectors."""

    def __init__(self, charge_point_id: str, connection: Any, connectors: int = 2) -> None:
        super().__init__(charge_point_id, connection, response_timeout=15)
        self.connectors = connectors
        self.transaction_id: int | None = None
        self.meter_wh = 0
        self.profiles: list[dict[str, Any]] = []
        #: False: no sample every second; the test sends them with ``meter_once`` (exact figures).
        self.auto_meter = True
        #: (connector, status, timestamp) of every StatusNotification sent, in order.
        self.statuses: list[tuple[int, str, str]] = []
        self._metering: asyncio.Task[None] | None = None

    async def boot(self) -> None:
        await self.call(call16.BootNotification(charge_point_vendor="E2E", charge_point_model="Sim-16"))
        for connector in range(self.connectors + 1):
            await self.status(connector, "Available")

    async def status(self, connector: int, status: str) -> None:
        timestamp = now_iso()
        self.statuses.append((connector, status, timestamp))
        await self.call(
            call16.StatusNotification(
                connector_id=connector, error_code="NoError", status=status, timestamp=timestamp
            )
        )

    @on(Action16.remote_start_transaction)
    def on_remote_start(self, id_tag: str, connector_id: int | None = None, **_: Any) -> Any:
        asyncio.get_running_loop().call_later(
            0.2, lambda: asyncio.ensure_future(self._start(id_tag, connector_id or 1))
        )
        return result16.RemoteStartTransaction(status="Accepted")

    async def _start(self, id_tag: str, connector: int) -> None:
        await self.status(connector, "Preparing")
        answer = await self.call(
            call16.StartTransaction(
                connector_id=connector, id_tag=id_tag, meter_start=self.meter_wh, timestamp=now_iso()
            )
        )
        self.transaction_id = answer.transaction_id
        await self.status(connector, "Charging")
        if self.auto_meter:
            self._metering = asyncio.ensure_future(self._meter(connector))

    async def _meter(self, connector: int) -> None:
        while True:
            await asyncio.sleep(1)
            await self.meter_once(connector, 3)  # 11 kW for one second

    async def meter_once(self, connector: int, wh: int) -> None:
        """One MeterValues of the running transaction, its register ``wh`` higher."""
        self.meter_wh += wh
        await self.call(
            call16.MeterValues(
                connector_id=connector,
                transaction_id=self.transaction_id,
                meter_value=[
                    {
                        "timestamp": now_iso(),
                        "sampledValue": [
                            {
                                "value": str(self.meter_wh),
                                "measurand": "Energy.Active.Import.Register",
                                "unit": "Wh",
                            },
                            {"value": "11000", "measurand": "Power.Active.Import", "unit": "W"},
                            {
                                "value": str(min(100, 40 + self.meter_wh // 10)),
                                "measurand": "SoC",
                                "unit": "Percent",
                            },
                        ],
                    }
                ],
            )
        )

    async def on_remote_start_now(self, id_tag: str, connector: int = 1) -> None:
        """A transaction started at the charger (a card at the reader), not from the console."""
        await self._start(id_tag, connector)

    async def stop_now(self) -> None:
        """The running transaction stopped at the charger (the card again), not from the console."""
        await self._stop()

    async def authorize(self, id_tag: str) -> str:
        """A card at the reader: the CSMS's idTagInfo status for it."""
        answer = await self.call(call16.Authorize(id_tag=id_tag))
        return str(answer.id_tag_info["status"])

    @on(Action16.remote_stop_transaction)
    def on_remote_stop(self, transaction_id: int) -> Any:
        if transaction_id != self.transaction_id:
            return result16.RemoteStopTransaction(status="Rejected")
        asyncio.get_running_loop().call_later(0.2, lambda: asyncio.ensure_future(self._stop()))
        return result16.RemoteStopTransaction(status="Accepted")

    async def _stop(self) -> None:
        if self._metering is not None:
            self._metering.cancel()
        await self.call(
            call16.StopTransaction(
                transaction_id=self.transaction_id,
                meter_stop=self.meter_wh,
                timestamp=now_iso(),
                reason="Remote",
            )
        )
        self.transaction_id = None
        await self.status(1, "Available")

    @on(Action16.set_charging_profile)
    def on_set_charging_profile(self, connector_id: int, cs_charging_profiles: dict[str, Any]) -> Any:
        self.profiles.append({"connectorId": connector_id, **cs_charging_profiles})
        return result16.SetChargingProfile(status="Accepted")

    @on(Action16.clear_charging_profile)
    def on_clear_charging_profile(self, **_: Any) -> Any:
        self.profiles.clear()
        return result16.ClearChargingProfile(status="Accepted")

    @on(Action16.get_composite_schedule)
    def on_get_composite_schedule(self, connector_id: int, duration: int, **_: Any) -> Any:
        if not self.profiles:
            return result16.GetCompositeSchedule(status="Rejected")
        schedule = self.profiles[-1]["chargingSchedule"]
        return result16.GetCompositeSchedule(
            status="Accepted", connector_id=connector_id, schedule_start=now_iso(), charging_schedule=schedule
        )

    @on(Action16.change_configuration)
    def on_change_configuration(self, key: str, value: str) -> Any:
        return result16.ChangeConfiguration(status="Accepted")

    @on(Action16.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None) -> Any:
        return result16.GetConfiguration(
            configuration_key=[{"key": "HeartbeatInterval", "readonly": False, "value": "300"}]
        )

    @on(Action16.reset)
    def on_reset(self, type: str) -> Any:
        return result16.Reset(status="Accepted")

    @on(Action16.unlock_connector)
    def on_unlock(self, connector_id: int) -> Any:
        return result16.UnlockConnector(status="Unlocked")

    @on(Action16.trigger_message)
    def on_trigger(self, requested_message: str, **_: Any) -> Any:
        return result16.TriggerMessage(status="Accepted")


class Station201(ChargePoint201):  # type: ignore[misc]
    """An OCPP 2.0.1 station with one EVSE of one connector."""

    _seq = itertools.count()

    def __init__(self, station_id: str, connection: Any) -> None:
        super().__init__(station_id, connection, response_timeout=15)
        self.transaction_id: str | None = None
        self.profiles: list[dict[str, Any]] = []
        self.meter_wh = 0
        #: False: no sample every second; the test sends them with ``meter_once`` (exact figures).
        self.auto_meter = True
        #: The register readings sent, in order (the first one is the transaction's meterStart).
        self.registers: list[int] = []
        #: (eventType, timestamp) of every TransactionEvent sent, in order.
        self.events: list[tuple[str, str]] = []
        self._metering: asyncio.Task[None] | None = None

    async def boot(self) -> None:
        await self.call(
            call201.BootNotification(
                charging_station={"model": "Sim-201", "vendor_name": "E2E"}, reason="PowerUp"
            )
        )
        await self.call(
            call201.StatusNotification(
                timestamp=now_iso(), connector_status="Available", evse_id=1, connector_id=1
            )
        )

    @on(Action201.request_start_transaction)
    def on_request_start(
        self, id_token: dict[str, Any], remote_start_id: int, evse_id: int | None = None, **_: Any
    ) -> Any:
        self.transaction_id = f"TX-{self.id}-{next(self._seq)}"
        asyncio.get_running_loop().call_later(
            0.2, lambda: asyncio.ensure_future(self._start(id_token, remote_start_id, evse_id or 1))
        )
        return result201.RequestStartTransaction(status="Accepted", transaction_id=self.transaction_id)

    async def _event(self, event_type: str, trigger: str, **extra: Any) -> None:
        timestamp = now_iso()
        self.events.append((event_type, timestamp))
        await self.call(
            call201.TransactionEvent(
                event_type=event_type,
                timestamp=timestamp,
                trigger_reason=trigger,
                seq_no=next(self._seq),
                transaction_info={"transaction_id": self.transaction_id, **extra.pop("info", {})},
                **extra,
            )
        )

    async def _start(self, id_token: dict[str, Any], remote_start_id: int, evse: int) -> None:
        await self.call(
            call201.StatusNotification(
                timestamp=now_iso(), connector_status="Occupied", evse_id=evse, connector_id=1
            )
        )
        await self._event(
            "Started",
            "RemoteStart",
            id_token=id_token,
            evse={"id": evse, "connector_id": 1},
            info={"charging_state": "Charging", "remote_start_id": remote_start_id},
        )
        if self.auto_meter:
            self._metering = asyncio.ensure_future(self._meter())

    async def _meter(self) -> None:
        while True:
            await asyncio.sleep(1)
            await self.meter_once(3)

    async def meter_once(self, wh: int) -> None:
        """One Updated event of the running transaction with its register ``wh`` higher."""
        self.meter_wh += wh
        self.registers.append(self.meter_wh)
        await self._event(
            "Updated",
            "MeterValuePeriodic",
            meter_value=[
                {
                    "timestamp": now_iso(),
                    "sampled_value": [
                        {"value": self.meter_wh, "measurand": "Energy.Active.Import.Register"},
                        {"value": 11000, "measurand": "Power.Active.Import"},
                    ],
                }
            ],
        )

    async def on_local_start_now(self, id_token: str) -> None:
        """A transaction started at the station (a card at the reader), not from the console."""
        self.transaction_id = f"TX-{self.id}-{next(self._seq)}"
        await self.call(
            call201.StatusNotification(
                timestamp=now_iso(), connector_status="Occupied", evse_id=1, connector_id=1
            )
        )
        await self._event(
            "Started",
            "Authorized",
            id_token={"id_token": id_token, "type": "Central"},
            evse={"id": 1, "connector_id": 1},
            info={"charging_state": "Charging"},
        )
        if self.auto_meter:
            self._metering = asyncio.ensure_future(self._meter())

    async def stop_now(self) -> None:
        """The running transaction stopped at the station, not from the console."""
        await self._stop()

    @on(Action201.request_stop_transaction)
    def on_request_stop(self, transaction_id: str) -> Any:
        if transaction_id != self.transaction_id:
            return result201.RequestStopTransaction(status="Rejected")
        asyncio.get_running_loop().call_later(0.2, lambda: asyncio.ensure_future(self._stop()))
        return result201.RequestStopTransaction(status="Accepted")

    async def _stop(self) -> None:
        if self._metering is not None:
            self._metering.cancel()
        await self._event("Ended", "RemoteStop", info={"stopped_reason": "Remote"})
        self.transaction_id = None
        await self.call(
            call201.StatusNotification(
                timestamp=now_iso(), connector_status="Available", evse_id=1, connector_id=1
            )
        )

    @on(Action201.set_charging_profile)
    def on_set_charging_profile(self, evse_id: int, charging_profile: dict[str, Any]) -> Any:
        self.profiles.append({"evseId": evse_id, **charging_profile})
        return result201.SetChargingProfile(status="Accepted")

    @on(Action201.clear_charging_profile)
    def on_clear_charging_profile(self, **_: Any) -> Any:
        self.profiles.clear()
        return result201.ClearChargingProfile(status="Accepted")

    @on(Action201.reset)
    def on_reset(self, type: str, **_: Any) -> Any:
        return result201.Reset(status="Accepted")

    @on(Action201.trigger_message)
    def on_trigger(self, requested_message: str, **_: Any) -> Any:
        return result201.TriggerMessage(status="Accepted")


async def connect(url: str, charger_class: type[Any], charge_point_id: str, subprotocol: str) -> Any:
    """Open the WebSocket, start the library's listener, boot; the charger stays connected until
    ``disconnect``."""
    socket = await websockets.connect(f"{url}{charge_point_id}", subprotocols=[subprotocol], open_timeout=15)  # type: ignore[list-item]
    charger = charger_class(charge_point_id, socket)
    charger._listener = asyncio.ensure_future(charger.start())
    await charger.boot()
    return charger


async def disconnect(charger: Any) -> None:
    if charger._metering is not None:
        charger._metering.cancel()
    charger._listener.cancel()
    await charger._connection.close()
