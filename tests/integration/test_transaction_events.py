"""TransactionService.record_event, the entry point of 2.0.1 TransactionEvents, against
PostgreSQL: what lands in transactions, transaction_events, meter_samples, the connectors and
the outbox, and how the API and the reports read it. (The 2.0.1 adapter's tests send the same
events over a real WebSocket.)"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from csms.data.database import PgDatabase
from csms.domain.metering import MeterSample, scaled
from csms.domain.stations import AvailabilityState, ChargerContext, ChargingState, ConnectorStatus
from csms.domain.tokens import AuthorizationStatus, IdToken, IdTokenType
from csms.domain.transactions import TransactionEventIn, TransactionEventType, TransactionStart
from csms.services.core import ChargePointService
from csms.services.provisioning import ProvisioningService
from csms.services.transactions import TransactionEventResult, TransactionService
from tests.fakes import FakeConnectionStore
from tests.integration.api_client import ApiClient
from tests.integration.conftest import rows
from tests.integration.event_helpers import stored

pytestmark = pytest.mark.integration

TENANT, CS = "acme", "CS-201"
T0 = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)
CTX = ChargerContext(charge_point_id=CS, tenant_id=TENANT, connection_id="c-201")
CARD = IdTokenType.ISO14443
STARTED, UPDATED, ENDED = (
    TransactionEventType.STARTED,
    TransactionEventType.UPDATED,
    TransactionEventType.ENDED,
)
V1 = "/api/v1"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def register(wh: str, minutes: float, context: str = "Sample.Periodic", **overrides: Any) -> MeterSample:
    return MeterSample(timestamp=at(minutes), value=wh, context=context, **overrides)


def an_event(event_type: TransactionEventType, seq_no: int, **overrides: Any) -> TransactionEventIn:
    values: dict[str, Any] = {
        "event_type": event_type,
        "transaction_id": "5a7c1e0e-0b1d-4c4f-9a77-e1a2b3c4d5e6",
        "timestamp": at(seq_no),
        "trigger_reason": "MeterValuePeriodic",
        "seq_no": seq_no,
    }
    values.update(overrides)
    return TransactionEventIn(**values)


@pytest.fixture(autouse=True)
def station(provisioning: ProvisioningService, now: datetime) -> None:
    provisioning.add_charger(CS, TENANT, now, security_profile=0)
    provisioning.add_charger("CS-16", TENANT, now, security_profile=0)
    provisioning.add_id_token("04A1B2C3", TENANT, now)
    provisioning.add_id_token(
        "04A1B2C3", TENANT, now, type=IdTokenType.KEY_CODE, status=AuthorizationStatus.BLOCKED
    )


@pytest.fixture
def service(engine: Engine) -> TransactionService:
    return TransactionService(PgDatabase(engine))


def record(service: TransactionService, event: TransactionEventIn) -> TransactionEventResult:
    return service.record_event(CTX, event, T0 + timedelta(hours=3))


def test_a_transaction_from_its_events(service: TransactionService, engine: Engine, api: ApiClient) -> None:
    # Given a station's Started (authorised by a typed token, with a scaled Begin reading),
    # an Updated with periodic samples, and the Ended with its End reading
    started = record(
        service,
        an_event(
            STARTED,
            0,
            trigger_reason="Authorized",
            evse_id=1,
            connector_id=1,
            id_token=IdToken("04a1b2c3", CARD),
            charging_state=ChargingState.EV_CONNECTED,
            meter_values=(register(scaled(Decimal("1.25"), 3), 0, "Transaction.Begin"),),
        ),
    )
    record(
        service,
        an_event(UPDATED, 1, charging_state=ChargingState.CHARGING, meter_values=(register("3250", 30),)),
    )
    ended = record(
        service,
        an_event(
            ENDED,
            2,
            trigger_reason="EVCommunicationLost",
            stopped_reason="EVDisconnected",
            meter_values=(register("6.5", 90, "Transaction.End", unit="kWh"),),
        ),
    )
    # Then the token got its verdict (the RFID card, matched case-insensitively, not the key code)
    assert started.id_token_info is not None
    assert started.id_token_info.status is AuthorizationStatus.ACCEPTED
    assert ended.id_token_info is None
    # and the transaction is stored with the station's id, ours, and what its events said
    tx = ended.transaction
    assert rows(
        engine,
        "SELECT id, transaction_id, protocol, evse_id, connector_id, id_token, id_token_type, "
        "start_auth_status, meter_start, meter_stop, start_timestamp, stop_timestamp, stop_reason, "
        "charging_state, seq_no "
        "FROM transactions",
    ) == [
        {
            "id": tx.id,
            "transaction_id": "5a7c1e0e-0b1d-4c4f-9a77-e1a2b3c4d5e6",
            "protocol": "ocpp2.0.1",
            "evse_id": 1,
            "connector_id": 1,
            "id_token": "04a1b2c3",
            "id_token_type": "ISO14443",
            "start_auth_status": "Accepted",
            "meter_start": 1250,
            "meter_stop": 6500,
            "start_timestamp": at(0),
            "stop_timestamp": at(2),
            "stop_reason": "EVDisconnected",
            "charging_state": "Charging",
            "seq_no": 2,
        }
    ]
    assert rows(
        engine,
        "SELECT seq_no, event_type, trigger_reason, id_token_status, meter_values "
        "FROM transaction_events ORDER BY seq_no",
    ) == [
        {
            "seq_no": 0,
            "event_type": "Started",
            "trigger_reason": "Authorized",
            "id_token_status": "Accepted",
            "meter_values": 1,
        },
        {
            "seq_no": 1,
            "event_type": "Updated",
            "trigger_reason": "MeterValuePeriodic",
            "id_token_status": None,
            "meter_values": 1,
        },
        {
            "seq_no": 2,
            "event_type": "Ended",
            "trigger_reason": "EVCommunicationLost",
            "id_token_status": None,
            "meter_values": 1,
        },
    ]
    assert rows(
        engine, "SELECT evse_id, transaction_id, value, unit FROM meter_samples ORDER BY timestamp"
    ) == [
        {"evse_id": 1, "transaction_id": tx.id, "value": "1250", "unit": "Wh"},
        {"evse_id": 1, "transaction_id": tx.id, "value": "3250", "unit": "Wh"},
        {"evse_id": 1, "transaction_id": tx.id, "value": "6.5", "unit": "kWh"},
    ]
    assert [e["type"] for e in stored(engine)] == [
        "TransactionStarted",
        "MeterValuesReceived",
        "MeterValuesReceived",
        "MeterValuesReceived",
        "TransactionStopped",
    ]
    [stopped] = stored(engine, "TransactionStopped")
    assert (stopped["data"]["transactionId"], stopped["data"]["energyWh"], stopped["data"]["protocol"]) == (
        "5a7c1e0e-0b1d-4c4f-9a77-e1a2b3c4d5e6",
        5250,
        "ocpp2.0.1",
    )
    # The API shows it with both ids and its events
    viewer = api.as_(TENANT, "viewer")
    got = viewer.get(f"{V1}/transactions/{tx.id}").body
    assert (got["transactionId"], got["protocol"], got["evseId"], got["idToken"], got["energyWh"]) == (
        "5a7c1e0e-0b1d-4c4f-9a77-e1a2b3c4d5e6",
        "ocpp2.0.1",
        1,
        {"idToken": "04a1b2c3", "type": "ISO14443"},
        5250,
    )
    assert [e["seqNo"] for e in viewer.get(f"{V1}/transactions/{tx.id}/events").body] == [0, 1, 2]
    found = viewer.get(f"{V1}/transactions", transactionId="5a7c1e0e-0b1d-4c4f-9a77-e1a2b3c4d5e6").body
    assert [t["id"] for t in found["items"]] == [tx.id]


def test_a_retried_event_is_one_row_and_gets_its_first_answer(
    service: TransactionService, engine: Engine, provisioning: ProvisioningService
) -> None:
    event = an_event(STARTED, 0, evse_id=1, id_token=IdToken("04A1B2C3", CARD))
    first = record(service, event)
    # The token is blocked meanwhile; the retry (a new messageId, the same event) changes nothing
    with engine.begin() as conn:
        from sqlalchemy import text

        conn.execute(text("UPDATE id_tokens SET status = 'Blocked' WHERE type = 'ISO14443'"))
    again = record(service, event)
    assert again.duplicate
    assert again.id_token_info is not None
    assert again.id_token_info.status is AuthorizationStatus.ACCEPTED
    assert rows(engine, "SELECT count(*) AS n FROM transaction_events") == [{"n": 1}]
    assert [e["type"] for e in stored(engine)] == ["TransactionStarted"]
    assert again.transaction == first.transaction


def test_events_of_one_transaction_handled_at_once_are_all_applied(
    service: TransactionService, engine: Engine
) -> None:
    # Each frame is its own Lambda invocation: twenty Updated events (and their retries) at once
    events = [an_event(UPDATED, n, meter_values=(register(str(1000 + 10 * n), n),)) for n in range(1, 21)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda e: record(service, e), [*events, *events]))
    assert sum(1 for r in results if r.duplicate) == 20
    assert sum(1 for r in results if r.created) == 1
    assert rows(engine, "SELECT count(*) AS n, max(seq_no) AS top FROM transaction_events") == [
        {"n": 20, "top": 20}
    ]
    assert rows(engine, "SELECT seq_no, meter_start, meter_stop, start_timestamp FROM transactions") == [
        {"seq_no": 20, "meter_start": 1010, "meter_stop": 1200, "start_timestamp": at(1)}
    ]
    assert rows(engine, "SELECT count(*) AS n FROM meter_samples") == [{"n": 20}]


def test_an_ended_before_its_started_and_an_evse_named_late(
    service: TransactionService, engine: Engine
) -> None:
    # The Ended and an Updated arrive first (the Started was queued offline), without the EVSE
    record(service, an_event(ENDED, 3, offline=True, meter_values=(register("900", 3, "Transaction.End"),)))
    updated = record(service, an_event(UPDATED, 2, offline=True, meter_values=(register("700", 2),)))
    assert updated.transaction.evse_id is None
    assert rows(engine, "SELECT evse_id FROM meter_samples ORDER BY timestamp") == [
        {"evse_id": -1},
        {"evse_id": -1},
    ]
    # Then the Started: the start, the EVSE and the token come from it; the samples get the EVSE
    tx = record(
        service,
        an_event(
            STARTED,
            0,
            offline=True,
            evse_id=2,
            connector_id=1,
            id_token=IdToken("04A1B2C3", CARD),
            meter_values=(register("100", 0, "Transaction.Begin"),),
        ),
    ).transaction
    assert (tx.start_timestamp, tx.stop_timestamp, tx.evse_id, tx.offline) == (at(0), at(3), 2, True)
    assert (tx.meter_start, tx.meter_stop, tx.energy_wh) == (100, 900, 800)
    assert rows(engine, "SELECT DISTINCT evse_id FROM meter_samples") == [{"evse_id": 2}]
    # One TransactionStarted (when the CSMS first saw it), one TransactionStopped
    assert [e["type"] for e in stored(engine, "TransactionStarted", "TransactionStopped")] == [
        "TransactionStarted",
        "TransactionStopped",
    ]


def test_events_after_the_end_are_kept_and_flagged(service: TransactionService, engine: Engine) -> None:
    record(service, an_event(STARTED, 0, meter_values=(register("100", 0),)))
    tx = record(service, an_event(ENDED, 1, meter_values=(register("500", 1),))).transaction
    late = record(service, an_event(UPDATED, 2, meter_values=(register("800", 2),)))
    assert late.after_end
    assert rows(engine, "SELECT meter_stop, flag_reason FROM transactions") == [
        {"meter_stop": 500, "flag_reason": "event-after-end"}
    ]
    assert rows(engine, "SELECT seq_no, after_end FROM transaction_events ORDER BY seq_no") == [
        {"seq_no": 0, "after_end": False},
        {"seq_no": 1, "after_end": False},
        {"seq_no": 2, "after_end": True},
    ]
    assert rows(engine, "SELECT count(*) AS n FROM meter_samples WHERE transaction_id = :tx", tx=tx.id) == [
        {"n": 3}
    ]
    [flagged] = stored(engine, "TransactionFlagged")
    assert flagged["data"]["reason"] == "event-after-end"


def test_a_token_in_a_16_transaction_is_concurrent_for_a_201_one(
    service: TransactionService, engine: Engine
) -> None:
    # Given the card charging on a 1.6 charger of the tenant
    service.start(
        ChargerContext(charge_point_id="CS-16", tenant_id=TENANT, connection_id="c-16"),
        TransactionStart(
            evse_id=1, connector_id=1, id_token=IdToken("04a1b2c3"), meter_start=0, timestamp=at(-5)
        ),
        T0,
    )
    # When it authorises a 2.0.1 transaction
    answer = record(
        service, an_event(STARTED, 0, trigger_reason="Authorized", id_token=IdToken("04A1B2C3", CARD))
    )
    assert answer.id_token_info is not None
    assert answer.id_token_info.status is AuthorizationStatus.CONCURRENT_TX
    assert rows(
        engine,
        "SELECT start_auth_status, deauthorized_at IS NOT NULL AS deauthorized FROM transactions "
        "WHERE protocol = 'ocpp2.0.1'",
    ) == [{"start_auth_status": "ConcurrentTx", "deauthorized": True}]


def test_charging_states_reach_the_connector_and_the_utilisation_report(
    service: TransactionService, engine: Engine, api: ApiClient
) -> None:
    # Given the connector Occupied (a 2.0.1 StatusNotification says nothing about charging)
    core = ChargePointService(PgDatabase(engine), FakeConnectionStore(), heartbeat_interval=300)
    core.status_notification(CTX, ConnectorStatus(1, 1, "Occupied", AvailabilityState.OCCUPIED, at(0)), at(0))
    # When the transaction charges for an hour, then is suspended by the EV
    record(
        service, an_event(STARTED, 0, evse_id=1, connector_id=1, charging_state=ChargingState.EV_CONNECTED)
    )
    record(
        service,
        an_event(UPDATED, 60, charging_state=ChargingState.CHARGING, trigger_reason="ChargingStateChanged"),
    )
    record(
        service,
        an_event(
            UPDATED, 120, charging_state=ChargingState.SUSPENDED_EV, trigger_reason="ChargingStateChanged"
        ),
    )
    # Then the connector and its history carry each charging state
    assert rows(engine, "SELECT status, state, charging_state FROM connectors") == [
        {"status": "Occupied", "state": "Occupied", "charging_state": "SuspendedEV"}
    ]
    assert [
        r["charging_state"]
        for r in rows(engine, "SELECT charging_state FROM connector_status_history ORDER BY status_timestamp")
    ] == [
        None,
        "EVConnected",
        "Charging",
        "SuspendedEV",
    ]
    # and utilisation counts the hour it charged
    report = api.as_(TENANT, "viewer").get(
        f"{V1}/reports/utilisation", **{"from": "2026-11-30T22:00:00Z", "to": "2026-12-01T01:00:00Z"}
    )
    [connector] = report.body["connectors"]
    assert (
        connector["stationId"],
        connector["evseId"],
        connector["chargingSeconds"],
        connector["occupiedSeconds"],
    ) == (
        CS,
        1,
        3600.0,
        10800.0,
    )


def test_an_end_below_the_start_is_stored_as_said_and_flagged(
    service: TransactionService, engine: Engine
) -> None:
    # A meter replaced mid-session: the station ends the transaction with a register below its start
    record(service, an_event(STARTED, 0, meter_values=(register("9000", 0, "Transaction.Begin"),)))
    tx = record(
        service, an_event(ENDED, 1, meter_values=(register("250", 1, "Transaction.End"),))
    ).transaction
    # Stored as the station said (never corrected), and flagged for an operator before billing
    assert (tx.meter_start, tx.meter_stop, tx.energy_wh, tx.flag_reason) == (
        9000,
        250,
        -8750,
        "meter-went-backwards",
    )
    assert rows(engine, "SELECT flag_reason FROM transactions") == [{"flag_reason": "meter-went-backwards"}]
    [flagged] = stored(engine, "TransactionFlagged")
    assert (flagged["data"]["transactionRef"], flagged["data"]["reason"]) == (tx.id, "meter-went-backwards")


def test_an_end_above_the_start_is_not_flagged(service: TransactionService, engine: Engine) -> None:
    record(service, an_event(STARTED, 0, meter_values=(register("100", 0, "Transaction.Begin"),)))
    tx = record(
        service, an_event(ENDED, 1, meter_values=(register("100", 1, "Transaction.End"),))
    ).transaction
    assert (tx.energy_wh, tx.flag_reason) == (0, None)
    assert stored(engine, "TransactionFlagged") == []
