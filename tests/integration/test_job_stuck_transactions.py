"""The stuck-transactions job against the local stack: transactions made by a real charger,
PostgreSQL as it is, events checked against the catalogue. Time is the job's ``now``; where
a transaction must look old, the time the CSMS received its start is moved into the past."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import call
from sqlalchemy import Engine, text

from csms.app.scheduled import run
from csms.domain.events import iso
from csms.local.stack import LocalStack
from csms.services.provisioning import ProvisioningService
from tests.integration.api_client import ApiClient
from tests.integration.charger import SimulatedCharger, connected
from tests.integration.conftest import rows
from tests.integration.event_helpers import stored

pytestmark = pytest.mark.integration

TENANT = "acme"
CP = "STUCK-1"
IDLE = timedelta(hours=24)
GRACE = timedelta(minutes=15)


@pytest.fixture
def now() -> datetime:
    """Whole seconds: charger timestamps travel as ISO strings with milliseconds."""
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(autouse=True)
def charger(provisioning: ProvisioningService, now: datetime) -> str:
    provisioning.add_charger(CP, TENANT, now, security_profile=0)
    for tag in ("TAG-A", "TAG-B", "TAG-C", "TAG-D"):
        provisioning.add_id_token(tag, TENANT, now)
    return CP


def z(moment: datetime) -> str:
    return iso(moment)


async def start(cp: SimulatedCharger, connector: int, tag: str, at: datetime, meter_start: int = 1000) -> int:
    started = await cp.call(
        call.StartTransaction(connector_id=connector, id_tag=tag, meter_start=meter_start, timestamp=z(at))
    )
    return int(started.transaction_id)


async def register(
    cp: SimulatedCharger, connector: int, transaction_id: int, at: datetime, **sample: Any
) -> None:
    """One MeterValues frame with one sampled value (an energy register reading by default)."""
    value = {"measurand": "Energy.Active.Import.Register", "unit": "Wh", **sample}
    await cp.call(
        call.MeterValues(
            connector_id=connector,
            transaction_id=transaction_id,
            meter_value=[{"timestamp": z(at), "sampledValue": [value]}],
        )
    )


def received_at(engine: Engine, transaction_id: int, at: datetime) -> None:
    """As if the CSMS had received the transaction's start at ``at``."""
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE transactions SET started_received_at = :at WHERE id = :id"),
            {"at": at, "id": transaction_id},
        )


def job(now: datetime) -> dict[str, Any]:
    return run("stuck-transactions", now=now)


async def run_job(now: datetime) -> dict[str, Any]:
    return await asyncio.to_thread(job, now)


def transaction(engine: Engine, transaction_id: int) -> dict[str, Any]:
    (row,) = rows(
        engine,
        "SELECT id, meter_start, meter_stop, start_timestamp, stop_timestamp, stop_reason, stop_id_token, "
        "closed_by, flagged_at, flag_reason FROM transactions WHERE id = :id",
        id=transaction_id,
    )
    return row


def counts(engine: Engine) -> tuple[object, object]:
    (row,) = rows(
        engine,
        "SELECT (SELECT count(*) FROM transactions) AS transactions, "
        "(SELECT count(*) FROM meter_samples) AS samples",
    )
    return row["transactions"], row["samples"]


