"""The REST API's reports, over sessions and status reports of simulated chargers.

Every timestamp in the reports comes from the chargers' payloads, so the values are exact.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import call

from csms.local.stack import LocalStack
from csms.services.provisioning import ProvisioningService
from tests.integration.api_client import ApiClient, Reply
from tests.integration.charger import SimulatedCharger, connected

pytestmark = pytest.mark.integration
V1 = "/api/v1"
DAY_20, DAY_21, DAY_22, DAY_23 = (f"2026-03-{d}T00:00:00Z" for d in (20, 21, 22, 23))


@pytest.fixture
def admin(api: ApiClient) -> ApiClient:
    return api.as_("acme", "admin")


@pytest.fixture
def viewer(api: ApiClient) -> ApiClient:
    return api.as_("acme", "viewer")


@pytest.fixture
def tag(provisioning: ProvisioningService) -> str:
    provisioning.add_id_token("TAG1", "acme", datetime.now(UTC))
    return "TAG1"


def assert_problem(reply: Reply, status: int, field: str | None = None) -> None:
    assert (reply.status, reply.content_type) == (status, "application/problem+json"), reply.body
    if field is not None:
        assert field in reply.body["detail"], reply.body


def register(value: str, **overrides: Any) -> dict[str, Any]:
    return {"value": value, "measurand": "Energy.Active.Import.Register", "unit": "Wh", **overrides}


async def start(cp: SimulatedCharger, at: str, meter_start: int, connector: int = 1) -> int:
    started = await cp.call(
        call.StartTransaction(connector_id=connector, id_tag="TAG1", meter_start=meter_start, timestamp=at)
    )
    return int(started.transaction_id)


async def sample(cp: SimulatedCharger, tx: int, at: str, *values: dict[str, Any], connector: int = 1) -> None:
    await cp.call(
        call.MeterValues(
            connector_id=connector,
            transaction_id=tx,
            meter_value=[{"timestamp": at, "sampledValue": list(values)}],
        )
    )


async def stop(cp: SimulatedCharger, tx: int, at: str, meter_stop: int) -> None:
    await cp.call(call.StopTransaction(transaction_id=tx, meter_stop=meter_stop, timestamp=at))


async def status(cp: SimulatedCharger, connector: int, value: str, at: str) -> None:
    await cp.call(
        call.StatusNotification(connector_id=connector, error_code="NoError", status=value, timestamp=at)
    )


@pytest.fixture
async def sessions(admin: ApiClient, stack: LocalStack, tag: str) -> None:
    """Given sessions on two chargers around 20-22 March 2026 (UTC):

    CP-E1 (at location L-1), connector 1: 20th 22:00 → 21st 02:00, 1000 → 10000 Wh; readings
      3000 at 23:00 and 5 kWh at midnight, a glitch (2000) at 00:30, 9000 at 01:00; plus a
      phase reading and a power sample that do not count. So 4000 Wh on the 20th, 5000 Wh on the 21st.
    CP-E1, connector 2: 21st 10:00 → 12:00, 0 → 3000 Wh, no readings.
    CP-E2: 22nd 23:00 → 23rd 01:00, 500 → 2500 Wh, no readings (half on the 22nd); an open
      session from the 22nd 10:00 at 100 Wh, last reading 600 Wh at 11:00; and a session on the
      19th, before the range.
    """
    assert admin.post(f"{V1}/locations", {"id": "L-1", "name": "Depot"}).status == 201
    station = {"id": "CP-E1", "locationId": "L-1", "securityProfile": 0}
    assert admin.post(f"{V1}/stations", station).status == 201
    assert admin.post(f"{V1}/stations", {"id": "CP-E2", "securityProfile": 0}).status == 201
    async with connected(stack, "CP-E1") as cp:
        tx = await start(cp, "2026-03-20T22:00:00Z", 1000)
        await sample(cp, tx, "2026-03-20T23:00:00Z", register("3000"), register("999999", phase="L1"))
        await sample(
            cp,
            tx,
            "2026-03-20T23:30:00Z",
            {"value": "11000", "measurand": "Power.Active.Import", "unit": "W"},
        )
        await sample(cp, tx, "2026-03-21T00:00:00Z", register("5.000", unit="kWh"))
        await sample(cp, tx, "2026-03-21T00:30:00Z", register("2000"))
        await sample(cp, tx, "2026-03-21T01:00:00Z", register("9000"))
        await stop(cp, tx, "2026-03-21T02:00:00Z", 10000)
        second = await start(cp, "2026-03-21T10:00:00Z", 0, connector=2)
        await stop(cp, second, "2026-03-21T12:00:00Z", 3000)
    async with connected(stack, "CP-E2") as cp:
        before = await start(cp, "2026-03-19T10:00:00Z", 0)
        await stop(cp, before, "2026-03-19T11:00:00Z", 7000)
        overnight = await start(cp, "2026-03-22T23:00:00Z", 500)
        await stop(cp, overnight, "2026-03-23T01:00:00Z", 2500)
        open_tx = await start(cp, "2026-03-22T10:00:00Z", 100, connector=2)
        await sample(cp, open_tx, "2026-03-22T11:00:00Z", register("600"), connector=2)


def day(date: str, energy_wh: float, sessions: int) -> dict[str, Any]:
    return {"date": date, "energyWh": energy_wh, "sessionCount": sessions}


async def test_energy_per_charger_and_day(sessions: None, viewer: ApiClient) -> None:
    report = viewer.get(f"{V1}/reports/energy", **{"from": DAY_20, "to": DAY_23})
    assert report.status == 200
    assert report.body == {
        "from": DAY_20,
        "to": DAY_23,
        "stations": [
            {
                "stationId": "CP-E1",
                "locationId": "L-1",
                "energyWh": 12000.0,
                "sessionCount": 2,
                "days": [day("2026-03-20", 4000.0, 1), day("2026-03-21", 8000.0, 1)],
            },
            {
                "stationId": "CP-E2",
                "locationId": None,
                "energyWh": 1500.0,
                "sessionCount": 2,
                "days": [day("2026-03-22", 1500.0, 2)],
            },
        ],
        "days": [day("2026-03-20", 4000.0, 1), day("2026-03-21", 8000.0, 1), day("2026-03-22", 1500.0, 2)],
        "totals": {"energyWh": 13500.0, "sessionCount": 4},
    }


async def test_energy_filters_and_partial_days(sessions: None, viewer: ApiClient) -> None:
    by_charger = viewer.get(f"{V1}/reports/energy", stationId="CP-E2", **{"from": DAY_20, "to": DAY_23})
    assert [c["stationId"] for c in by_charger.body["stations"]] == ["CP-E2"]
    assert by_charger.body["totals"] == {"energyWh": 1500.0, "sessionCount": 2}

    by_location = viewer.get(f"{V1}/reports/energy", locationId="L-1", **{"from": DAY_20, "to": DAY_23})
    assert [c["stationId"] for c in by_location.body["stations"]] == ["CP-E1"]
    assert by_location.body["totals"] == {"energyWh": 12000.0, "sessionCount": 2}

    # An hour after midnight: the energy delivered then, the session started the day before
    first_hour = viewer.get(f"{V1}/reports/energy", **{"from": DAY_21, "to": "2026-03-21T01:00:00Z"})
    assert first_hour.body["stations"][0]["days"] == [day("2026-03-21", 4000.0, 0)]
    assert first_hour.body["totals"] == {"energyWh": 4000.0, "sessionCount": 0}

    # 00:30-01:30 (asked in another time zone): the glitch at 00:30 counts as 5000 Wh, so
    # 4000 Wh to 01:00, then half of the 1000 Wh spread evenly from 01:00 to 02:00
    half = viewer.get(
        f"{V1}/reports/energy", **{"from": "2026-03-21T01:30:00+01:00", "to": "2026-03-21T01:30:00Z"}
    )
    assert half.body["from"] == "2026-03-21T00:30:00Z"
    assert half.body["totals"] == {"energyWh": 4500.0, "sessionCount": 0}

    # The 23rd: the rest of the overnight session; the open one has no reading after the 22nd
    after = viewer.get(f"{V1}/reports/energy", **{"from": DAY_23, "to": "2026-03-24T00:00:00Z"})
    assert after.body["stations"] == [
        {
            "stationId": "CP-E2",
            "locationId": None,
            "energyWh": 1000.0,
            "sessionCount": 0,
            "days": [day("2026-03-23", 1000.0, 0)],
        }
    ]

    # Nothing in a quiet range
    quiet = viewer.get(
        f"{V1}/reports/energy", **{"from": "2026-02-01T00:00:00Z", "to": "2026-02-02T00:00:00Z"}
    )
    assert (quiet.body["stations"], quiet.body["days"]) == ([], [])
    assert quiet.body["totals"] == {"energyWh": 0.0, "sessionCount": 0}


async def test_utilisation_per_connector(admin: ApiClient, viewer: ApiClient, stack: LocalStack) -> None:
    # Given the status reports of two connectors (and of the charger, connector 0)
    assert admin.post(f"{V1}/stations", {"id": "CP-U", "securityProfile": 0}).status == 201
    assert admin.post(f"{V1}/stations", {"id": "CP-U2", "securityProfile": 0}).status == 201
    async with connected(stack, "CP-U") as cp:
        await status(cp, 0, "Available", "2026-03-21T00:00:00Z")
        for at, value in [
            ("2026-03-20T20:00:00Z", "Available"),  # before the range: holds from its start
            ("2026-03-21T02:00:00Z", "Preparing"),
            ("2026-03-21T02:10:00Z", "Charging"),
            ("2026-03-21T04:10:00Z", "SuspendedEV"),
            ("2026-03-21T04:40:00Z", "Charging"),
            ("2026-03-21T05:10:00Z", "Finishing"),
            ("2026-03-21T05:20:00Z", "Available"),
            ("2026-03-22T01:00:00Z", "Charging"),  # after the range
        ]:
            await status(cp, 1, value, at)
        # Connector 2 reports for the first time at noon (and out of order)
        await status(cp, 2, "Available", "2026-03-21T18:00:00Z")
        await status(cp, 2, "Charging", "2026-03-21T12:00:00Z")
    async with connected(stack, "CP-U2") as cp:
        await status(cp, 1, "Charging", "2026-03-20T23:00:00Z")

    # When a viewer asks for the 21st
    report = viewer.get(f"{V1}/reports/utilisation", **{"from": DAY_21, "to": DAY_22})

    # Then each connector's charging share of the day
    assert report.status == 200
    assert report.body == {
        "from": DAY_21,
        "to": DAY_22,
        "connectors": [
            {
                "stationId": "CP-U",
                "evseId": 1,
                "connectorId": 1,
                "chargingSeconds": 9000.0,
                "occupiedSeconds": 12000.0,
                "unknownSeconds": 0.0,
                "rangeSeconds": 86400.0,
                "utilisation": 0.104167,
            },
            {
                "stationId": "CP-U",
                "evseId": 2,  # 1.6 connector 2: EVSE 2, connector 1
                "connectorId": 1,
                "chargingSeconds": 21600.0,
                "occupiedSeconds": 21600.0,
                "unknownSeconds": 43200.0,
                "rangeSeconds": 86400.0,
                "utilisation": 0.25,
            },
            {
                "stationId": "CP-U2",
                "evseId": 1,
                "connectorId": 1,
                "chargingSeconds": 86400.0,
                "occupiedSeconds": 86400.0,
                "unknownSeconds": 0.0,
                "rangeSeconds": 86400.0,
                "utilisation": 1.0,
            },
        ],
        "totals": {"chargingSeconds": 117000.0, "rangeSeconds": 259200.0, "utilisation": 0.451389},
    }
    # And the filter keeps one charger's connectors
    only = viewer.get(f"{V1}/reports/utilisation", stationId="CP-U", **{"from": DAY_21, "to": DAY_22})
    assert [c["evseId"] for c in only.body["connectors"]] == [1, 2]
    assert only.body["totals"] == {
        "chargingSeconds": 30600.0,
        "rangeSeconds": 172800.0,
        "utilisation": 0.177083,
    }
    # And a range within one status: Charging from 03:00 to 04:00
    hour = viewer.get(
        f"{V1}/reports/utilisation",
        stationId="CP-U",
        **{"from": "2026-03-21T03:00:00Z", "to": "2026-03-21T04:00:00Z"},
    )
    assert hour.body["connectors"][0]["chargingSeconds"] == 3600.0
    assert hour.body["connectors"][0]["utilisation"] == 1.0
    assert hour.body["connectors"][1]["unknownSeconds"] == 3600.0


async def test_utilisation_counts_only_the_elapsed_part(
    admin: ApiClient, viewer: ApiClient, stack: LocalStack
) -> None:
    assert admin.post(f"{V1}/stations", {"id": "CP-NOW", "securityProfile": 0}).status == 201
    an_hour_ago = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    async with connected(stack, "CP-NOW") as cp:
        await status(cp, 1, "Charging", an_hour_ago.isoformat())
    tomorrow = an_hour_ago + timedelta(days=1)
    report = viewer.get(
        f"{V1}/reports/utilisation", **{"from": an_hour_ago.isoformat(), "to": tomorrow.isoformat()}
    )
    (connector,) = report.body["connectors"]
    assert 3600 <= connector["rangeSeconds"] < 3700
    assert connector["chargingSeconds"] == connector["rangeSeconds"]
    assert connector["utilisation"] == 1.0
    ahead = viewer.get(f"{V1}/reports/utilisation", **{"from": (tomorrow + timedelta(days=1)).isoformat()})
    assert ahead.status == 422  # to defaults to the end of today: before from
    future = viewer.get(
        f"{V1}/reports/utilisation",
        **{"from": tomorrow.isoformat(), "to": (tomorrow + timedelta(days=1)).isoformat()},
    )
    assert future.body["connectors"] == []
    assert future.body["totals"] == {"chargingSeconds": 0.0, "rangeSeconds": 0.0, "utilisation": None}


def test_default_range_is_the_last_30_days(viewer: ApiClient) -> None:
    today = datetime.now(UTC).date()
    end = datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(days=1)
    for report in ("energy", "utilisation"):
        got = viewer.get(f"{V1}/reports/{report}")
        assert got.status == 200
        assert (got.body["from"], got.body["to"]) == (
            (end - timedelta(days=30)).isoformat().replace("+00:00", "Z"),
            end.isoformat().replace("+00:00", "Z"),
        )
        only_to = viewer.get(f"{V1}/reports/{report}", to=DAY_22)
        assert only_to.body["from"] == "2026-02-20T00:00:00Z"


@pytest.mark.parametrize("report", ["energy", "utilisation"])
@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"from": DAY_22, "to": DAY_21}, 422, "from"),
        ({"from": DAY_21, "to": DAY_21}, 422, "from"),
        ({"from": "2025-03-19T00:00:00Z", "to": DAY_21}, 422, "366 days"),
        ({"from": "2026-03-21T00:00:00", "to": DAY_22}, 422, "from"),
        ({"from": "yesterday"}, 422, "from"),
        ({"from": "1774000000"}, 422, "ISO 8601"),
        ({"to": "0.5"}, 422, "to"),
        ({"to": "2026-13-01T00:00:00Z"}, 422, "to"),
        ({"stationId": "bad id"}, 422, "stationId"),
        ({"locationId": "-bad"}, 422, "locationId"),
        ({"stationId": "NOPE"}, 404, "NOPE"),
        ({"locationId": "NOPE"}, 404, "NOPE"),
    ],
)
def test_invalid_report_requests(
    viewer: ApiClient, report: str, params: dict[str, str], status: int, field: str
) -> None:
    assert_problem(viewer.get(f"{V1}/reports/{report}", **params), status, field)


def test_a_range_of_366_days_is_fine(viewer: ApiClient) -> None:
    got = viewer.get(f"{V1}/reports/energy", **{"from": "2025-03-21T00:00:00Z", "to": DAY_22})
    assert got.status == 200


async def test_roles_and_tenants(api: ApiClient, sessions: None) -> None:
    window = {"from": DAY_20, "to": DAY_23}
    for role in ("viewer", "operator", "admin"):
        assert api.as_("acme", role).get(f"{V1}/reports/energy", **window).status == 200
        assert api.as_("acme", role).get(f"{V1}/reports/utilisation", **window).status == 200
    assert_problem(api.anonymous().get(f"{V1}/reports/energy"), 401)
    other = api.as_("globex", "admin")
    energy = other.get(f"{V1}/reports/energy", **window)
    assert (energy.body["stations"], energy.body["totals"]["sessionCount"]) == ([], 0)
    assert other.get(f"{V1}/reports/utilisation", **window).body["connectors"] == []
    assert_problem(other.get(f"{V1}/reports/energy", stationId="CP-E1", **window), 404)
    assert_problem(other.get(f"{V1}/reports/energy", locationId="L-1", **window), 404)
    assert_problem(other.get(f"{V1}/reports/utilisation", stationId="CP-E1", **window), 404)


async def test_a_transaction_the_csms_refused_is_no_charging_session(
    admin: ApiClient, viewer: ApiClient, stack: LocalStack, tag: str
) -> None:
    # Given a session on TAG1 and, beside it, a start the CSMS refused (unknown tag) that the
    # charger nevertheless ran to its stop
    assert admin.post(f"{V1}/stations", {"id": "CP-REF", "securityProfile": 0}).status == 201
    async with connected(stack, "CP-REF") as cp:
        charged = await start(cp, "2026-03-21T10:00:00Z", 0)
        await stop(cp, charged, "2026-03-21T11:00:00Z", 2000)
        refused = await cp.call(
            call.StartTransaction(
                connector_id=2, id_tag="NOBODY", meter_start=0, timestamp="2026-03-21T12:00:00Z"
            )
        )
        await stop(cp, int(refused.transaction_id), "2026-03-21T12:10:00Z", 500)
    # When the day's energy report is read
    report = viewer.get(f"{V1}/reports/energy", **{"from": DAY_21, "to": DAY_22})
    # Then one session (the refused start is none), and all the energy the charger delivered
    assert refused.id_tag_info["status"] == "Invalid"
    assert report.body["totals"] == {"energyWh": 2500.0, "sessionCount": 1}
