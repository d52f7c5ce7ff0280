"""Load management applies its limits as charging profiles (ADR 0024 §9), end to end: stations of
both protocols over real WebSockets through the local gateway, reallocated by the domain events
(a session starting or stopping, a station going, meter values) through the local bus's rules,
their profiles sent by the command pipeline, decreases before increases, refusals counted at the
EVSE's maximum, and watts for a station that takes only watts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201
from sqlalchemy import Engine

from csms.data.database import PgDatabase
from csms.data.device_model import PgDeviceModelStore
from csms.domain.device_model import VariableSource, VariableValue, address
from csms.local.stack import LocalStack
from csms.services.provisioning import ProvisioningService
from tests.integration.api_client import ApiClient
from tests.integration.charger import connected
from tests.integration.conftest import rows
from tests.integration.load_stations import HoldingCharger16, HoldingStation201, until
from tests.integration.station201 import SimulatedStation, connected_201

pytestmark = pytest.mark.integration
V1 = "/api/v1"
TENANT = "default"


def tag(station: str) -> str:
    """Each station's driver has a token of their own (one token in two sessions is ConcurrentTx)."""
    return f"TAG-{station}"


def now_ocpp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def evse(station: str, max_a: float = 32, **overrides: Any) -> dict[str, Any]:
    return {
        "id": f"{station}-1",
        "parentId": "grid",
        "kind": "evse",
        "stationId": station,
        "evseId": 1,
        "phaseWiring": ["L1", "L2", "L3"],
        "minCurrentA": 6,
        "maxCurrentA": max_a,
        **overrides,
    }


def a_site(
    admin: ApiClient, provisioning: ProvisioningService, grid_a: float, *evses: dict[str, Any]
) -> None:
    moment = datetime.now(UTC)
    for node in evses:
        provisioning.add_charger(node["stationId"], TENANT, moment, security_profile=0)
        provisioning.add_id_token(tag(node["stationId"]), TENANT, moment)
    assert admin.post(f"{V1}/sites", {"id": "lp", "name": "Profiles"}).status == 201
    grid = {"id": "grid", "kind": "grid", "limitA": dict.fromkeys(("L1", "L2", "L3"), grid_a)}
    answer = admin.put(f"{V1}/sites/lp/nodes", {"nodes": [grid, *evses]})
    assert answer.status == 200, answer.body


async def start16(cp: Any) -> int:
    answer = await cp.call(
        call16.StartTransaction(connector_id=1, id_tag=tag(cp.id), meter_start=0, timestamp=now_ocpp())
    )
    assert answer.id_tag_info["status"] == "Accepted"
    return int(answer.transaction_id)


async def start201(station: Any, tx: str) -> None:
    await station.call(
        call201.TransactionEvent(
            event_type="Started",
            timestamp=now_ocpp(),
            trigger_reason="Authorized",
            seq_no=0,
            transaction_info={"transaction_id": tx, "charging_state": "Charging"},
            evse={"id": 1, "connector_id": 1},
            id_token={"id_token": tag(station.id), "type": "ISO14443"},
        )
    )


def allocation(operator: ApiClient) -> dict[str, Any]:
    body: dict[str, Any] = operator.get(f"{V1}/sites/lp/allocation").body
    return body


def settled(operator: ApiClient, condition: Callable[[dict[str, Any]], bool]) -> Callable[[], bool]:
    """The latest allocation meets ``condition`` and every step of its plan was answered."""

    def check() -> bool:
        latest = allocation(operator)
        steps = {(s["stationId"], s["direction"]) for s in latest.get("plan", [])}
        answered = {
            (o["stationId"], o["direction"]) for o in latest.get("outcomes", []) if o["status"] != "sent"
        }
        return condition(latest) and steps <= answered

    return check


def given(latest: dict[str, Any]) -> dict[str, tuple[float, bool]]:
    return {e["stationId"]: (e["limitA"], e["controlled"]) for e in latest["evses"]}