async def test_an_idle_transaction_is_flagged_once(
    stack: LocalStack, engine: Engine, api: ApiClient, now: datetime
) -> None:
    began = now - timedelta(hours=30)
    async with connected(stack, CP) as cp:
        # Given three transactions the charger started 30 hours ago: one silent since, one
        # with a meter value just now, one whose connector just reported a status
        silent = await start(cp, 1, "TAG-A", began)
        metered = await start(cp, 2, "TAG-B", began)
        reported = await start(cp, 3, "TAG-C", began)
        await register(cp, 2, metered, now, value="4200")
        await cp.call(
            call.StatusNotification(
                connector_id=3, error_code="NoError", status="SuspendedEV", timestamp=z(now)
            )
        )
    for transaction_id in (silent, metered, reported):
        received_at(engine, transaction_id, began)
    before = counts(engine)

    # When the job runs an hour from now: only the silent one is flagged
    result = await run_job(now + timedelta(hours=1))

    assert (result["flagged_idle"], result["flagged_rebooted"], result["closed"]) == (1, 0, 0)
    flagged = transaction(engine, silent)
    assert (flagged["flag_reason"], flagged["flagged_at"]) == ("no-activity", now + timedelta(hours=1))
    assert flagged["stop_timestamp"] is None  # flagged, not closed
    assert transaction(engine, metered)["flagged_at"] is None
    assert transaction(engine, reported)["flagged_at"] is None
    (event,) = stored(engine, "TransactionFlagged")
    assert (event["tenantId"], event["stationId"]) == (TENANT, CP)
    assert event["data"] == {
        "transactionRef": silent,
        "transactionId": str(silent),
        "evseId": 1,
        "connectorId": 1,
        "idToken": {"idToken": "TAG-A", "type": None},
        "startTimestamp": iso(began),
        "reason": "no-activity",
        "lastActivityAt": iso(began),
    }

    # A second run flags nothing again; 24 h after their last activity the others are flagged
    assert (await run_job(now + timedelta(hours=2)))["flagged_idle"] == 0
    assert (await run_job(now + IDLE - timedelta(seconds=1)))["flagged_idle"] == 0
    assert (await run_job(now + IDLE + timedelta(minutes=1)))["flagged_idle"] == 2
    assert transaction(engine, silent)["flagged_at"] == now + timedelta(hours=1)
    events = stored(engine, "TransactionFlagged")
    assert sorted(e["data"]["transactionRef"] for e in events) == sorted([silent, metered, reported])
    later = {e["data"]["transactionRef"]: e["data"]["lastActivityAt"] for e in events[1:]}
    assert all(at >= iso(now)[:19] for at in later.values())
    assert counts(engine) == before  # nothing deleted

    # Operators find them: flagged, with why and when
    viewer = api.as_(TENANT, "viewer")
    page = viewer.get("/api/v1/transactions", flagged="true").body
    assert sorted(item["id"] for item in page["items"]) == sorted([silent, metered, reported])
    assert {item["flagReason"] for item in page["items"]} == {"no-activity"}
    one = viewer.get(f"/api/v1/transactions/{silent}").body
    assert (one["flagReason"], one["open"], one["closedBy"]) == ("no-activity", True, None)
    assert one["flaggedAt"].startswith(iso(now + timedelta(hours=1))[:19])
    assert viewer.get("/api/v1/transactions", flagged="false").body["total"] == 0


async def test_a_transaction_left_open_by_a_reboot_is_flagged_after_the_grace(
    stack: LocalStack, engine: Engine, now: datetime
) -> None:
    async with connected(stack, CP) as cp:
        # Given a transaction open when the charger rebooted, one it resumed after the boot
        # (meter values keep coming), one it stopped with a queued StopTransaction after
        # the boot, and one it started after the boot
        left_open = await start(cp, 1, "TAG-A", now - timedelta(minutes=40))
        resumed = await start(cp, 2, "TAG-B", now - timedelta(minutes=40))
        stopped = await start(cp, 3, "TAG-C", now - timedelta(minutes=40))
        await cp.call(call.BootNotification(charge_point_model="Fast-22", charge_point_vendor="Acme"))
        await cp.call(
            call.StopTransaction(
                meter_stop=1500,
                timestamp=z(now - timedelta(minutes=30)),
                transaction_id=stopped,
                reason="Reboot",
            )
        )
        await register(cp, 2, resumed, now, value="1800")
        after = await start(cp, 4, "TAG-D", now)
    (charger,) = rows(engine, "SELECT last_boot_at FROM charge_points WHERE id = :id", id=CP)
    booted: datetime = charger["last_boot_at"]  # type: ignore[assignment]

    # Within the grace the charger may still deliver its queued stops: nothing is flagged
    assert (await run_job(booted + GRACE - timedelta(seconds=1)))["flagged_rebooted"] == 0
    assert stored(engine, "TransactionFlagged") == []

    # After it, the transaction it left open is flagged, once
    result = await run_job(booted + GRACE)
    assert (await run_job(booted + GRACE + timedelta(minutes=15)))["flagged_rebooted"] == 0

    assert result["flagged_rebooted"] == 1
    flagged = transaction(engine, left_open)
    assert (flagged["flag_reason"], flagged["flagged_at"], flagged["stop_timestamp"]) == (
        "charger-rebooted",
        booted + GRACE,
        None,
    )
    for other in (resumed, stopped, after):
        assert transaction(engine, other)["flagged_at"] is None
    (event,) = stored(engine, "TransactionFlagged")
    assert event["data"]["transactionRef"] == left_open
    assert event["data"]["reason"] == "charger-rebooted"
    assert event["data"]["startTimestamp"] == iso(now - timedelta(minutes=40))


