"""OCPP 2.0.1 transactions over a real WebSocket through the local gateway, with PostgreSQL:
TransactionEvent Started/Updated/Ended with sequence numbers, retries, events that arrive out of
order or before their Started, offline-queued events, token verdicts in the answers, meter
values with multipliers, and a 1.6 and a 2.0.1 station in one tenant's energy report."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call
from sqlalchemy import Engine

from csms.domain.tokens import AuthorizationStatus, IdTokenType
from csms.local.stack import LocalStack
from csms.services.provisioning import ProvisioningService
from tests.integration.api_client import ApiClient
from tests.integration.charger import connected
from tests.integration.conftest import rows
from tests.integration.event_helpers import stored
from tests.integration.station201 import connected_201

pytestmark = pytest.mark.integration

PASSWORD = "a-16-to-40-char-secret"
STATION = "CS-TX"
TAG = {"id_token": "04A2B3C4", "type": "ISO14443"}
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def station(provisioning: ProvisioningService) -> str:
    now = datetime.now(UTC)
    provisioning.add_charger(STATION, "t1", now, password=PASSWORD)
    provisioning.add_id_token("04A2B3C4", "t1", now)
    provisioning.add_id_token(
        "BLOCKED", "t1", now, type=IdTokenType.KEY_CODE, status=AuthorizationStatus.BLOCKED
    )
    return STATION


def register(
    wh: float, minutes: float, context: str, *, unit: str = "Wh", multiplier: int = 0
) -> dict[str, Any]:
    return {
        "timestamp": at(minutes),
        "sampled_value": [
            {
                "value": wh,
                "context": context,
                "measurand": "Energy.Active.Import.Register",
                "unit_of_measure": {"unit": unit, "multiplier": multiplier},
            }
        ],
    }


def event(
    event_type: str,
    seq_no: int,
    minutes: float,
    trigger: str,
    tx: str,
    *,
    info: dict[str, Any] | None = None,
    meter: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> call.TransactionEvent:
    return call.TransactionEvent(
        event_type=event_type,
        timestamp=at(minutes),
        trigger_reason=trigger,
        seq_no=seq_no,
        transaction_info={"transaction_id": tx, **(info or {})},
        meter_value=meter,
        **extra,
    )


def a_full_transaction(tx: str) -> list[call.TransactionEvent]:
    return [
        event(
            "Started",
            0,
            0,
            "Authorized",
            tx,
            info={"charging_state": "EVConnected"},
            evse={"id": 1, "connector_id": 1},
            id_token=TAG,
            meter=[register(1000, 0, "Transaction.Begin")],
        ),
        event("Updated", 1, 1, "ChargingStateChanged", tx, info={"charging_state": "Charging"}),
        # kWh with a multiplier: 1.5 kWh x 10^0... and 2.5 x 10^3 Wh
        event(
            "Updated",
            2,
            10,
            "MeterValuePeriodic",
            tx,
            meter=[register(2.5, 10, "Sample.Periodic", multiplier=3)],
        ),
        event(
            "Ended",
            3,
            20,
            "EVCommunicationLost",
            tx,
            info={"charging_state": "Idle", "stopped_reason": "EVDisconnected"},
            meter=[register(4.2, 20, "Transaction.End", unit="kWh")],
        ),
    ]


async def run(station_id: str, stack: LocalStack, events: list[call.TransactionEvent]) -> list[Any]:
    async with connected_201(stack, station_id, password=PASSWORD) as cs:
        return [await cs.call(e, suppress=False) for e in events]


async def test_a_full_transaction_is_recorded_with_its_energy_and_answered_with_the_token_verdict(
    stack: LocalStack, engine: Engine, station: str, api: ApiClient
) -> None:
    tx = str(uuid.uuid4())
    answers = await run(station, stack, a_full_transaction(tx))
    # idTokenInfo when (and only when) the event carried a token
    assert answers[0].id_token_info == {"status": "Accepted"}
    assert [a.id_token_info for a in answers[1:]] == [None, None, None]
    for answer in answers:
        assert answer.total_cost is None
    [row] = rows(
        engine,
        "SELECT transaction_id, protocol, evse_id, connector_id, id_token, id_token_type, start_auth_status, "
        "meter_start, meter_stop, stop_reason, charging_state, seq_no, start_timestamp, stop_timestamp "
        "FROM transactions",
    )
    assert row == {
        "transaction_id": tx,
        "protocol": "ocpp2.0.1",
        "evse_id": 1,
        "connector_id": 1,
        "id_token": "04A2B3C4",
        "id_token_type": "ISO14443",
        "start_auth_status": "Accepted",
        "meter_start": 1000,
        "meter_stop": 4200,
        "stop_reason": "EVDisconnected",
        "charging_state": "Idle",
        "seq_no": 3,
        "start_timestamp": T0,
        "stop_timestamp": T0 + timedelta(minutes=20),
    }
    # every sample kept, scaled to its unit
    samples = rows(engine, "SELECT value, unit, context FROM meter_samples ORDER BY timestamp")
    assert samples == [
        {"value": "1000", "unit": "Wh", "context": "Transaction.Begin"},
        {"value": "2500", "unit": "Wh", "context": "Sample.Periodic"},
        {"value": "4.2", "unit": "kWh", "context": "Transaction.End"},
    ]
    # the API shows it with the station's text id, and its events in order
    viewer = api.as_("t1", "viewer")
    listed = await asyncio.to_thread(viewer.get, "/api/v1/transactions", stationId=station)
    [found] = listed.body["items"]
    assert (found["transactionId"], found["energyWh"], found["idToken"]) == (
        tx,
        3200,
        {"idToken": "04A2B3C4", "type": "ISO14443"},
    )
    timeline = await asyncio.to_thread(viewer.get, f"/api/v1/transactions/{found['id']}/events")
    assert [(e["seqNo"], e["eventType"], e["triggerReason"]) for e in timeline.body] == [
        (0, "Started", "Authorized"),
        (1, "Updated", "ChargingStateChanged"),
        (2, "Updated", "MeterValuePeriodic"),
        (3, "Ended", "EVCommunicationLost"),
    ]
    types = [e["type"] for e in stored(engine, "TransactionStarted", "TransactionStopped")]
    assert types == ["TransactionStarted", "TransactionStopped"]


async def test_retried_events_change_nothing_and_get_the_same_answer(
    stack: LocalStack, engine: Engine, station: str
) -> None:
    tx = str(uuid.uuid4())
    events = a_full_transaction(tx)
    # each event sent twice, as a station does when it got no answer (a new message id each time)
    answers = await run(station, stack, [e for e in events for _ in (0, 1)])
    assert [a.id_token_info for a in answers[0:2]] == [{"status": "Accepted"}] * 2
    assert rows(engine, "SELECT count(*) AS n FROM transaction_events") == [{"n": 4}]
    assert rows(engine, "SELECT count(*) AS n FROM meter_samples") == [{"n": 3}]
    assert rows(engine, "SELECT meter_start, meter_stop FROM transactions") == [
        {"meter_start": 1000, "meter_stop": 4200}
    ]
    assert len(stored(engine, "TransactionStarted")) == 1
    assert len(stored(engine, "TransactionStopped")) == 1


async def test_events_out_of_order_and_an_ended_before_its_started_give_the_same_transaction(
    stack: LocalStack, engine: Engine, station: str
) -> None:
    tx = str(uuid.uuid4())
    started, charging, periodic, ended = a_full_transaction(tx)
    # the station's offline queue, delivered in a scrambled order
    await run(station, stack, [ended, periodic, started, charging])
    [row] = rows(
        engine,
        "SELECT meter_start, meter_stop, charging_state, stop_reason, seq_no, start_timestamp, "
        "stop_timestamp IS NOT NULL AS ended FROM transactions",
    )
    # the latest fields follow seqNo, not arrival: Idle (seqNo 3), not Charging (seqNo 1)
    assert row == {
        "meter_start": 1000,
        "meter_stop": 4200,
        "charging_state": "Idle",
        "stop_reason": "EVDisconnected",
        "seq_no": 3,
        "start_timestamp": T0,
        "ended": True,
    }


async def test_offline_queued_events_are_recorded_in_order_and_flagged_offline(
    stack: LocalStack, engine: Engine, station: str
) -> None:
    tx = str(uuid.uuid4())
    await run(station, stack, [e for e in a_full_transaction(tx)])
    queued = str(uuid.uuid4())
    offline = [
        event(
            "Started",
            0,
            30,
            "Authorized",
            queued,
            offline=True,
            evse={"id": 2, "connector_id": 1},
            id_token=TAG,
            meter=[register(500, 30, "Transaction.Begin")],
        ),
        event(
            "Ended",
            1,
            40,
            "StopAuthorized",
            queued,
            offline=True,
            id_token=TAG,
            info={"stopped_reason": "Local"},
            meter=[register(900, 40, "Transaction.End")],
        ),
    ]
    answers = await run(station, stack, offline)
    # the token is checked afresh even though the station already decided offline
    assert [a.id_token_info["status"] for a in answers] == ["Accepted", "Accepted"]
    assert rows(
        engine,
        "SELECT transaction_id, offline, meter_stop - meter_start AS energy FROM transactions ORDER BY id",
    ) == [
        {"transaction_id": tx, "offline": False, "energy": 3200},
        {"transaction_id": queued, "offline": True, "energy": 400},
    ]


async def test_a_refused_token_deauthorizes_and_an_ended_without_reason_is_local(
    stack: LocalStack, engine: Engine, station: str
) -> None:
    tx = str(uuid.uuid4())
    blocked = {"id_token": "BLOCKED", "type": "KeyCode"}
    unknown = {"id_token": "NOBODY", "type": "ISO14443"}
    answers = await run(
        station,
        stack,
        [
            # started by plugging in (TxStartPoint EVConnected): no token yet
            event("Started", 0, 0, "CablePluggedIn", tx, evse={"id": 1, "connector_id": 1}),
            event("Updated", 1, 1, "Authorized", tx, id_token=blocked),
            event("Ended", 2, 2, "Deauthorized", tx),
            event(
                "Started",
                0,
                3,
                "Authorized",
                str(uuid.uuid4()),
                evse={"id": 1, "connector_id": 1},
                id_token=unknown,
            ),
        ],
    )
    assert answers[0].id_token_info is None
    assert answers[1].id_token_info == {"status": "Blocked"}
    assert answers[3].id_token_info == {"status": "Unknown"}
    found = rows(
        engine,
        "SELECT start_auth_status, deauthorized_at IS NOT NULL AS refused, stop_reason "
        "FROM transactions ORDER BY id",
    )
    assert found == [
        {"start_auth_status": "Blocked", "refused": True, "stop_reason": "Local"},
        {"start_auth_status": "Unknown", "refused": True, "stop_reason": None},
    ]


async def test_a_token_in_another_transaction_is_concurrent(stack: LocalStack, station: str) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    answers = await run(
        station,
        stack,
        [
            event("Started", 0, 0, "Authorized", first, evse={"id": 1, "connector_id": 1}, id_token=TAG),
            event("Started", 0, 1, "Authorized", second, evse={"id": 2, "connector_id": 1}, id_token=TAG),
        ],
    )
    assert [a.id_token_info["status"] for a in answers] == ["Accepted", "ConcurrentTx"]


async def test_meter_values_outside_transactions_are_kept_per_evse(
    stack: LocalStack, engine: Engine, station: str
) -> None:
    async with connected_201(stack, station, password=PASSWORD) as cs:
        await cs.call(
            call.MeterValues(
                evse_id=0,
                meter_value=[
                    {
                        "timestamp": at(5),
                        "sampled_value": [
                            {
                                "value": 230.1,
                                "measurand": "Voltage",
                                "phase": "L1-N",
                                "unit_of_measure": {"unit": "V"},
                            },
                            {
                                "value": 12.5,
                                "measurand": "Energy.Active.Import.Register",
                                "unit_of_measure": {"unit": "kWh"},
                                "signed_meter_value": {
                                    "signed_meter_data": "AAEC",
                                    "signing_method": "ECDSA",
                                    "encoding_method": "OCMF",
                                    "public_key": "KEY",
                                },
                            },
                        ],
                    }
                ],
            ),
            suppress=False,
        )
    assert rows(
        engine,
        "SELECT evse_id, transaction_id, measurand, phase, unit, value, format FROM meter_samples "
        "ORDER BY measurand, format",
    ) == [
        {
            "evse_id": 0,
            "transaction_id": None,
            "measurand": "Energy.Active.Import.Register",
            "phase": "",
            "unit": "kWh",
            "value": "12.5",
            "format": "Raw",
        },
        {
            "evse_id": 0,
            "transaction_id": None,
            "measurand": "Energy.Active.Import.Register",
            "phase": "",
            "unit": "kWh",
            "value": "AAEC",
            "format": "SignedData",
        },
        {
            "evse_id": 0,
            "transaction_id": None,
            "measurand": "Voltage",
            "phase": "L1-N",
            "unit": "V",
            "value": "230.1",
            "format": "Raw",
        },
    ]


async def test_one_energy_report_covers_a_1_6_and_a_2_0_1_station(
    stack: LocalStack, provisioning: ProvisioningService, station: str, api: ApiClient
) -> None:
    provisioning.add_charger("CP-16-ENERGY", "t1", datetime.now(UTC), security_profile=0)
    await run(station, stack, a_full_transaction(str(uuid.uuid4())))
    async with connected(stack, "CP-16-ENERGY") as cp:
        start = await cp.call(
            call16.StartTransaction(connector_id=1, id_tag="04A2B3C4", meter_start=10_000, timestamp=at(0))
        )
        await cp.call(
            call16.StopTransaction(meter_stop=11_500, timestamp=at(15), transaction_id=start.transaction_id)
        )
    viewer = api.as_("t1", "viewer")
    report = await asyncio.to_thread(viewer.get, "/api/v1/reports/energy", **{"from": at(-60), "to": at(120)})
    assert report.status == 200, report.body
    by_station = {c["stationId"]: (c["energyWh"], c["sessionCount"]) for c in report.body["stations"]}
    assert by_station == {STATION: (3200, 1), "CP-16-ENERGY": (1500, 1)}
