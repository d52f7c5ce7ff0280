"""OCPP 1.6 transaction and authorization semantics at the edges: offline starts, retries,
ConcurrentTx, frames naming another charger's transaction, meter value defaults. Real
chargers over a real WebSocket, checked in PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from csms.domain.tokens import AuthorizationStatus, IdToken
from csms.local.stack import LocalStack
from csms.services.provisioning import ProvisioningService
from tests.builders import a_start_transaction, a_stop_transaction
from tests.integration.charger import raw_charger
from tests.integration.conftest import rows
from tests.integration.event_helpers import stored

pytestmark = pytest.mark.integration
TENANT = "acme"
CP_A = "SEM-A"
CP_B = "SEM-B"
CP_FOREIGN = "SEM-GLOBEX"


@pytest.fixture(autouse=True)
def fleet(provisioning: ProvisioningService, now: datetime) -> None:
    provisioning.add_charger(CP_A, TENANT, now, security_profile=0)
    provisioning.add_charger(CP_B, TENANT, now, security_profile=0)
    provisioning.add_charger(CP_FOREIGN, "globex", now, security_profile=0)
    provisioning.add_id_token("TAG1", TENANT, now, group=IdToken("FLEET"))
    provisioning.add_id_token("TAG2", TENANT, now)
    provisioning.add_id_token("BLOCKED", TENANT, now, status=AuthorizationStatus.BLOCKED)
    provisioning.add_id_token("OLD", TENANT, now, expiry_date=now - timedelta(days=1))


def energy(value: str, at: str, **overrides: Any) -> dict[str, Any]:
    return {
        "timestamp": at,
        "sampledValue": [
            {"value": value, "measurand": "Energy.Active.Import.Register", "unit": "Wh", **overrides}
        ],
    }


# --- StartTransaction --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "expected", "stored"),
    [
        # Unknown in the model (recorded so), which 1.6 says Invalid
        ("NOBODY", {"status": "Invalid"}, "Unknown"),
        ("BLOCKED", {"status": "Blocked"}, "Blocked"),
        ("OLD", {"status": "Expired"}, "Expired"),
        ("TAG1", {"status": "Accepted", "parentIdTag": "FLEET"}, "Accepted"),
    ],
)
async def test_an_offline_start_is_recorded_whatever_the_tag_and_answered_with_its_status(
    stack: LocalStack, engine: Engine, tag: str, expected: dict[str, str], stored: str
) -> None:
    a = await raw_charger(stack, CP_A)
    answer = await a.call("StartTransaction", a_start_transaction(idTag=tag))
    await a.socket.close()
    info = dict(answer["idTagInfo"])
    info.pop("expiryDate", None)
    assert info == expected
    assert rows(engine, "SELECT id, transaction_id, id_token, start_auth_status FROM transactions") == [
        {
            "id": answer["transactionId"],
            "transaction_id": str(answer["transactionId"]),  # a 1.6 charger's id: ours, as text
            "id_token": tag,
            "start_auth_status": stored,
        }
    ]


async def test_a_tag_in_a_transaction_on_another_charger_is_concurrent_but_still_authorised(
    stack: LocalStack,
) -> None:
    a, b = await raw_charger(stack, CP_A), await raw_charger(stack, CP_B)
    first = await a.call("StartTransaction", a_start_transaction())
    # Authorize never answers ConcurrentTx (OCPP 1.6: "only relevant for a StartTransaction.req")
    authorized = await b.call("Authorize", {"idTag": "TAG1"})
    second = await b.call("StartTransaction", a_start_transaction(timestamp="2026-11-21T10:05:00Z"))
    # a tag of the same parent group is its own identifier
    sibling = await b.call("StartTransaction", a_start_transaction(connectorId=2, idTag="TAG2"))
    await a.socket.close()
    await b.socket.close()
    assert first["idTagInfo"]["status"] == "Accepted"
    assert authorized["idTagInfo"] == {"status": "Accepted", "parentIdTag": "FLEET"}
    assert second["idTagInfo"] == {"status": "ConcurrentTx", "parentIdTag": "FLEET"}
    assert sibling["idTagInfo"] == {"status": "Accepted"}


async def test_a_retried_start_is_answered_as_the_first_time_after_the_tag_started_elsewhere(
    stack: LocalStack, engine: Engine
) -> None:
    a, b = await raw_charger(stack, CP_A), await raw_charger(stack, CP_B)
    # Given a start on A, then the same tag on B (ConcurrentTx: A's transaction is open)
    first = await a.call("StartTransaction", a_start_transaction())
    elsewhere = await b.call("StartTransaction", a_start_transaction(timestamp="2026-11-21T10:05:00Z"))
    # When A retries its start (it never saw the answer)
    retried = await a.call("StartTransaction", a_start_transaction())
    await a.socket.close()
    await b.socket.close()
    # Then the retry is the same transaction with the same answer: B's later start, not A's, is
    # the concurrent one
    assert retried == first
    assert first["idTagInfo"]["status"] == "Accepted"
    assert elsewhere["idTagInfo"]["status"] == "ConcurrentTx"
    assert rows(engine, "SELECT count(*) AS n FROM transactions") == [{"n": 2}]


async def test_a_start_on_a_connector_whose_previous_transaction_was_never_stopped_is_not_concurrent(
    stack: LocalStack, engine: Engine
) -> None:
    a = await raw_charger(stack, CP_A)
    # Given a transaction whose StopTransaction was lost (the charger gave up on it)
    lost = await a.call("StartTransaction", a_start_transaction())
    # When the same driver starts again on the same connector
    again = await a.call(
        "StartTransaction", a_start_transaction(meterStart=5000, timestamp="2026-11-21T12:00:00Z")
    )
    # but on another connector of the charger the open transaction still counts
    other_connector = await a.call(
        "StartTransaction", a_start_transaction(connectorId=2, timestamp="2026-11-21T12:01:00Z")
    )
    await a.socket.close()
    # Then the new transaction is accepted: OCPP delivers a charger's transaction messages in
    # order, so the older one on that connector has ended (the stuck-transactions job closes
    # it as superseded)
    assert again["transactionId"] != lost["transactionId"]
    assert again["idTagInfo"]["status"] == "Accepted"
    assert other_connector["idTagInfo"]["status"] == "ConcurrentTx"
    assert rows(engine, "SELECT count(*) AS n FROM transactions WHERE stop_timestamp IS NULL") == [{"n": 3}]


async def test_a_transaction_superseded_on_its_connector_no_longer_holds_the_tag_elsewhere(
    stack: LocalStack,
) -> None:
    a, b = await raw_charger(stack, CP_A), await raw_charger(stack, CP_B)
    # Given TAG1's transaction on A whose stop was lost, then another driver on that connector
    await a.call("StartTransaction", a_start_transaction())
    await a.call("StartTransaction", a_start_transaction(idTag="TAG2", timestamp="2026-11-21T12:00:00Z"))
    # When TAG1 starts on B before the stuck-transactions job has closed the old one
    started = await b.call("StartTransaction", a_start_transaction(timestamp="2026-11-21T12:30:00Z"))
    await a.socket.close()
    await b.socket.close()
    # Then it is accepted: TAG1's transaction on A has ended
    assert started["idTagInfo"]["status"] == "Accepted"


async def test_a_newer_transaction_on_the_connector_that_claims_an_earlier_start_stays_concurrent(
    stack: LocalStack,
) -> None:
    a = await raw_charger(stack, CP_A)
    await a.call("StartTransaction", a_start_transaction(timestamp="2026-11-21T12:00:00Z"))
    # A start dated before the open transaction's does not supersede it (as the stuck job says)
    earlier = await a.call("StartTransaction", a_start_transaction(timestamp="2026-11-21T11:00:00Z"))
    await a.socket.close()
    assert earlier["idTagInfo"]["status"] == "ConcurrentTx"


async def test_a_retried_start_with_a_reservation_uses_it_once(stack: LocalStack, engine: Engine) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        reservation_id, foreign_id = (
            conn.execute(
                text(
                    "INSERT INTO reservations (tenant_id, charge_point_id, evse_id, id_token, "
                    "expiry_date, status, created_at, updated_at) "
                    "VALUES (:tenant, :cp, 1, 'TAG2', :expiry, 'active', :now, :now) RETURNING id"
                ),
                {"tenant": TENANT, "cp": cp, "expiry": now + timedelta(hours=1), "now": now},
            ).scalar_one()
            for cp in (CP_A, CP_B)
        )
    a = await raw_charger(stack, CP_A)
    # TAG1 on TAG2's reservation: the charger let it end the reservation (its call, OCPP 5.13)
    start = a_start_transaction(timestamp=now.isoformat(), reservationId=reservation_id)
    first = await a.call("StartTransaction", start)
    retried = await a.call("StartTransaction", start)
    # a charger naming another charger's reservation does not use it
    foreign = await a.call(
        "StartTransaction",
        a_start_transaction(connectorId=2, idTag="TAG2", timestamp=now.isoformat(), reservationId=foreign_id),
    )
    await a.socket.close()
    assert retried == first
    assert rows(engine, "SELECT id, status, transaction_id FROM reservations ORDER BY id") == [
        {"id": reservation_id, "status": "used", "transaction_id": first["transactionId"]},
        {"id": foreign_id, "status": "active", "transaction_id": None},
    ]
    assert foreign["transactionId"] > 0
    changes = stored(engine, "ReservationStateChanged")
    assert [(e["data"]["reservationId"], e["data"]["status"]) for e in changes] == [(reservation_id, "used")]


# --- StopTransaction ---------------------------------------------------------------------------


async def test_a_charger_cannot_stop_another_chargers_transaction(stack: LocalStack, engine: Engine) -> None:
    a, b = await raw_charger(stack, CP_A), await raw_charger(stack, CP_B)
    started = await a.call("StartTransaction", a_start_transaction())
    tx = started["transactionId"]
    data = [energy("9999", "2026-11-21T10:59:00Z", context="Transaction.End")]
    answer = await b.call("StopTransaction", a_stop_transaction(tx, transactionData=data))
    await a.socket.close()
    await b.socket.close()
    assert answer == {"idTagInfo": {"status": "Accepted", "parentIdTag": "FLEET"}}
    assert rows(engine, "SELECT id, stop_timestamp, meter_stop FROM transactions") == [
        {"id": tx, "stop_timestamp": None, "meter_stop": None}
    ]
    assert rows(engine, "SELECT charge_point_id, transaction_id FROM unknown_transaction_stops") == [
        {"charge_point_id": CP_B, "transaction_id": str(tx)}
    ]
    assert rows(engine, "SELECT count(*) AS n FROM meter_samples WHERE transaction_id IS NOT NULL") == [
        {"n": 0}
    ]


async def test_a_stop_answers_for_the_stop_tag_and_keeps_what_the_charger_said(
    stack: LocalStack, engine: Engine
) -> None:
    a = await raw_charger(stack, CP_A)
    tx = (await a.call("StartTransaction", a_start_transaction(meterStart=1000)))["transactionId"]
    # stopped with another (blocked) card, a meter below the start and a time before it
    stop = a_stop_transaction(tx, idTag="BLOCKED", meterStop=900, timestamp="2026-11-21T09:59:00Z")
    answer = await a.call("StopTransaction", stop)
    again = await a.call("StopTransaction", {**stop, "meterStop": 5000})
    await a.socket.close()
    assert answer == again == {"idTagInfo": {"status": "Blocked"}}
    (row,) = rows(engine, "SELECT id_token, stop_id_token, meter_start, meter_stop FROM transactions")
    assert row == {"id_token": "TAG1", "stop_id_token": "BLOCKED", "meter_start": 1000, "meter_stop": 900}


# --- MeterValues -------------------------------------------------------------------------------


async def test_meter_values_naming_another_chargers_transaction_are_not_attached_to_it(
    stack: LocalStack, engine: Engine
) -> None:
    a, b = await raw_charger(stack, CP_A), await raw_charger(stack, CP_B)
    foreign = await raw_charger(stack, CP_FOREIGN)
    tx = (await a.call("StartTransaction", a_start_transaction()))["transactionId"]
    await a.call(
        "MeterValues",
        {"connectorId": 1, "transactionId": tx, "meterValue": [energy("1500", "2026-11-21T10:10:00Z")]},
    )
    # When another charger of the tenant, one of another tenant, and A itself with an id it never
    # got, send meter values naming transactions
    for sender, transaction_id, value in (
        (b, tx, "900000"),
        (foreign, tx, "800000"),
        (a, tx + 1000, "700000"),
    ):
        await sender.call(
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": transaction_id,
                "meterValue": [energy(value, "2026-11-21T10:20:00Z")],
            },
        )
    for socket in (a, b, foreign):
        await socket.socket.close()
    # Then every sample is stored, but only A's own sample belongs to A's transaction
    assert rows(
        engine, "SELECT charge_point_id, transaction_id, value FROM meter_samples ORDER BY value"
    ) == [
        {"charge_point_id": CP_A, "transaction_id": tx, "value": "1500"},
        {"charge_point_id": CP_A, "transaction_id": None, "value": "700000"},
        {"charge_point_id": CP_FOREIGN, "transaction_id": None, "value": "800000"},
        {"charge_point_id": CP_B, "transaction_id": None, "value": "900000"},
    ]
    events = stored(engine, "MeterValuesReceived")
    assert [(e["stationId"], e["data"]["transactionRef"]) for e in events] == [
        (CP_A, tx),
        (CP_B, None),
        (CP_FOREIGN, None),
        (CP_A, None),
    ]


async def test_a_signed_reading_next_to_its_raw_reading_keeps_both(stack: LocalStack, engine: Engine) -> None:
    # Eichrecht meters send each reading twice: the number, and the same reading signed
    a = await raw_charger(stack, CP_A)
    tx = (await a.call("StartTransaction", a_start_transaction()))["transactionId"]
    reading = {"measurand": "Energy.Active.Import.Register", "unit": "kWh", "context": "Transaction.End"}
    await a.call(
        "StopTransaction",
        a_stop_transaction(
            tx,
            transactionData=[
                {
                    "timestamp": "2026-11-21T11:00:00Z",
                    "sampledValue": [
                        {"value": "OCMF|{}|{}", "format": "SignedData", **reading},
                        {"value": "5.000", "format": "Raw", **reading},
                    ],
                }
            ],
        ),
    )
    await a.socket.close()
    assert rows(
        engine, "SELECT format, value, numeric_value, transaction_id FROM meter_samples ORDER BY format"
    ) == [
        {"format": "Raw", "value": "5.000", "numeric_value": 5.0, "transaction_id": tx},
        {"format": "SignedData", "value": "OCMF|{}|{}", "numeric_value": None, "transaction_id": tx},
    ]


async def test_a_sample_without_a_unit_is_in_wh_only_if_it_measures_energy(
    stack: LocalStack, engine: Engine
) -> None:
    a = await raw_charger(stack, CP_A)
    await a.call(
        "MeterValues",
        {
            "connectorId": 0,
            "meterValue": [
                {
                    "timestamp": "2026-11-21T10:00:00",  # no zone: UTC
                    "sampledValue": [
                        {"value": "1"},
                        {"value": "2", "measurand": "Energy.Active.Export.Register"},
                        {"value": "230", "measurand": "Voltage", "phase": "L1-N"},
                        {"value": "55", "measurand": "SoC", "location": "EV"},
                    ],
                }
            ],
        },
    )
    await a.socket.close()
    assert rows(
        engine,
        "SELECT measurand, phase, unit, location, context, format, "
        "\"timestamp\" = '2026-11-21T10:00:00Z'::timestamptz AS utc FROM meter_samples ORDER BY value",
    ) == [
        {
            "measurand": "Energy.Active.Import.Register",
            "phase": "",
            "unit": "Wh",
            "location": "Outlet",
            "context": "Sample.Periodic",
            "format": "Raw",
            "utc": True,
        },
        {
            "measurand": "Energy.Active.Export.Register",
            "phase": "",
            "unit": "Wh",
            "location": "Outlet",
            "context": "Sample.Periodic",
            "format": "Raw",
            "utc": True,
        },
        {
            "measurand": "Voltage",
            "phase": "L1-N",
            "unit": "",
            "location": "Outlet",
            "context": "Sample.Periodic",
            "format": "Raw",
            "utc": True,
        },
        {
            "measurand": "SoC",
            "phase": "",
            "unit": "",
            "location": "EV",
            "context": "Sample.Periodic",
            "format": "Raw",
            "utc": True,
        },
    ]


# --- what an independent simulator found (issue 12), fixed ---------------------------------------


async def test_a_start_answered_concurrent_tx_is_recorded_as_such(stack: LocalStack, engine: Engine) -> None:
    a, b = await raw_charger(stack, CP_A), await raw_charger(stack, CP_B)
    await a.call("StartTransaction", a_start_transaction())
    second = await b.call("StartTransaction", a_start_transaction(timestamp="2026-11-21T10:05:00Z"))
    await a.socket.close()
    await b.socket.close()
    assert second["idTagInfo"]["status"] == "ConcurrentTx"
    # What was answered is what is stored (it was stored as Accepted before), and the CSMS
    # told the charger to stop: the transaction is deauthorized
    assert rows(
        engine,
        "SELECT start_auth_status, deauthorized_at IS NOT NULL AS deauthorized FROM transactions "
        "WHERE id = :id",
        id=second["transactionId"],
    ) == [{"start_auth_status": "ConcurrentTx", "deauthorized": True}]


async def test_a_refused_start_is_not_the_tags_open_transaction(stack: LocalStack) -> None:
    a, b = await raw_charger(stack, CP_A), await raw_charger(stack, CP_B)
    # Given TAG1 charging on A, and refused on B (ConcurrentTx) while it does
    first = await a.call("StartTransaction", a_start_transaction())
    refused = await b.call("StartTransaction", a_start_transaction(timestamp="2026-11-21T10:05:00Z"))
    # When A's transaction ends and the driver starts on B's second connector
    await a.call("StopTransaction", a_stop_transaction(first["transactionId"]))
    again = await b.call(
        "StartTransaction", a_start_transaction(connectorId=2, timestamp="2026-11-21T11:05:00Z")
    )
    await a.socket.close()
    await b.socket.close()
    # Then it is accepted: the refused start on B (never stopped by B) does not hold the tag
    assert refused["idTagInfo"]["status"] == "ConcurrentTx"
    assert again["idTagInfo"]["status"] == "Accepted"


async def test_meter_values_after_the_stop_are_kept_and_flag_the_transaction_once(
    stack: LocalStack, engine: Engine
) -> None:
    a = await raw_charger(stack, CP_A)
    tx = (await a.call("StartTransaction", a_start_transaction()))["transactionId"]
    await a.call("StopTransaction", a_stop_transaction(tx, timestamp="2026-11-21T11:00:00Z"))
    # The charger goes on sending values for it, the register rising
    for minute, value in ((1, "5100"), (2, "5200"), (3, "5300")):
        at = f"2026-11-21T11:0{minute}:00Z"
        await a.call(
            "MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [energy(value, at)]}
        )
    await a.socket.close()
    # The samples are kept with the transaction, which is flagged once, with one event
    assert rows(engine, "SELECT count(*) AS n FROM meter_samples WHERE transaction_id = :tx", tx=tx) == [
        {"n": 3}
    ]
    assert rows(engine, "SELECT flag_reason FROM transactions WHERE id = :tx", tx=tx) == [
        {"flag_reason": "meter-values-after-stop"}
    ]
    [flagged] = stored(engine, "TransactionFlagged")
    assert (flagged["data"]["transactionRef"], flagged["data"]["reason"]) == (tx, "meter-values-after-stop")


async def test_a_stop_below_the_start_is_stored_as_said_and_flagged_once(
    stack: LocalStack, engine: Engine
) -> None:
    # A meter replaced or reset mid-session: meterStop below meterStart
    a = await raw_charger(stack, CP_A)
    tx = (await a.call("StartTransaction", a_start_transaction(meterStart=9000)))["transactionId"]
    await a.call("StopTransaction", a_stop_transaction(tx, meterStop=250))
    await a.socket.close()
    assert rows(
        engine, "SELECT meter_start, meter_stop, flag_reason FROM transactions WHERE id = :tx", tx=tx
    ) == [{"meter_start": 9000, "meter_stop": 250, "flag_reason": "meter-went-backwards"}]
    [flagged] = stored(engine, "TransactionFlagged")
    assert (flagged["data"]["transactionRef"], flagged["data"]["reason"]) == (tx, "meter-went-backwards")