async def test_a_superseded_transaction_is_closed_by_the_csms(
    stack: LocalStack, engine: Engine, api: ApiClient, now: datetime
) -> None:
    began = now - timedelta(hours=2)
    async with connected(stack, CP) as cp:
        # Given a transaction whose StopTransaction the charger lost, with its energy register
        # read in Wh and kWh (a phase's register, the inlet's and the power are not the total)
        lost = await start(cp, 1, "TAG-A", began, meter_start=1000)
        await register(cp, 1, lost, began + timedelta(minutes=10), value="1500")
        await register(cp, 1, lost, began + timedelta(minutes=20), value="2.6", unit="kWh")
        await register(cp, 1, lost, began + timedelta(minutes=25), value="9000", phase="L1")
        await register(cp, 1, lost, began + timedelta(minutes=26), value="2700", location="Inlet")
        await register(
            cp,
            1,
            lost,
            began + timedelta(minutes=27),
            value="11000",
            measurand="Power.Active.Import",
            unit="W",
        )
        # one without any register reading, and an open one on another connector
        unread = await start(cp, 3, "TAG-C", began, meter_start=500)
        elsewhere = await start(cp, 2, "TAG-B", began)
        # and then newer transactions on connectors 1 and 3
        newer = await start(cp, 1, "TAG-D", now - timedelta(hours=1), meter_start=2600)
        newest_on_3 = await start(cp, 3, "TAG-A", now - timedelta(minutes=30), meter_start=500)
    before = counts(engine)

    result = await run_job(now)

    assert result["closed"] == 2
    closed = transaction(engine, lost)
    assert {
        k: closed[k] for k in ("meter_stop", "stop_timestamp", "stop_reason", "stop_id_token", "closed_by")
    } == {
        "meter_stop": 2600,
        "stop_timestamp": now - timedelta(hours=1),
        "stop_reason": "Other",
        "stop_id_token": None,
        "closed_by": "csms",
    }
    assert (transaction(engine, unread)["meter_stop"], transaction(engine, unread)["closed_by"]) == (
        500,
        "csms",
    )
    assert transaction(engine, unread)["stop_timestamp"] == now - timedelta(minutes=30)
    for still_open in (elsewhere, newer, newest_on_3):
        assert transaction(engine, still_open)["stop_timestamp"] is None
    assert counts(engine) == before  # nothing deleted

    stops = {e["data"]["transactionRef"]: e for e in stored(engine, "TransactionStopped")}
    assert sorted(stops) == sorted([lost, unread])
    assert stops[lost]["data"] == {
        "transactionRef": lost,
        "transactionId": str(lost),
        "protocol": "ocpp1.6",
        "evseId": 1,
        "connectorId": 1,
        "idToken": {"idToken": "TAG-A", "type": None},
        "meterStart": 1000,
        "startTimestamp": iso(began),
        "reservationId": None,
        "remoteStartId": None,
        "meterStop": 2600,
        "stopTimestamp": iso(now - timedelta(hours=1)),
        "reason": "Other",
        "stopIdToken": None,
        "energyWh": 1600,
        "closedBy": "csms",
        "deauthorized": False,
    }
    assert stops[unread]["data"]["energyWh"] == 0

    # A second run closes nothing more
    assert (await run_job(now))["closed"] == 0
    assert len(stored(engine, "TransactionStopped")) == 2

    # Operators see who closed it
    viewer = api.as_(TENANT, "viewer")
    one = viewer.get(f"/api/v1/transactions/{lost}").body
    assert (one["closedBy"], one["stopReason"], one["meterStop"], one["energyWh"]) == (
        "csms",
        "Other",
        2600,
        1600,
    )
    by_csms = viewer.get("/api/v1/transactions", closedBy="csms").body
    assert sorted(item["id"] for item in by_csms["items"]) == sorted([lost, unread])
    assert viewer.get("/api/v1/transactions", closedBy="charger").body["total"] == 0


async def test_a_newer_transaction_that_claims_an_earlier_start_closes_nothing(
    stack: LocalStack, engine: Engine, now: datetime
) -> None:
    # A charger whose clock went backwards: its next start is not certain to follow the
    # open transaction, so the open one is left to the flagging rules
    async with connected(stack, CP) as cp:
        first = await start(cp, 1, "TAG-A", now - timedelta(hours=1))
        await start(cp, 1, "TAG-B", now - timedelta(hours=3))

    assert (await run_job(now))["closed"] == 0
    assert transaction(engine, first)["stop_timestamp"] is None


