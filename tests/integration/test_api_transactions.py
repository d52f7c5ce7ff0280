"""The REST API's transactions and unknown-transaction stops, with sessions run by simulated
chargers through the local stack."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import call

from csms.local.stack import LocalStack
from tests.integration.api_client import ApiClient
from tests.integration.charger import SimulatedCharger, connected

pytestmark = pytest.mark.integration
V1 = "/api/v1"


@pytest.fixture
def admin(api: ApiClient) -> ApiClient:
    return api.as_("acme", "admin")


@pytest.fixture
def viewer(api: ApiClient) -> ApiClient:
    return api.as_("acme", "viewer")


@pytest.fixture
def fleet(admin: ApiClient) -> None:
    for charger in ("CP-1", "CP-2"):
        assert admin.post(f"{V1}/stations", {"id": charger, "securityProfile": 0}).status == 201
    for tag in ("TAG1", "TAG2", "TAG3"):
        assert admin.post(f"{V1}/id-tokens", {"idToken": tag}).status == 201
    assert admin.post(f"{V1}/id-tokens", {"idToken": "BLOCKED", "status": "Blocked"}).status == 201


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def start(
    cp: SimulatedCharger,
    at: str,
    *,
    connector: int = 1,
    tag: str = "TAG1",
    meter_start: int = 0,
    **extra: Any,
) -> int:
    started = await cp.call(
        call.StartTransaction(
            connector_id=connector, id_tag=tag, meter_start=meter_start, timestamp=at, **extra
        )
    )
    return int(started.transaction_id)


async def stop(cp: SimulatedCharger, transaction_id: int, at: str, meter_stop: int, **extra: Any) -> None:
    await cp.call(
        call.StopTransaction(transaction_id=transaction_id, meter_stop=meter_stop, timestamp=at, **extra)
    )


async def meter(cp: SimulatedCharger, transaction_id: int, at: str, *sampled: dict[str, Any]) -> None:
    await cp.call(
        call.MeterValues(
            connector_id=1,
            transaction_id=transaction_id,
            meter_value=[{"timestamp": at, "sampledValue": list(sampled)}],
        )
    )


def energy(value: str, **overrides: Any) -> dict[str, Any]:
    return {"value": value, "measurand": "Energy.Active.Import.Register", "unit": "Wh", **overrides}


async def test_a_closed_transaction(fleet: None, stack: LocalStack, viewer: ApiClient) -> None:
    # Given a charging session from start to stop
    async with connected(stack, "CP-1") as cp:
        tx = await start(cp, "2026-11-21T10:00:00Z", connector=2, meter_start=1000, reservation_id=7)
        await meter(cp, tx, "2026-11-21T10:30:00Z", energy("3000"))
        await stop(cp, tx, "2026-11-21T11:30:15Z", 5500, reason="EVDisconnected", id_tag="TAG2")
    # When a viewer reads it
    got = viewer.get(f"{V1}/transactions/{tx}")
    # Then energy is meterStop - meterStart and duration runs from start to stop
    assert got.status == 200
    assert got.body == {
        "id": tx,
        "transactionId": str(tx),  # a 1.6 charger's id is ours
        "protocol": "ocpp1.6",
        "stationId": "CP-1",
        "evseId": 2,  # 1.6 connector 2: EVSE 2, connector 1
        "connectorId": 1,
        "idToken": {"idToken": "TAG1", "type": None},
        "startAuthStatus": "Accepted",
        "deauthorizedAt": None,
        "reservationId": 7,
        "remoteStartId": None,
        "startedAt": "2026-11-21T10:00:00Z",
        "stoppedAt": "2026-11-21T11:30:15Z",
        "meterStart": 1000,
        "meterStop": 5500,
        "energyWh": 4500,
        "energyMeasuredAt": "2026-11-21T11:30:15Z",
        "durationSeconds": 5415,
        "chargingState": None,
        "seqNo": None,
        "offline": False,
        "stopReason": "EVDisconnected",
        "stopIdToken": {"idToken": "TAG2", "type": None},
        "open": False,
        "closedBy": "charger",
        "flaggedAt": None,
        "flagReason": None,
    }
    # its events: the StartTransaction and the StopTransaction
    events = viewer.get(f"{V1}/transactions/{tx}/events").body
    assert [(e["seqNo"], e["eventType"], e["timestamp"], e["idToken"]) for e in events] == [
        (0, "Started", "2026-11-21T10:00:00Z", {"idToken": "TAG1", "type": None}),
        (None, "Ended", "2026-11-21T11:30:15Z", {"idToken": "TAG2", "type": None}),
    ]
    assert (events[0]["idTokenStatus"], events[1]["stoppedReason"]) == ("Accepted", "EVDisconnected")
    listed = viewer.get(f"{V1}/transactions")
    assert (listed.body["total"], listed.body["items"]) == (1, [got.body])


async def test_an_open_transaction_measures_energy_from_its_latest_register_sample(
    fleet: None, stack: LocalStack, viewer: ApiClient
) -> None:
    began = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    async with connected(stack, "CP-1") as cp:
        tx = await start(cp, iso(began), meter_start=2000)
        # Before any register sample: no energy yet, duration up to now
        fresh = await asyncio.to_thread(viewer.get, f"{V1}/transactions/{tx}")
        # When samples arrive: kWh, a later per-phase register, other measurands, one from before the start
        await meter(
            cp,
            tx,
            iso(began + timedelta(minutes=2)),
            energy("2.5", unit="kWh"),
            {"value": "7400", "measurand": "Power.Active.Import", "unit": "W"},
        )
        await meter(
            cp,
            tx,
            iso(began + timedelta(minutes=4)),
            energy("2750.4"),
            energy("900", phase="L1"),
            {"value": "33", "measurand": "Current.Import", "unit": "A", "phase": "L1"},
        )
        await meter(cp, tx, iso(began + timedelta(minutes=6)), energy("99999", phase="L2"))
        await meter(cp, tx, iso(began - timedelta(minutes=1)), energy("88888"))
        measured = await asyncio.to_thread(viewer.get, f"{V1}/transactions/{tx}")
    assert fresh.status == 200
    assert (fresh.body["energyWh"], fresh.body["energyMeasuredAt"], fresh.body["open"]) == (None, None, True)
    assert (fresh.body["stoppedAt"], fresh.body["meterStop"], fresh.body["stopReason"]) == (None, None, None)
    assert 600 <= fresh.body["durationSeconds"] <= 600 + 60
    # Then energy is the latest total (no phase) register reading in Wh minus meterStart
    assert measured.body["energyWh"] == 750  # 2750.4 Wh - 2000, rounded
    assert measured.body["energyMeasuredAt"] == iso(began + timedelta(minutes=4))
    assert measured.body["durationSeconds"] >= fresh.body["durationSeconds"]


async def test_stop_reason_and_start_authorisation(fleet: None, stack: LocalStack, viewer: ApiClient) -> None:
    async with connected(stack, "CP-1") as cp:
        local = await start(cp, "2026-11-21T10:00:00Z")
        await stop(cp, local, "2026-11-21T10:01:00Z", 10)  # no reason: OCPP says that means Local
        blocked = await start(cp, "2026-11-21T11:00:00Z", tag="BLOCKED", connector=2)
        unknown = await start(cp, "2026-11-21T12:00:00Z", tag="NOBODY", connector=3)
    local_tx = viewer.get(f"{V1}/transactions/{local}").body
    assert (local_tx["stopReason"], local_tx["stopIdToken"], local_tx["energyWh"]) == ("Local", None, 10)
    assert local_tx["deauthorizedAt"] is None
    # refused starts are recorded, with the answer, as deauthorized (no charging session)
    for tx, answered in ((blocked, "Blocked"), (unknown, "Unknown")):
        refused = viewer.get(f"{V1}/transactions/{tx}").body
        assert (refused["startAuthStatus"], refused["deauthorizedAt"] is not None) == (answered, True)
    refused_ones = viewer.get(f"{V1}/transactions", deauthorized="true").body["items"]
    assert sorted(t["id"] for t in refused_ones) == sorted([blocked, unknown])
    assert [t["id"] for t in viewer.get(f"{V1}/transactions", deauthorized="false").body["items"]] == [local]


@pytest.fixture
async def sessions(fleet: None, stack: LocalStack) -> dict[str, int]:
    """Five sessions on two chargers: T1, T2, T5 closed; T3 open with a register sample, T4 open."""
    async with connected(stack, "CP-1") as cp:
        t1 = await start(cp, "2026-11-01T08:00:00Z", tag="TAG1", meter_start=0)
        await stop(cp, t1, "2026-11-01T09:00:00Z", 10_000)
        t2 = await start(cp, "2026-11-02T08:00:00Z", connector=2, tag="TAG2", meter_start=500)
        await stop(cp, t2, "2026-11-02T08:30:00Z", 2500)
        t3 = await start(cp, "2026-11-03T08:00:00Z", tag="TAG1", meter_start=10_000)
        await meter(cp, t3, "2026-11-03T09:00:00Z", energy("13000"))
    async with connected(stack, "CP-2") as cp:
        t4 = await start(cp, "2026-11-04T08:00:00Z", tag="TAG3", meter_start=0)
        t5 = await start(cp, "2026-11-05T08:00:00Z", connector=2, tag="TAG2", meter_start=100)
        await stop(cp, t5, "2026-11-05T12:00:00Z", 5100)
    return {"T1": t1, "T2": t2, "T3": t3, "T4": t4, "T5": t5}


def test_filters(sessions: dict[str, int], viewer: ApiClient) -> None:
    names = {v: k for k, v in sessions.items()}

    def matching(**params: Any) -> tuple[list[str], int]:
        reply = viewer.get(f"{V1}/transactions", **params)
        assert reply.status == 200, reply.body
        return [names[t["id"]] for t in reply.body["items"]], reply.body["total"]

    assert matching() == (["T5", "T4", "T3", "T2", "T1"], 5)
    assert matching(stationId="CP-1") == (["T3", "T2", "T1"], 3)
    assert matching(evseId=1) == (["T4", "T3", "T1"], 3)
    assert matching(stationId="CP-1", evseId=1) == (["T3", "T1"], 2)
    assert matching(stationId="CP-1", evseId=1, connectorId=1) == (["T3", "T1"], 2)
    assert matching(idToken="TAG2") == (["T5", "T2"], 2)
    assert matching(idToken="tag2") == (["T5", "T2"], 2)  # case-insensitive
    assert matching(stationId="CP-1", transactionId=str(sessions["T2"])) == (["T2"], 1)
    assert matching(protocol="ocpp1.6") == (["T5", "T4", "T3", "T2", "T1"], 5)
    assert matching(protocol="ocpp2.0.1") == ([], 0)
    assert matching(status="open") == (["T4", "T3"], 2)
    assert matching(status="closed") == (["T5", "T2", "T1"], 3)
    # from is inclusive, to exclusive, both on the start time
    assert matching(**{"from": "2026-11-02T08:00:00Z", "to": "2026-11-04T08:00:00Z"}) == (["T3", "T2"], 2)
    assert matching(**{"from": "2026-11-04T09:00:00+01:00"}) == (["T5", "T4"], 2)
    assert matching(to="2026-11-02T00:00:00Z") == (["T1"], 1)
    assert matching(stationId="CP-9") == ([], 0)
    assert matching(idToken="TAG2", status="open") == ([], 0)
    energies = {names[t["id"]]: t["energyWh"] for t in viewer.get(f"{V1}/transactions").body["items"]}
    assert energies == {"T1": 10_000, "T2": 2000, "T3": 3000, "T4": None, "T5": 5000}


def test_sort_and_pagination(sessions: dict[str, int], viewer: ApiClient) -> None:
    names = {v: k for k, v in sessions.items()}

    def order_of(**params: Any) -> list[str]:
        reply = viewer.get(f"{V1}/transactions", **params)
        assert reply.status == 200, reply.body
        return [names[t["id"]] for t in reply.body["items"]]

    assert order_of(order="asc") == ["T1", "T2", "T3", "T4", "T5"]
    # open transactions (no stop) and those without an energy figure come last either way
    assert order_of(sort="stoppedAt") == ["T5", "T2", "T1", "T4", "T3"]
    assert order_of(sort="stoppedAt", order="asc") == ["T1", "T2", "T5", "T3", "T4"]
    assert order_of(sort="energyWh") == ["T1", "T5", "T3", "T2", "T4"]
    assert order_of(sort="energyWh", order="asc") == ["T2", "T3", "T5", "T1", "T4"]
    first = viewer.get(f"{V1}/transactions", limit=2)
    assert ([names[t["id"]] for t in first.body["items"]], first.body["total"], first.body["limit"]) == (
        ["T5", "T4"],
        5,
        2,
    )
    last = viewer.get(f"{V1}/transactions", limit=2, offset=4)
    assert ([names[t["id"]] for t in last.body["items"]], last.body["total"], last.body["offset"]) == (
        ["T1"],
        5,
        4,
    )
    assert order_of(limit=2, offset=2, sort="energyWh") == ["T3", "T2"]


async def test_unknown_transaction_stops(fleet: None, stack: LocalStack, viewer: ApiClient) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    async with connected(stack, "CP-1") as cp:
        await stop(
            cp,
            999,
            "2026-11-21T10:00:00Z",
            4200,
            reason="PowerLoss",
            id_tag="TAG1",
            transaction_data=[{"timestamp": "2026-11-21T10:00:00Z", "sampledValue": [{"value": "4200"}]}],
        )
        await stop(cp, 999, "2026-11-21T10:00:00Z", 4200, reason="PowerLoss", id_tag="TAG1")  # a retry
    async with connected(stack, "CP-2") as cp:
        await stop(cp, 1000, "2026-11-21T11:00:00Z", 10)
    after = datetime.now(UTC) + timedelta(seconds=1)
    listed = viewer.get(f"{V1}/unknown-transaction-stops")
    assert listed.status == 200
    assert (listed.body["total"], [s["transactionId"] for s in listed.body["items"]]) == (2, ["1000", "999"])
    first = listed.body["items"][1]
    assert first == {
        "id": first["id"],
        "stationId": "CP-1",
        "transactionId": "999",
        "idToken": {"idToken": "TAG1", "type": None},
        "meterStop": 4200,
        "stoppedAt": "2026-11-21T10:00:00Z",
        "reason": "PowerLoss",
        "transactionData": [{"timestamp": "2026-11-21T10:00:00Z", "sampledValue": [{"value": "4200"}]}],
        "receivedAt": first["receivedAt"],
    }
    assert iso(before) <= first["receivedAt"] <= iso(after)
    assert listed.body["items"][0]["reason"] is None  # as the charger sent it
    # Filters: charger, and received time
    by_charger = viewer.get(f"{V1}/unknown-transaction-stops", stationId="CP-2").body
    assert [s["transactionId"] for s in by_charger["items"]] == ["1000"]
    in_range = viewer.get(f"{V1}/unknown-transaction-stops", **{"from": iso(before), "to": iso(after)}).body
    assert in_range["total"] == 2
    assert viewer.get(f"{V1}/unknown-transaction-stops", **{"from": iso(after)}).body["total"] == 0
    assert viewer.get(f"{V1}/unknown-transaction-stops", to=iso(before)).body["total"] == 0
    oldest_first = viewer.get(f"{V1}/unknown-transaction-stops", order="asc", limit=1).body
    assert ([s["transactionId"] for s in oldest_first["items"]], oldest_first["total"]) == (["999"], 2)
    # None of them became a transaction
    assert viewer.get(f"{V1}/transactions").body["total"] == 0


def test_missing_and_invalid(admin: ApiClient) -> None:
    missing = admin.get(f"{V1}/transactions/12345")
    assert (missing.status, missing.content_type, missing.body["title"]) == (
        404,
        "application/problem+json",
        "Not found",
    )
    for path, params, field in (
        ("/transactions/abc", {}, "transactionId"),
        ("/transactions/0", {}, "transactionId"),
        ("/transactions/2147483648", {}, "transactionId"),
        ("/transactions", {"status": "paused"}, "status"),
        ("/transactions", {"sort": "idTag"}, "sort"),
        ("/transactions", {"order": "up"}, "order"),
        ("/transactions", {"connectorId": -1}, "connectorId"),
        ("/transactions", {"connectorId": "one"}, "connectorId"),
        ("/transactions", {"connectorId": 2**31}, "connectorId"),
        ("/transactions", {"stationId": "bad id"}, "stationId"),
        ("/transactions", {"idToken": "\x00"}, "idToken"),
        ("/transactions", {"evseId": -1}, "evseId"),
        ("/transactions", {"transactionId": "x" * 37}, "transactionId"),
        ("/transactions", {"protocol": "ocpp2.0"}, "protocol"),
        ("/transactions", {"deauthorized": "maybe"}, "deauthorized"),
        ("/transactions", {"from": "9999-12-31T23:00:00-05:00"}, "from"),  # after 9998 in UTC
        ("/transactions", {"from": "2026-11-21T10:00:00"}, "from"),  # no time zone
        ("/transactions", {"to": "yesterday"}, "to"),
        ("/transactions", {"limit": 0}, "limit"),
        ("/unknown-transaction-stops", {"offset": -1}, "offset"),
        ("/unknown-transaction-stops", {"from": "soon"}, "from"),
    ):
        reply = admin.get(V1 + path, **params)
        assert (reply.status, reply.content_type) == (422, "application/problem+json"), (path, params)
        assert reply.body["errors"][0]["field"].endswith(field), reply.body
        assert field in reply.body["detail"]
    for path in ("/transactions", "/unknown-transaction-stops"):
        backwards = admin.get(V1 + path, **{"from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"})
        assert (backwards.status, backwards.body["detail"]) == (422, "from must be before to")
    assert admin.post(f"{V1}/transactions", {}).status == 405
    assert admin.delete(f"{V1}/transactions/1").status == 405


def test_roles(sessions: dict[str, int], api: ApiClient) -> None:
    for role in ("viewer", "operator", "admin"):
        client = api.as_("acme", role)
        assert client.get(f"{V1}/transactions").body["total"] == 5
        assert client.get(f"{V1}/transactions/{sessions['T1']}").status == 200
        assert client.get(f"{V1}/unknown-transaction-stops").status == 200
    for path in ("/transactions", f"/transactions/{sessions['T1']}", "/unknown-transaction-stops"):
        assert api.anonymous().get(V1 + path).status == 401


async def test_other_tenants_see_nothing(sessions: dict[str, int], stack: LocalStack, api: ApiClient) -> None:
    async with connected(stack, "CP-1") as cp:
        await stop(cp, 4242, "2026-11-21T10:00:00Z", 1)
    other = api.as_("globex", "admin")
    for transaction_id in sessions.values():
        foreign = other.get(f"{V1}/transactions/{transaction_id}")
        assert (foreign.status, foreign.body["title"]) == (404, "Not found")
    empty = {"items": [], "total": 0, "limit": 50, "offset": 0}
    assert other.get(f"{V1}/transactions").body == empty
    assert other.get(f"{V1}/transactions", stationId="CP-1").body == empty
    assert other.get(f"{V1}/transactions", idToken="TAG1").body == empty
    assert other.get(f"{V1}/unknown-transaction-stops").body == empty
    assert other.get(f"{V1}/unknown-transaction-stops", stationId="CP-1").body == empty
    assert api.as_("acme", "viewer").get(f"{V1}/unknown-transaction-stops").body["total"] == 1