async def test_sessions_of_both_protocols_share_the_grid_decreases_landing_before_increases(
    api: ApiClient, stack: LocalStack, provisioning: ProvisioningService, engine: Engine
) -> None:
    admin, operator = api.as_(TENANT, "admin"), api.as_(TENANT, "operator")
    a_site(admin, provisioning, 32, evse("LP-A"), evse("LP-B"))
    held: dict[str, float] = {}
    over: list[tuple[str, float, dict[str, float]]] = []

    def observe(station: str, evse_id: int, amps: float) -> None:
        # At every instant a station takes a profile, the limits held sum to at most 32 A
        held[station] = amps
        if sum(held.values()) > 32:
            over.append((station, amps, dict(held)))

    async with (
        connected(stack, "LP-A", HoldingCharger16) as a,
        connected_201(stack, "LP-B", HoldingStation201) as b,
    ):
        a.observer = b.observer = observe
        # Connecting, each idle EVSE is given 0 A (the trigger: ChargerConnected on the bus)
        await until(lambda: a.limits == {1: 0.0} and b.limits == {1: 0.0}, "the idle limits")
        # When a session starts on A (1.6), A is given the whole grid
        transaction = await start16(a)
        await until(lambda: a.limits == {1: 32.0}, "A's 32 A")
        # When a session starts on B (2.0.1), A goes down to 16 A before B goes up to 16 A
        await start201(b, "tx-b")
        await until(lambda: a.limits == {1: 16.0} and b.limits == {1: 16.0}, "16 A each")
        assert [limit for _, limit in [(e, _amps(s)) for e, s in a.received]] == [0.0, 32.0, 16.0]
        assert [_amps(s) for _, s in b.received] == [0.0, 16.0]
        assert over == []
        # The 2.0.1 station got a TxDefaultProfile on EVSE 1 in amperes (the library checked the schema)
        assert b.received[-1][1]["charging_rate_unit"] == "A"
        await until(
            settled(operator, lambda latest: "TransactionStarted" in latest["cause"]), "B's allocation"
        )
        latest = allocation(operator)
        assert latest["cause"] == "TransactionStarted"
        assert [(o["stationId"], o["direction"], o["status"]) for o in latest["outcomes"]] == [
            ("LP-A", "decrease", "accepted"),
            ("LP-B", "increase", "accepted"),
        ]
        # The commands are an operator's commands like any other, requested by the load manager
        commands = rows(
            engine,
            "SELECT charge_point_id, action, status FROM commands WHERE requested_by = 'load-management' "
            "ORDER BY created_at",
        )
        assert {(c["charge_point_id"], c["action"]) for c in commands} == {
            ("LP-A", "SetChargingProfile"),
            ("LP-B", "SetChargingProfile"),
        }
        # When A's vehicle draws 5 A of its 16 (meter values), B gets what A leaves
        await a.call(
            call16.MeterValues(
                connector_id=1,
                transaction_id=transaction,
                meter_value=[
                    {
                        "timestamp": now_ocpp(),
                        "sampled_value": [
                            {"value": "5", "measurand": "Current.Import", "unit": "A", "phase": "L1"}
                        ],
                    }
                ],
            )
        )
        await until(lambda: a.limits == {1: 7.0} and b.limits == {1: 25.0}, "A at 5 + 2 A, B at the rest")
        # When the session on B stops (TransactionStopped), A is offered its maximum again
        # (its draw is the latest reading: it keeps 5 + 2 A until it draws more)
        await b.call(
            call201.TransactionEvent(
                event_type="Ended",
                timestamp=now_ocpp(),
                trigger_reason="StopAuthorized",
                seq_no=1,
                transaction_info={"transaction_id": "tx-b", "stopped_reason": "Local"},
            )
        )
        await until(lambda: b.limits == {1: 0.0}, "B's 0 A once idle")
        assert over == []


def _amps(schedule: dict[str, Any]) -> float:
    return float(schedule["charging_schedule_period"][0]["limit"])


async def test_a_rejected_profile_and_a_station_without_smart_charging_count_at_their_maximum(
    api: ApiClient, stack: LocalStack, provisioning: ProvisioningService
) -> None:
    admin, operator = api.as_(TENANT, "admin"), api.as_(TENANT, "operator")
    a_site(admin, provisioning, 40, evse("LP-R", max_a=16), evse("LP-N", max_a=16), evse("LP-OK"))
    async with (
        connected(stack, "LP-R", HoldingCharger16) as rejecting,
        connected_201(stack, "LP-N", SimulatedStation) as without,  # no handler: NotImplemented
        connected(stack, "LP-OK", HoldingCharger16) as fine,
    ):
        rejecting.answer = "Rejected"
        await until(lambda: fine.limits == {1: 0.0} and rejecting.refused >= 1, "the first limits")
        # Then both refusers count at their 16 A, whatever they do, and the one that complies
        # gets the 8 A left when its session starts
        await start16(fine)
        await until(lambda: fine.limits == {1: 8.0}, "the 8 A left")
        await until(
            settled(operator, lambda latest: given(latest).get("LP-OK") == (8.0, True)),
            "the allocation answered",
        )
        latest = allocation(operator)
        assert given(latest) == {"LP-N": (16.0, False), "LP-OK": (8.0, True), "LP-R": (16.0, False)}
        # And nothing more is sent to them meanwhile
        assert rejecting.refused == 1
        assert without is not None


async def test_a_station_that_takes_only_watts_gets_watts(
    api: ApiClient, stack: LocalStack, provisioning: ProvisioningService, engine: Engine
) -> None:
    admin = api.as_(TENANT, "admin")
    a_site(admin, provisioning, 32, evse("LP-W", phaseWiring=["L2"]))
    # Its device model (as a NotifyReport left it) says SmartChargingCtrlr.RateUnit = W
    PgDeviceModelStore(PgDatabase(engine)).record(
        TENANT,
        "LP-W",
        [VariableValue(address("SmartChargingCtrlr", "RateUnit"), "W")],
        VariableSource.NOTIFY_REPORT,
        datetime.now(UTC),
    )
    async with connected_201(stack, "LP-W", HoldingStation201) as station:
        await until(lambda: len(station.received) >= 1, "the idle limit")
        await start201(station, "tx-w")
        await until(lambda: station.limits == {1: 32.0}, "32 A, as watts")
        schedule = station.received[-1][1]
        assert schedule["charging_rate_unit"] == "W"
        assert schedule["charging_schedule_period"][0] == {
            "start_period": 0,
            "limit": 7360.0,
            "number_phases": 1,
        }
