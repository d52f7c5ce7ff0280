"""TransactionService.record_event (2.0.1 TransactionEvent) and the 1.6 start/stop/meter values
fixes, with in-memory fakes: what is stored, what is answered, which events are emitted."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from csms.domain.metering import UNKNOWN_EVSE, MeterSample, scaled
from csms.domain.stations import AvailabilityState, ChargerContext, ChargingState, ConnectorStatus
from csms.domain.tokens import AuthorizationStatus, IdToken, IdTokenType, StoredIdToken
from csms.domain.transactions import TransactionEventIn, TransactionEventType, TransactionStart
from csms.services.transactions import TransactionService
from tests.fakes import FakeDatabase

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=2)
CTX = ChargerContext(charge_point_id="CS-1", tenant_id="t1", connection_id="c-1")
CARD = IdTokenType.ISO14443
STARTED, UPDATED, ENDED = (
    TransactionEventType.STARTED,
    TransactionEventType.UPDATED,
    TransactionEventType.ENDED,
)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def register(
    wh: float | str, minutes: float, context: str = "Sample.Periodic", **overrides: Any
) -> MeterSample:
    return MeterSample(timestamp=at(minutes), value=str(wh), context=context, **overrides)


def an_event(
    event_type: TransactionEventType = STARTED, seq_no: int = 0, **overrides: Any
) -> TransactionEventIn:
    values: dict[str, Any] = {
        "event_type": event_type,
        "transaction_id": "tx-1",
        "timestamp": at(seq_no),
        "trigger_reason": {
            STARTED: "CablePluggedIn",
            UPDATED: "MeterValuePeriodic",
            ENDED: "EVCommunicationLost",
        }[event_type],
        "seq_no": seq_no,
    }
    values.update(overrides)
    return TransactionEventIn(**values)


@pytest.fixture
def db() -> FakeDatabase:
    db = FakeDatabase()
    for value, status in (("GOOD", AuthorizationStatus.ACCEPTED), ("BLOCKED", AuthorizationStatus.BLOCKED)):
        db.uow.tags[("t1", value)] = StoredIdToken("t1", IdToken(value, CARD), status)
    return db


@pytest.fixture
def service(db: FakeDatabase) -> TransactionService:
    return TransactionService(db)


def event_types(db: FakeDatabase) -> list[str]:
    return [e.type for e in db.uow.events.recorded]


def test_a_transaction_from_started_to_ended(service: TransactionService, db: FakeDatabase) -> None:
    # Given a station that plugs in, authorises, charges and unplugs
    started = service.record_event(
        CTX,
        an_event(
            STARTED,
            0,
            evse_id=1,
            connector_id=1,
            id_token=IdToken("good", CARD),  # case-insensitive
            meter_values=(register(1000, 0, "Transaction.Begin"),),
        ),
        NOW,
    )
    service.record_event(CTX, an_event(UPDATED, 1, meter_values=(register(1800, 1), register(2500, 2))), NOW)
    ended = service.record_event(
        CTX,
        an_event(
            ENDED, 3, stopped_reason="EVDisconnected", meter_values=(register(4000, 3, "Transaction.End"),)
        ),
        NOW,
    )
    # Then the token was verified and answered, and the transaction recorded from its events
    assert started.created
    assert started.id_token_info is not None
    assert started.id_token_info.status is AuthorizationStatus.ACCEPTED
    assert ended.id_token_info is None  # no idToken, no idTokenInfo
    tx = ended.transaction
    assert (tx.transaction_id, tx.protocol, tx.evse_id, tx.connector_id) == ("tx-1", "ocpp2.0.1", 1, 1)
    assert (tx.id_token, tx.start_auth_status) == (IdToken("good", CARD), AuthorizationStatus.ACCEPTED)
    assert (tx.start_timestamp, tx.stop_timestamp, tx.stop_reason) == (at(0), at(3), "EVDisconnected")
    assert (tx.meter_start, tx.meter_stop, tx.energy_wh, tx.seq_no) == (1000, 4000, 3000, 3)
    assert tx.deauthorized_at is None
    # and each event once: the start, the samples, the stop
    assert event_types(db) == [
        "TransactionStarted",
        "MeterValuesReceived",
        "MeterValuesReceived",
        "MeterValuesReceived",
        "TransactionStopped",
    ]
    stopped = db.uow.events.recorded[-1].data
    assert (stopped["transactionId"], stopped["energyWh"], stopped["closedBy"]) == ("tx-1", 3000, "charger")


def test_a_retried_event_changes_nothing_and_gets_the_same_answer(
    service: TransactionService, db: FakeDatabase
) -> None:
    first = service.record_event(CTX, an_event(STARTED, 0, evse_id=1, id_token=IdToken("GOOD", CARD)), NOW)
    # Meanwhile the token is blocked: the retry is still answered as the first time
    db.uow.tags[("t1", "GOOD")] = replace(db.uow.tags[("t1", "GOOD")], status=AuthorizationStatus.BLOCKED)
    again = service.record_event(
        CTX, an_event(STARTED, 0, evse_id=1, id_token=IdToken("GOOD", CARD)), NOW + timedelta(seconds=30)
    )
    assert again.duplicate
    assert again.id_token_info is not None
    assert again.id_token_info.status is AuthorizationStatus.ACCEPTED
    assert again.transaction == first.transaction
    assert event_types(db) == ["TransactionStarted"]
    assert len(db.uow.tx_events) == 1


def test_events_apply_in_seqno_order_whatever_the_arrival(service: TransactionService) -> None:
    # The Ended arrives first (the Started was queued offline), then the Updates out of order
    service.record_event(CTX, an_event(ENDED, 4, meter_values=(register(9000, 4, "Transaction.End"),)), NOW)
    service.record_event(CTX, an_event(UPDATED, 3, charging_state=ChargingState.SUSPENDED_EV), NOW)
    service.record_event(CTX, an_event(UPDATED, 2, charging_state=ChargingState.CHARGING), NOW)
    tx = service.record_event(
        CTX,
        an_event(
            STARTED,
            0,
            evse_id=2,
            id_token=IdToken("GOOD", CARD),
            meter_values=(register(5000, 0, "Transaction.Begin"),),
        ),
        NOW,
    ).transaction
    # The start comes from the Started, the stop from the Ended, the charging state from seq 3
    assert (tx.start_timestamp, tx.stop_timestamp) == (at(0), at(4))
    assert (tx.meter_start, tx.meter_stop, tx.energy_wh) == (5000, 9000, 4000)
    assert tx.charging_state is ChargingState.SUSPENDED_EV
    assert (tx.evse_id, tx.id_token, tx.seq_no) == (2, IdToken("GOOD", CARD), 4)


def test_until_the_started_arrives_the_earliest_event_stands_for_the_start(
    service: TransactionService,
) -> None:
    tx = service.record_event(CTX, an_event(UPDATED, 5), NOW).transaction
    assert tx.start_timestamp == at(5)
    tx = service.record_event(CTX, an_event(UPDATED, 2), NOW).transaction
    assert tx.start_timestamp == at(2)
    tx = service.record_event(CTX, an_event(UPDATED, 7), NOW).transaction
    assert tx.start_timestamp == at(2)


def test_meter_start_is_never_guessed(service: TransactionService) -> None:
    # A transaction that starts without a reading has no meter start (not 0)...
    tx = service.record_event(CTX, an_event(STARTED, 0, evse_id=1), NOW).transaction
    assert tx.meter_start is None
    # ...until its earliest register reading; another register of the same frame at the inlet,
    # per phase or of another measurand does not count
    tx = service.record_event(
        CTX,
        an_event(
            UPDATED,
            1,
            meter_values=(
                register(2200, 2),
                register(2100, 1),
                register(50, 1, location="Inlet"),
                register(700, 1, phase="L1"),
                MeterSample(timestamp=at(1), value="11000", measurand="Power.Active.Import", unit="W"),
            ),
        ),
        NOW,
    ).transaction
    assert (tx.meter_start, tx.meter_start_at, tx.meter_stop) == (2100, at(1), 2200)
    # A Transaction.Begin reading, when it comes, wins over an earlier plain one
    tx = service.record_event(
        CTX, an_event(UPDATED, 2, meter_values=(register(2150, 1.5, "Transaction.Begin"),)), NOW
    ).transaction
    assert (tx.meter_start, tx.meter_start_context) == (2150, "Transaction.Begin")
    # Ended without readings: the latest register is the stop
    tx = service.record_event(CTX, an_event(ENDED, 3), NOW).transaction
    assert (tx.meter_stop, tx.energy_wh) == (2200, 50)


def test_scaled_values_and_kwh_registers_count_in_wh(service: TransactionService) -> None:
    # 2.0.1 sends numbers with a power-of-ten multiplier: 12.345 x 10^3 Wh, 0.5 kWh...
    assert (scaled(Decimal("12.345"), 3), scaled(5, -1), scaled(7, 0), scaled("1E+2")) == (
        "12345",
        "0.5",
        "7",
        "100",
    )
    tx = service.record_event(
        CTX,
        an_event(
            STARTED,
            0,
            meter_values=(register(scaled(Decimal("12.345"), 3), 0, "Transaction.Begin"),),
        ),
        NOW,
    ).transaction
    tx = service.record_event(
        CTX, an_event(ENDED, 1, meter_values=(register("13.5", 1, "Transaction.End", unit="kWh"),)), NOW
    ).transaction
    assert (tx.meter_start, tx.meter_stop, tx.energy_wh) == (12345, 13500, 1155)


def test_an_event_after_the_end_is_kept_flagged_and_not_applied(
    service: TransactionService, db: FakeDatabase
) -> None:
    service.record_event(CTX, an_event(STARTED, 0, meter_values=(register(100, 0),)), NOW)
    ended = service.record_event(CTX, an_event(ENDED, 1, meter_values=(register(500, 1),)), NOW).transaction
    late = service.record_event(
        CTX,
        an_event(UPDATED, 2, charging_state=ChargingState.CHARGING, meter_values=(register(900, 2),)),
        NOW,
    )
    later = service.record_event(CTX, an_event(UPDATED, 3, meter_values=(register(950, 3),)), NOW)
    assert late.after_end
    assert later.after_end
    assert (late.transaction.meter_stop, late.transaction.charging_state) == (500, None)
    assert late.transaction.flag_reason == "event-after-end"
    assert (later.transaction.flag_reason, later.transaction.flagged_at) == ("event-after-end", NOW)
    # The samples are kept, with the transaction; one TransactionFlagged event
    assert sum(1 for owned, _ in db.uow.samples.values() if owned == ended.id) == 4
    assert event_types(db).count("TransactionFlagged") == 1


def test_a_late_event_with_a_lower_seqno_is_not_after_the_end(service: TransactionService) -> None:
    service.record_event(CTX, an_event(STARTED, 0), NOW)
    service.record_event(CTX, an_event(ENDED, 5), NOW)
    late = service.record_event(CTX, an_event(UPDATED, 3, charging_state=ChargingState.CHARGING), NOW)
    assert not late.after_end
    assert late.transaction.flagged_at is None
    assert late.transaction.charging_state is ChargingState.CHARGING


def test_each_event_with_a_token_gets_its_verdict(service: TransactionService, db: FakeDatabase) -> None:
    # Given GOOD in an open, accepted transaction on another station
    service.start(
        replace(CTX, charge_point_id="CS-2"),
        TransactionStart(
            evse_id=1, connector_id=1, id_token=IdToken("GOOD"), meter_start=0, timestamp=at(-10)
        ),
        NOW,
    )
    # A start without a token, then authorised by a token in use: ConcurrentTx, deauthorized
    service.record_event(CTX, an_event(STARTED, 0, evse_id=1), NOW)
    concurrent = service.record_event(
        CTX, an_event(UPDATED, 1, trigger_reason="Authorized", id_token=IdToken("GOOD", CARD)), NOW
    )
    assert concurrent.id_token_info is not None
    assert concurrent.id_token_info.status is AuthorizationStatus.CONCURRENT_TX
    tx = concurrent.transaction
    assert (tx.id_token, tx.start_auth_status, tx.deauthorized_at) == (
        IdToken("GOOD", CARD),
        AuthorizationStatus.CONCURRENT_TX,
        NOW,
    )
    # Unknown and blocked tokens are answered so (and deauthorize); NoAuthorization is accepted unseen
    for value, kind, expected in (
        ("NOBODY", CARD, AuthorizationStatus.UNKNOWN),
        ("BLOCKED", CARD, AuthorizationStatus.BLOCKED),
        ("", IdTokenType.NO_AUTHORIZATION, AuthorizationStatus.ACCEPTED),
    ):
        answer = service.record_event(
            CTX, an_event(STARTED, 0, transaction_id=f"tx-{value}", id_token=IdToken(value, kind)), NOW
        )
        assert answer.id_token_info is not None
        assert answer.id_token_info.status is expected
        assert (answer.transaction.deauthorized_at is None) == (expected is AuthorizationStatus.ACCEPTED)


def test_the_stopping_token_is_not_the_authorising_one(service: TransactionService) -> None:
    service.record_event(CTX, an_event(STARTED, 0, id_token=IdToken("GOOD", CARD)), NOW)
    stopped = service.record_event(
        CTX, an_event(ENDED, 1, trigger_reason="StopAuthorized", id_token=IdToken("BLOCKED", CARD)), NOW
    )
    # The stopping token is answered (Blocked) but does not deauthorize a transaction that ends
    assert stopped.id_token_info is not None
    assert stopped.id_token_info.status is AuthorizationStatus.BLOCKED
    tx = stopped.transaction
    assert (tx.id_token, tx.stop_id_token, tx.deauthorized_at) == (
        IdToken("GOOD", CARD),
        IdToken("BLOCKED", CARD),
        None,
    )


def test_evse_remote_start_and_reservation_come_from_the_first_event_naming_them(
    service: TransactionService, db: FakeDatabase
) -> None:
    # Samples before the EVSE is known are stored with an unknown EVSE, then get it
    service.record_event(CTX, an_event(UPDATED, 1, meter_values=(register(10, 1),)), NOW)
    assert [key[1] for key in db.uow.samples] == [UNKNOWN_EVSE]
    tx = service.record_event(
        CTX, an_event(STARTED, 0, evse_id=3, connector_id=2, remote_start_id=77, reservation_id=5), NOW
    ).transaction
    tx = service.record_event(
        CTX, an_event(UPDATED, 2, evse_id=9, connector_id=9, remote_start_id=78, reservation_id=6), NOW
    ).transaction
    assert (tx.evse_id, tx.connector_id, tx.remote_start_id, tx.reservation_id) == (3, 2, 77, 5)
    assert [key[1] for key in db.uow.samples] == [3]
    assert db.uow.used_reservations == {5: tx.id}
    assert event_types(db).count("ReservationStateChanged") == 1


def test_a_charging_state_change_reaches_the_connector(service: TransactionService, db: FakeDatabase) -> None:
    # Given the connector reported Occupied (a 2.0.1 status says nothing about charging)
    occupied = ConnectorStatus(1, 1, "Occupied", AvailabilityState.OCCUPIED, at(0))
    db.uow.record_status("t1", "CS-1", occupied, at(0))
    # When the transaction starts charging
    service.record_event(
        CTX, an_event(STARTED, 0, evse_id=1, connector_id=1, charging_state=ChargingState.CHARGING), NOW
    )
    # Then the connector is charging, with a history entry and an event
    assert db.uow.connector_latest[("CS-1", 1, 1)].charging_state is ChargingState.CHARGING
    assert [h.charging_state for h in db.uow.status_history] == [None, ChargingState.CHARGING]
    [changed] = [e.data for e in db.uow.events.recorded if e.type == "ConnectorStatusChanged"]
    assert (changed["chargingState"], changed["previousChargingState"], changed["state"]) == (
        "Charging",
        None,
        "Occupied",
    )


# --- the simulator's findings, 1.6 ---------------------------------------------------------------


def a_start(**overrides: Any) -> TransactionStart:
    values: dict[str, Any] = {
        "evse_id": 1,
        "connector_id": 1,
        "id_token": IdToken("GOOD"),
        "meter_start": 0,
        "timestamp": at(0),
    }
    values.update(overrides)
    return TransactionStart(**values)


def test_a_start_answered_concurrent_tx_is_stored_so(service: TransactionService, db: FakeDatabase) -> None:
    service.start(CTX, a_start(), NOW)
    second = service.start(replace(CTX, charge_point_id="CS-2"), a_start(timestamp=at(1)), NOW)
    assert second.id_token_info.status is AuthorizationStatus.CONCURRENT_TX
    assert second.transaction.start_auth_status is AuthorizationStatus.CONCURRENT_TX
    assert second.transaction.deauthorized_at == NOW
    # and a retry is answered as the first time
    again = service.start(replace(CTX, charge_point_id="CS-2"), a_start(timestamp=at(1)), NOW)
    assert again.id_token_info.status is AuthorizationStatus.CONCURRENT_TX


def test_a_refused_start_is_not_the_tokens_open_transaction(service: TransactionService) -> None:
    # A start refused as concurrent does not make the token's next start elsewhere concurrent
    service.start(CTX, a_start(), NOW)
    service.start(replace(CTX, charge_point_id="CS-2"), a_start(timestamp=at(1)), NOW)
    third = service.start(replace(CTX, charge_point_id="CS-3"), a_start(timestamp=at(2)), NOW)
    assert third.id_token_info.status is AuthorizationStatus.CONCURRENT_TX  # the first one still runs
    service.stop(CTX, _stop("1"), NOW)
    fourth = service.start(replace(CTX, charge_point_id="CS-4"), a_start(timestamp=at(3)), NOW)
    assert fourth.id_token_info.status is AuthorizationStatus.ACCEPTED


def test_meter_values_after_the_stop_are_kept_and_flag_the_transaction_once(
    service: TransactionService, db: FakeDatabase
) -> None:
    tx = service.start(CTX, a_start(), NOW).transaction
    service.stop(CTX, _stop(tx.transaction_id), NOW)
    # A sample taken before the stop (a retried frame) is not a disagreement
    service.meter_values(CTX, 1, tx.transaction_id, [register(400, 5)], NOW)
    assert db.uow.txs[tx.id].flagged_at is None
    for minute in (40, 41):
        service.meter_values(CTX, 1, tx.transaction_id, [register(5000 + minute, minute)], NOW)
    assert (db.uow.txs[tx.id].flag_reason, db.uow.txs[tx.id].flagged_at) == ("meter-values-after-stop", NOW)
    assert sum(1 for owned, _ in db.uow.samples.values() if owned == tx.id) == 3
    assert event_types(db).count("TransactionFlagged") == 1


def _stop(transaction_id: str) -> Any:
    from csms.domain.transactions import TransactionStop

    return TransactionStop(transaction_id=transaction_id, meter_stop=5000, timestamp=at(30))
