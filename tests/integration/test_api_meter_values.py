"""The REST API's meter value series, for a transaction and a connector, raw and per bucket.

A simulated charger runs a 30-minute session with samples every 5 minutes (energy register,
power, three-phase current, a signed reading and the EV's state of charge); a month of
one-minute samples is written directly to PostgreSQL for the volume cases.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import call
from sqlalchemy import Engine, text

from csms.local.stack import LocalStack
from tests.integration.api_client import ApiClient, Reply
from tests.integration.charger import SimulatedCharger, connected

pytestmark = pytest.mark.integration
V1 = "/api/v1"
EAIR = "Energy.Active.Import.Register"
ENERGY = (1000, 1200, 1400, 1700, 2000, 2300)  # Wh at 10:00, 10:05 ... 10:25
POWER = (7000, 7200, 7400, 7000, 6800, 7100)  # W
CURRENT = {"L1": (10, 12, 14, 16, 18, 20), "L2": (11, 13, 15, 17, 19, 21), "L3": (9, 9, 9, 9, 9, 9)}
STARTED = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def at(minutes: int) -> str:
    return iso(STARTED + timedelta(minutes=minutes))


def sampled(value: object, measurand: str, unit: str, **qualifiers: str) -> dict[str, Any]:
    return {"value": str(value), "measurand": measurand, "unit": unit, **qualifiers}


async def meter_values(
    cp: SimulatedCharger, transaction_id: int | None, when: str, *values: dict[str, Any]
) -> None:
    await cp.call(
        call.MeterValues(
            connector_id=1,
            transaction_id=transaction_id,
            meter_value=[{"timestamp": when, "sampledValue": list(values)}],
        )
    )


@pytest.fixture
def admin(api: ApiClient) -> ApiClient:
    return api.as_("acme", "admin")


@pytest.fixture
def viewer(api: ApiClient) -> ApiClient:
    return api.as_("acme", "viewer")


@pytest.fixture
async def session(admin: ApiClient, stack: LocalStack) -> int:
    """Connector 1 of CP-M: a sample outside any transaction at 09:50, then a session
    10:00-10:30 sampled every 5 minutes, closed with a Transaction.End register reading."""
    assert admin.post(f"{V1}/stations", {"id": "CP-M", "securityProfile": 0}).status == 201
    assert admin.post(f"{V1}/id-tokens", {"idToken": "TAG1"}).status == 201
    async with connected(stack, "CP-M") as cp:
        await meter_values(cp, None, at(-10), sampled(990, EAIR, "Wh", context="Sample.Clock"))
        started = await cp.call(
            call.StartTransaction(connector_id=1, id_tag="TAG1", meter_start=1000, timestamp=at(0))
        )
        tx = int(started.transaction_id)
        for i in range(6):
            await meter_values(
                cp,
                tx,
                at(5 * i),
                sampled(ENERGY[i], EAIR, "Wh"),
                sampled(POWER[i], "Power.Active.Import", "W"),
                *(sampled(CURRENT[phase][i], "Current.Import", "A", phase=phase) for phase in CURRENT),
            )
        await meter_values(cp, tx, at(12), sampled("0A1B2C", EAIR, "Wh", format="SignedData"))
        await meter_values(cp, tx, at(15), sampled(42, "SoC", "Percent", location="EV"))
        await cp.call(
            call.StopTransaction(
                meter_stop=3000,
                timestamp=at(30),
                transaction_id=tx,
                transaction_data=[
                    {
                        "timestamp": at(30),
                        "sampledValue": [sampled(3000, EAIR, "Wh", context="Transaction.End")],
                    }
                ],
            )
        )
    return tx


def series_of(reply: Reply) -> list[dict[str, Any]]:
    assert reply.status == 200, reply.body
    return reply.body["series"]  # type: ignore[no-any-return]


def raw(minutes: int, value: object, *, context: str = "Sample.Periodic", fmt: str = "Raw") -> dict[str, Any]:
    numeric = float(value) if fmt == "Raw" else None  # type: ignore[arg-type]
    return {
        "timestamp": at(minutes),
        "value": str(value),
        "numericValue": numeric,
        "context": context,
        "format": fmt,
    }


def bucket(minutes: int, low: float, high: float, avg: float, last: float, count: int) -> dict[str, Any]:
    return {"timestamp": at(minutes), "min": low, "max": high, "avg": avg, "last": last, "count": count}


def test_raw_energy_series_of_a_transaction(session: int, viewer: ApiClient) -> None:
    # When a viewer asks for the transaction's meter values, with the defaults
    everything = viewer.get(f"{V1}/transactions/{session}/meter-values")
    # Then every measurand sampled comes back: one series per measurand, phase, unit and location
    assert [(s["measurand"], s["phase"], s["location"], len(s["points"])) for s in series_of(everything)] == [
        ("Current.Import", "L1", "Outlet", 6),
        ("Current.Import", "L2", "Outlet", 6),
        ("Current.Import", "L3", "Outlet", 6),
        (EAIR, None, "Outlet", 8),
        ("Power.Active.Import", None, "Outlet", 6),
        ("SoC", None, "EV", 1),
    ]
    # and asked for the energy register, each of its samples, oldest first, as sent
    reply = viewer.get(f"{V1}/transactions/{session}/meter-values", measurand=EAIR)
    assert reply.body == {
        "from": None,
        "to": None,
        "bucket": None,
        "series": [
            {
                "measurand": EAIR,
                "phase": None,
                "unit": "Wh",
                "location": "Outlet",
                "points": [
                    raw(0, 1000),
                    raw(5, 1200),
                    raw(10, 1400),
                    raw(12, "0A1B2C", fmt="SignedData"),
                    raw(15, 1700),
                    raw(20, 2000),
                    raw(25, 2300),
                    raw(30, 3000, context="Transaction.End"),
                ],
            }
        ],
    }


def test_bucketed_energy_series_of_a_transaction(session: int, viewer: ApiClient) -> None:
    reply = viewer.get(f"{V1}/transactions/{session}/meter-values", measurand=EAIR, bucket="15m")
    assert reply.body["bucket"] == "15m"
    # The signed reading has no numeric value: it is left out of the buckets
    assert series_of(reply) == [
        {
            "measurand": EAIR,
            "phase": None,
            "unit": "Wh",
            "location": "Outlet",
            "points": [
                bucket(0, 1000, 1400, 1200, 1400, 3),
                bucket(15, 1700, 2300, 2000, 2300, 3),
                bucket(30, 3000, 3000, 3000, 3000, 1),
            ],
        }
    ]


def test_measurands_and_phases(session: int, viewer: ApiClient) -> None:
    path = f"{V1}/transactions/{session}/meter-values"
    # Several measurands, as a comma list: one series per measurand, phase, unit and location
    several = series_of(viewer.get(path, measurand="Current.Import,Power.Active.Import,SoC", bucket="15m"))
    assert [(s["measurand"], s["phase"], s["unit"], s["location"]) for s in several] == [
        ("Current.Import", "L1", "A", "Outlet"),
        ("Current.Import", "L2", "A", "Outlet"),
        ("Current.Import", "L3", "A", "Outlet"),
        ("Power.Active.Import", None, "W", "Outlet"),
        ("SoC", None, "Percent", "EV"),
    ]
    assert [s["points"] for s in several] == [
        [bucket(0, 10, 14, 12, 14, 3), bucket(15, 16, 20, 18, 20, 3)],
        [bucket(0, 11, 15, 13, 15, 3), bucket(15, 17, 21, 19, 21, 3)],
        [bucket(0, 9, 9, 9, 9, 3), bucket(15, 9, 9, 9, 9, 3)],
        [bucket(0, 7000, 7400, 7200, 7400, 3), bucket(15, 6800, 7100, 6966.666666666667, 7100, 3)],
        [bucket(15, 42, 42, 42, 42, 1)],
    ]
    # The same measurand repeated as parameters, and one phase
    repeated = viewer.request("GET", f"{path}?measurand=Current.Import&measurand={EAIR}&phase=L2")
    assert [(s["measurand"], s["phase"]) for s in series_of(repeated)] == [("Current.Import", "L2")]
    assert [p["value"] for p in series_of(repeated)[0]["points"]] == ["11", "13", "15", "17", "19", "21"]
    # phase=none: only samples without a phase
    unphased = series_of(
        viewer.request("GET", f"{path}?measurand=Current.Import,Power.Active.Import&phase=none")
    )
    assert [(s["measurand"], s["phase"]) for s in unphased] == [("Power.Active.Import", None)]
    assert series_of(viewer.get(path, measurand="Voltage")) == []


def test_time_range_of_a_transaction(session: int, viewer: ApiClient) -> None:
    path = f"{V1}/transactions/{session}/meter-values"
    # A range that starts inside a bucket: the bucket keeps its aligned start, with what is in range
    reply = viewer.get(path, measurand=EAIR, bucket="15m", **{"from": at(7), "to": at(30)})
    assert (reply.body["from"], reply.body["to"]) == (at(7), at(30))
    assert series_of(reply)[0]["points"] == [
        bucket(0, 1400, 1400, 1400, 1400, 1),
        bucket(15, 1700, 2300, 2000, 2300, 3),
    ]
    raw_range = series_of(viewer.get(path, measurand=EAIR, **{"from": at(20)}))
    assert [p["timestamp"] for p in raw_range[0]["points"]] == [at(20), at(25), at(30)]


def test_connector_series(session: int, viewer: ApiClient) -> None:
    path = f"{V1}/stations/CP-M/evses/1/meter-values"
    window = {"from": "2026-11-21T09:00:00Z", "to": "2026-11-21T11:00:00+00:00"}
    # The connector's energy register samples include the one outside the transaction
    reply = viewer.get(path, measurand=EAIR, **window)
    assert (reply.body["from"], reply.body["to"], reply.body["bucket"]) == (
        "2026-11-21T09:00:00Z",
        "2026-11-21T11:00:00Z",
        None,
    )
    points = series_of(reply)[0]["points"]
    assert points[0] == raw(-10, 990, context="Sample.Clock")
    assert len(points) == 9
    # Hourly buckets, and daily ones aligned on midnight UTC
    hourly = series_of(viewer.get(path, measurand=EAIR, bucket="1h", **window))
    assert hourly[0]["points"] == [
        {"timestamp": "2026-11-21T09:00:00Z", "min": 990, "max": 990, "avg": 990, "last": 990, "count": 1},
        {
            "timestamp": "2026-11-21T10:00:00Z",
            "min": 1000,
            "max": 3000,
            "avg": 1800,
            "last": 3000,
            "count": 7,
        },
    ]
    daily = series_of(viewer.get(path, measurand=EAIR, bucket="1d", **window))
    assert daily[0]["points"] == [
        {
            "timestamp": "2026-11-21T00:00:00Z",
            "min": 990,
            "max": 3000,
            "avg": 1698.75,
            "last": 3000,
            "count": 8,
        }
    ]
    # Another connector of the same charger has nothing
    assert series_of(viewer.get(f"{V1}/stations/CP-M/evses/2/meter-values", **window)) == []


async def test_connector_series_defaults_to_the_last_24_hours(
    admin: ApiClient, viewer: ApiClient, stack: LocalStack
) -> None:
    admin.post(f"{V1}/stations", {"id": "CP-NOW", "securityProfile": 0})
    now = datetime.now(UTC).replace(microsecond=0)
    async with connected(stack, "CP-NOW") as cp:
        for hours_ago, value in ((25, 100), (23, 200), (1, 300)):
            await meter_values(cp, None, iso(now - timedelta(hours=hours_ago)), sampled(value, EAIR, "Wh"))
    reply = viewer.get(f"{V1}/stations/CP-NOW/evses/1/meter-values")
    assert [p["value"] for p in series_of(reply)[0]["points"]] == ["200", "300"]
    end = datetime.fromisoformat(reply.body["to"])
    assert end - datetime.fromisoformat(reply.body["from"]) == timedelta(hours=24)
    assert now <= end <= datetime.now(UTC)
    # Only from: up to now; only to: the 24 hours before it
    since = viewer.get(
        f"{V1}/stations/CP-NOW/evses/1/meter-values", **{"from": iso(now - timedelta(hours=30))}
    )
    assert [p["value"] for p in series_of(since)[0]["points"]] == ["100", "200", "300"]
    until = viewer.get(f"{V1}/stations/CP-NOW/evses/1/meter-values", to=iso(now - timedelta(hours=2)))
    assert [p["value"] for p in series_of(until)[0]["points"]] == ["100", "200"]


@pytest.fixture
def a_month_of_power(admin: ApiClient, engine: Engine) -> datetime:
    """CP-VOL connector 1: Power.Active.Import every minute of October 2026, value = minute index."""
    admin.post(f"{V1}/stations", {"id": "CP-VOL", "securityProfile": 0})
    first = datetime(2026, 10, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO meter_samples (tenant_id, charge_point_id, evse_id, timestamp, measurand, "
                "unit, context, location, format, value, numeric_value, received_at) "
                "SELECT 'acme', 'CP-VOL', 1, :first + make_interval(mins => i), 'Power.Active.Import', 'W', "
                "'Sample.Periodic', 'Outlet', 'Raw', i::text, i, now() "
                "FROM generate_series(0, 31 * 24 * 60 - 1) AS i"
            ),
            {"first": first},
        )
    return first


def test_a_month_answers_in_one_request_with_a_bucket(a_month_of_power: datetime, viewer: ApiClient) -> None:
    path = f"{V1}/stations/CP-VOL/evses/1/meter-values"
    month = {"measurand": "Power.Active.Import", "from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
    # Raw, the month is 44,640 samples: refused, naming a bucket that fits
    too_many = viewer.get(path, **month)
    assert (too_many.status, too_many.content_type) == (422, "application/problem+json")
    assert too_many.body["detail"] == (
        "the range holds 44640 samples in 1 series; one answer holds at most 10000 points: "
        "ask for bucket=5m (or a shorter range or fewer measurands)"
    )
    one_minute = viewer.get(path, bucket="1m", **month)
    assert one_minute.status == 422
    assert "bucket=5m" in one_minute.body["detail"]
    # With 5-minute buckets it answers at once: 8,928 points covering every sample
    five = series_of(viewer.get(path, bucket="5m", **month))
    assert len(five[0]["points"]) == 31 * 24 * 12
    assert sum(p["count"] for p in five[0]["points"]) == 44640
    # Hourly: exact aggregates (the value is the minute's index)
    hourly = series_of(viewer.get(path, bucket="1h", **month))[0]["points"]
    assert len(hourly) == 744
    assert hourly[0] == {
        "timestamp": "2026-10-01T00:00:00Z",
        "min": 0,
        "max": 59,
        "avg": 29.5,
        "last": 59,
        "count": 60,
    }
    assert hourly[-1] == {
        "timestamp": "2026-10-31T23:00:00Z",
        "min": 44580,
        "max": 44639,
        "avg": 44609.5,
        "last": 44639,
        "count": 60,
    }
    # A shorter raw range fits
    day = viewer.get(
        path,
        measurand="Power.Active.Import",
        **{"from": "2026-10-02T00:00:00Z", "to": "2026-10-03T00:00:00Z"},
    )
    assert len(series_of(day)[0]["points"]) == 1440


def test_validation_errors_name_the_parameter(session: int, admin: ApiClient) -> None:
    tx_path = f"{V1}/transactions/{session}/meter-values"
    cp_path = f"{V1}/stations/CP-M/evses/1/meter-values"
    for path, params, field in (
        (tx_path, {"measurand": "Energy"}, "measurand"),
        (tx_path, {"measurand": f"{EAIR},Bogus"}, "measurand"),
        (tx_path, {"measurand": ","}, "measurand"),
        (tx_path, {"measurand": "Voltage, SoC"}, "measurand"),  # no spaces in the list
        (tx_path, {"bucket": "30s"}, "bucket"),
        (tx_path, {"bucket": "0m"}, "bucket"),
        (tx_path, {"bucket": "1w"}, "bucket"),
        (tx_path, {"bucket": "PT5M"}, "bucket"),
        (tx_path, {"phase": "L4"}, "phase"),
        (tx_path, {"from": "2026-11-21T10:00:00"}, "from"),
        (cp_path, {"to": "later"}, "to"),
        (cp_path, {"measurand": "Power"}, "measurand"),
        (cp_path, {"to": "0001-01-01T00:00:00+01:00"}, "to"),  # before year 1 in UTC
        (f"{V1}/stations/CP-M/evses/2147483648/meter-values", {}, "evseId"),
        (f"{V1}/transactions/x/meter-values", {}, "transactionId"),
        (f"{V1}/stations/CP-M/evses/-1/meter-values", {}, "evseId"),
    ):
        reply = admin.get(path, **params)
        assert (reply.status, reply.content_type) == (422, "application/problem+json"), (path, params)
        assert reply.body["errors"][0]["field"].endswith(field), reply.body
        assert field in reply.body["detail"]
    unknown = admin.get(tx_path, measurand="Energy")
    assert "Energy.Active.Import.Register" in unknown.body["errors"][0]["message"]  # the choices are listed
    for path in (tx_path, cp_path):
        backwards = admin.get(path, **{"from": at(10), "to": at(5)})
        assert (backwards.status, backwards.body["detail"]) == (422, "from must be before to")
    too_long = admin.get(cp_path, **{"from": "2025-01-01T00:00:00Z", "to": "2026-01-03T00:00:00Z"})
    assert (too_long.status, too_long.body["detail"]) == (422, "from and to may be at most 366 days apart")


def test_missing_resources(session: int, admin: ApiClient) -> None:
    assert admin.get(f"{V1}/transactions/{session + 1}/meter-values").status == 404
    missing = admin.get(f"{V1}/stations/NOPE/evses/1/meter-values")
    assert (missing.status, missing.body["detail"]) == (404, "no station 'NOPE'")


def test_roles(session: int, api: ApiClient) -> None:
    for role in ("viewer", "operator", "admin"):
        client = api.as_("acme", role)
        assert client.get(f"{V1}/transactions/{session}/meter-values").status == 200
        assert client.get(f"{V1}/stations/CP-M/evses/1/meter-values").status == 200
    assert api.anonymous().get(f"{V1}/transactions/{session}/meter-values").status == 401
    assert api.anonymous().get(f"{V1}/stations/CP-M/evses/1/meter-values").status == 401


def test_other_tenants_get_404(session: int, api: ApiClient) -> None:
    other = api.as_("globex", "admin")
    window = {"from": "2026-11-21T09:00:00Z", "to": "2026-11-21T11:00:00Z"}
    for path in (
        f"{V1}/transactions/{session}/meter-values",
        f"{V1}/stations/CP-M/evses/1/meter-values",
    ):
        reply = other.get(path, bucket="1h", **window)
        assert (reply.status, reply.body["title"]) == (404, "Not found")