async def test_the_chargers_own_stop_replaces_the_csms_close(
    stack: LocalStack, engine: Engine, now: datetime
) -> None:
    async with connected(stack, CP) as cp:
        lost = await start(cp, 1, "TAG-A", now - timedelta(hours=2))
        await start(cp, 1, "TAG-B", now - timedelta(hours=1))
        assert (await run_job(now))["closed"] == 1
        # When the charger's StopTransaction arrives after all
        await cp.call(
            call.StopTransaction(
                meter_stop=3300,
                timestamp=z(now - timedelta(minutes=90)),
                transaction_id=lost,
                reason="EVDisconnected",
                id_tag="TAG-A",
            )
        )
    # Then its values win
    stopped = transaction(engine, lost)
    assert (stopped["meter_stop"], stopped["stop_timestamp"], stopped["stop_reason"]) == (
        3300,
        now - timedelta(minutes=90),
        "EVDisconnected",
    )
    assert stopped["closed_by"] is None  # the charger closed it
    # and the correction is its own event, not a second TransactionStopped (no double billing)
    [closed] = [e for e in stored(engine, "TransactionStopped") if e["data"]["transactionRef"] == lost]
    assert closed["data"]["closedBy"] == "csms"
    [corrected] = stored(engine, "TransactionStopCorrected")
    assert corrected["data"]["transactionRef"] == lost
    assert (corrected["data"]["meterStop"], corrected["data"]["closedBy"]) == (3300, "charger")
    assert corrected["data"]["previousMeterStop"] == closed["data"]["meterStop"]
    assert corrected["data"]["energyWh"] - corrected["data"]["previousEnergyWh"] == (
        3300 - closed["data"]["meterStop"]
    )


async def test_one_transaction_that_cannot_be_closed_does_not_stop_the_run(
    stack: LocalStack, engine: Engine, api: ApiClient, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from csms.data.stuck_transactions import PgStuckTransactions

    began = now - timedelta(hours=30)
    async with connected(stack, CP) as cp:
        # Given two superseded transactions and an idle one on another connector
        poisoned = await start(cp, 1, "TAG-A", began)
        closable = await start(cp, 3, "TAG-C", began)
        idle = await start(cp, 2, "TAG-B", began)
        await start(cp, 1, "TAG-D", now - timedelta(hours=1))
        await start(cp, 3, "TAG-A", now - timedelta(minutes=30))
    received_at(engine, idle, began)
    # and closing the first one fails every time (a row PostgreSQL refuses, a deadlock)
    close = PgStuckTransactions.close

    def failing_close(self: PgStuckTransactions, candidate: Any, at: datetime) -> Any:
        if candidate.transaction_id == poisoned:
            raise RuntimeError("this row cannot be closed")
        return close(self, candidate, at)

    monkeypatch.setattr(PgStuckTransactions, "close", failing_close)

    # When the job runs: the others are still closed and flagged, the failure is counted
    result = await run_job(now)

    assert (result["closed"], result["flagged_idle"], result["errors"]) == (1, 1, 1)
    assert transaction(engine, poisoned)["stop_timestamp"] is None
    assert transaction(engine, closable)["closed_by"] == "csms"
    assert transaction(engine, idle)["flag_reason"] == "no-activity"
    # and once the row can be closed, the next run closes it
    monkeypatch.setattr(PgStuckTransactions, "close", close)
    again = await run_job(now)
    assert (again["closed"], again["errors"]) == (1, 0)
    assert transaction(engine, poisoned)["closed_by"] == "csms"


async def test_a_refused_transaction_its_charger_does_not_stop_is_flagged_after_the_grace(
    stack: LocalStack, engine: Engine, now: datetime
) -> None:
    async with connected(stack, CP) as cp:
        # Given two starts the CSMS refused (an unknown tag): one the charger stops, one it does not
        stopped = await start(cp, 1, "NOBODY", now - timedelta(minutes=2))
        await cp.call(
            call.StopTransaction(
                transaction_id=stopped, meter_stop=1000, timestamp=z(now), reason="DeAuthorized"
            )
        )
        running = await start(cp, 2, "NOBODY", now - timedelta(minutes=1))
        # and an accepted one, open
        accepted = await start(cp, 3, "TAG-B", now - timedelta(minutes=1))
    # Within the grace nothing is flagged; after it, only the refused one still running
    assert (await run_job(now + GRACE - timedelta(minutes=1)))["flagged_deauthorized"] == 0
    result = await run_job(now + GRACE + timedelta(minutes=1))
    assert result["flagged_deauthorized"] == 1
    assert transaction(engine, running)["flag_reason"] == "deauthorized-not-stopped"
    assert transaction(engine, stopped)["flagged_at"] is None
    assert transaction(engine, accepted)["flagged_at"] is None
    assert [e["data"]["reason"] for e in stored(engine, "TransactionFlagged")] == ["deauthorized-not-stopped"]
    # and a second run flags it no more
    assert (await run_job(now + GRACE + timedelta(minutes=2)))["flagged_deauthorized"] == 0
