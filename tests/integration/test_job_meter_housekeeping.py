"""The meter-housekeeping job against the real PostgreSQL: partitions ahead of time, rows moved
out of the default partition, retention, and the daily energy rollup the energy report reads.

The job runs as of explicit times (years away from today where partitions are involved, so
no other test's rows meet them); every partition a test creates or drops is put back after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Engine, text

from csms.services.provisioning import ProvisioningService
from tests.integration.api_client import ApiClient
from tests.integration.conftest import rows
from tests.integration.test_api_reports import (  # noqa: F401 (fixtures)
    admin,
    sessions,
    tag,
    viewer,
)

pytestmark = pytest.mark.integration
V1 = "/api/v1"
REGISTER = "Energy.Active.Import.Register"
Job = Callable[..., dict[str, Any]]


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _bounds(engine: Engine) -> dict[str, str]:
    return {
        r["name"]: r["bound"]
        for r in rows(
            engine,
            "SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'meter_samples'::regclass",
        )
    }


@pytest.fixture(autouse=True)
def partitions_restored(engine: Engine) -> Iterator[None]:
    """Whatever partitions a test creates or drops, the next test finds the usual ones."""
    before = _bounds(engine)
    yield
    after = _bounds(engine)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE meter_samples"))
        for name in after.keys() - before.keys():
            conn.execute(text(f'DROP TABLE "{name}"'))
        for name in before.keys() - after.keys():
            conn.execute(text(f'CREATE TABLE "{name}" PARTITION OF meter_samples {before[name]}'))


@pytest.fixture
def job(reconfigure: Callable[..., None]) -> Job:
    """Runs meter-housekeeping as of ``now``, with settings given as CSMS_ variables."""

    def run_job(now: str, **env: str) -> dict[str, Any]:
        from csms.app.scheduled import run

        if env:
            reconfigure(**env)
        return run("meter-housekeeping", now=at(now))

    return run_job


def add_sample(
    engine: Engine,
    at_: str,
    wh: float,
    *,
    received: str,
    tx: int | None = None,
    cp: str = "CP-L",
    tenant: str = "acme",
    measurand: str = REGISTER,
) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO meter_samples (tenant_id, charge_point_id, evse_id, transaction_id, "
                '"timestamp", measurand, phase, unit, context, location, format, value, numeric_value, '
                "received_at) VALUES (:tenant, :cp, 1, :tx, :at, :measurand, '', 'Wh', 'Sample.Periodic', "
                "'Outlet', 'Raw', :value, :wh, :received)"
            ),
            {
                "tenant": tenant,
                "cp": cp,
                "tx": tx,
                "at": at(at_),
                "measurand": measurand,
                "value": str(wh),
                "wh": wh,
                "received": at(received),
            },
        )


def add_transaction(
    engine: Engine, cp: str, start: str, meter_start: int, *, received: str, tenant: str = "acme"
) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(
                text(
                    "WITH n AS (SELECT nextval(pg_get_serial_sequence('transactions', 'id')) AS id) "
                    "INSERT INTO transactions (id, transaction_id, tenant_id, charge_point_id, evse_id, "
                    "connector_id, id_token, start_auth_status, meter_start, start_timestamp, "
                    "started_received_at) SELECT n.id, n.id::text, :tenant, :cp, 1, 1, 'TAG1', 'Accepted', "
                    ":meter_start, :start, :received FROM n RETURNING id"
                ),
                {
                    "tenant": tenant,
                    "cp": cp,
                    "meter_start": meter_start,
                    "start": at(start),
                    "received": at(received),
                },
            ).scalar_one()
        )


def stop_transaction(engine: Engine, tx: int, stop: str, meter_stop: int, *, received: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE transactions SET stop_timestamp = :stop, meter_stop = :meter_stop, "
                "stopped_received_at = :received WHERE id = :tx"
            ),
            {"tx": tx, "stop": at(stop), "meter_stop": meter_stop, "received": at(received)},
        )


def where_rows_are(engine: Engine) -> dict[str, int]:
    """Rows per partition."""
    return {
        str(r["partition"]): int(str(r["n"]))
        for r in rows(
            engine,
            "SELECT tableoid::regclass::text AS partition, count(*) AS n FROM meter_samples GROUP BY 1",
        )
    }


def sample_times(engine: Engine) -> list[datetime]:
    return [
        cast(datetime, r["timestamp"])
        for r in rows(engine, 'SELECT "timestamp" FROM meter_samples ORDER BY 1')
    ]


# --- partitions ------------------------------------------------------------------------------


def test_partitions_are_created_ahead_and_a_second_run_changes_nothing(engine: Engine, job: Job) -> None:
    # When the job runs in June 2031 with the default 3 months ahead
    first = job("2031-06-15T10:00:00Z")

    # Then June to September have a partition with the month's bounds
    assert (first["partitions_created"], first["samples_moved"], first["skipped"]) == (4, 0, False)
    bounds = _bounds(engine)
    assert bounds["meter_samples_2031_06"] == (
        "FOR VALUES FROM ('2031-06-01 00:00:00+00') TO ('2031-07-01 00:00:00+00')"
    )
    assert {f"meter_samples_2031_{m:02}" for m in range(6, 10)} <= bounds.keys()
    assert "meter_samples_2031_10" not in bounds
    # with the table's indexes (the natural key dedupes there too)
    indexes = rows(engine, "SELECT indexdef FROM pg_indexes WHERE tablename = 'meter_samples_2031_07'")
    assert len(indexes) >= 5
    assert any("UNIQUE" in str(i["indexdef"]) for i in indexes)
    add_sample(engine, "2031-07-04T10:00:00Z", 1.0, received="2031-07-04T10:00:00Z")
    assert where_rows_are(engine) == {"meter_samples_2031_07": 1}

    # And running again (later the same day) creates nothing
    again = job("2031-06-15T11:00:00Z")
    assert (again["partitions_created"], again["samples_moved"]) == (0, 0)

    # And more months ahead is a setting
    further = job("2031-06-15T12:00:00Z", CSMS_METER_PARTITIONS_AHEAD="5")
    assert further["partitions_created"] == 2
    assert {"meter_samples_2031_10", "meter_samples_2031_11"} <= _bounds(engine).keys()


def test_rows_waiting_in_the_default_partition_move_into_their_new_month(engine: Engine, job: Job) -> None:
    # Given rows of months without a partition: they wait in the default partition
    times = [
        "2012-12-31T23:59:59Z",  # before the window
        "2013-02-01T00:00:00Z",
        "2013-02-14T12:00:00Z",
        "2013-02-28T23:59:59.999999Z",
        "2013-03-01T00:00:00Z",
        "2013-03-31T10:00:00Z",
        "2013-08-01T00:00:00Z",  # beyond the window
    ]
    for i, t in enumerate(times):
        add_sample(engine, t, float(i), received=t)
    assert where_rows_are(engine) == {"meter_samples_default": 7}
    before = rows(engine, 'SELECT * FROM meter_samples ORDER BY "timestamp"')

    # When the job runs in February 2013
    result = job("2013-02-10T08:00:00Z")

    # Then February to May have partitions and February's and March's rows moved into them
    assert (result["partitions_created"], result["samples_moved"]) == (4, 5)
    assert where_rows_are(engine) == {
        "meter_samples_default": 2,
        "meter_samples_2013_02": 3,
        "meter_samples_2013_03": 2,
    }
    # every row as it was
    assert rows(engine, 'SELECT * FROM meter_samples ORDER BY "timestamp"') == before

    # And a second run has nothing left to move
    again = job("2013-02-10T09:00:00Z")
    assert (again["partitions_created"], again["samples_moved"]) == (0, 0)
    assert len(sample_times(engine)) == 7


def test_a_run_while_another_one_holds_the_lock_does_nothing(engine: Engine, job: Job) -> None:
    with engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(hashtext('csms:meter-housekeeping'))"))
        busy = job("2014-01-10T00:00:00Z")
        holder.execute(text("SELECT pg_advisory_unlock(hashtext('csms:meter-housekeeping'))"))
        holder.commit()
    assert busy["skipped"] is True
    assert busy["partitions_created"] == 0
    assert "meter_samples_2014_01" not in _bounds(engine)

    done = job("2014-01-10T00:05:00Z")
    assert (done["skipped"], done["partitions_created"]) == (False, 4)


# --- retention -------------------------------------------------------------------------------


def test_retention_drops_old_months_deletes_older_rows_and_keeps_the_rest(engine: Engine, job: Job) -> None:
    # Given partitions for January to April 2012, and samples around them
    others = {name for name in _bounds(engine) if "2012" not in name}
    assert job("2012-01-15T00:00:00Z")["partitions_created"] == 4
    times = [
        "2011-11-20T10:00:00Z",  # default partition, old
        "2012-01-10T10:00:00Z",
        "2012-02-10T10:00:00Z",
        "2012-03-10T10:00:00Z",
        "2012-04-09T23:59:59Z",  # just before the cutoff
        "2012-04-10T00:00:00Z",  # the cutoff itself: kept
        "2012-04-20T10:00:00Z",
        "2012-05-03T10:00:00Z",  # default partition until May's is created
        "2012-12-24T10:00:00Z",  # default partition, newer
    ]
    for i, t in enumerate(times):
        add_sample(engine, t, float(i), received=t)

    # When the job runs on 10 May 2012 keeping 30 days
    result = job("2012-05-10T12:00:00Z", CSMS_METER_RETENTION_DAYS="30")

    # Then the cutoff is midnight 30 days before: January to March are dropped whole, and the
    # older rows of April and of the default partition are deleted
    assert result["retention_cutoff"] == "2012-04-10T00:00:00+00:00"
    assert (result["partitions_dropped"], result["samples_deleted"]) == (3, 2)
    assert (result["partitions_created"], result["samples_moved"]) == (4, 1)
    bounds = _bounds(engine)
    assert not {"meter_samples_2012_01", "meter_samples_2012_02", "meter_samples_2012_03"} & bounds.keys()
    assert {"meter_samples_2012_04", "meter_samples_2012_05"} <= bounds.keys()
    assert sample_times(engine) == [at(t) for t in times[5:]]
    assert where_rows_are(engine) == {
        "meter_samples_2012_04": 2,
        "meter_samples_2012_05": 1,
        "meter_samples_default": 1,
    }
    # the other months' partitions are untouched
    assert others <= bounds.keys()

    # And a second run finds nothing more to remove
    again = job("2012-05-10T13:00:00Z")
    assert (again["partitions_dropped"], again["samples_deleted"]) == (0, 0)
    assert len(sample_times(engine)) == 4


# --- the daily energy rollup -----------------------------------------------------------------

RANGES: list[dict[str, str]] = [
    {"from": "2026-03-19T00:00:00Z", "to": "2026-03-24T00:00:00Z"},
    {"from": "2026-03-20T00:00:00Z", "to": "2026-03-23T00:00:00Z"},
    {"from": "2026-03-20T00:00:00Z", "to": "2026-03-23T00:00:00Z", "stationId": "CP-E2"},
    {"from": "2026-03-20T00:00:00Z", "to": "2026-03-23T00:00:00Z", "locationId": "L-1"},
    {"from": "2026-03-21T00:00:00Z", "to": "2026-03-22T00:00:00Z"},
]
#: Ranges with a partial day (computed live from the raw samples) and whole days.
PARTIAL_RANGES: list[dict[str, str]] = [
    {"from": "2026-03-20T12:00:00Z", "to": "2026-03-23T06:00:00Z"},
    {"from": "2026-03-21T00:00:00Z", "to": "2026-03-21T01:00:00Z"},
    {"from": "2026-03-20T23:30:00Z", "to": "2026-03-22T00:30:00Z", "stationId": "CP-E1"},
]


def energy(client: ApiClient, params: dict[str, str]) -> Any:
    reply = client.get(f"{V1}/reports/energy", **params)
    assert reply.status == 200, reply.body
    return reply.body


async def test_the_rollup_gives_the_reports_numbers_and_outlives_the_raw_samples(
    sessions: None,  # noqa: F811
    viewer: ApiClient,  # noqa: F811
    engine: Engine,
    job: Job,
) -> None:
    # Given the sessions of the report tests (19-23 March 2026), reported live
    live = [energy(viewer, p) for p in RANGES + PARTIAL_RANGES]
    assert live[0]["totals"] == {"energyWh": 21500.0, "sessionCount": 5}

    # When the job runs early on the 24th
    result = job("2026-03-24T03:00:00Z")

    # Then the tenant's days from its first session to yesterday are rolled up
    assert (result["days_rolled_up"], result["days_pending"]) == (5, 0)
    days = rows(engine, "SELECT tenant_id, day::text AS day FROM energy_rollup_days ORDER BY day")
    assert [(d["tenant_id"], d["day"]) for d in days] == [("acme", f"2026-03-{d}") for d in range(19, 24)]
    cells = rows(
        engine,
        "SELECT charge_point_id, day::text AS day, energy_wh, session_count FROM energy_rollup ORDER BY 2, 1",
    )
    assert [tuple(c.values()) for c in cells] == [
        ("CP-E2", "2026-03-19", 7000.0, 1),
        ("CP-E1", "2026-03-20", 4000.0, 1),
        ("CP-E1", "2026-03-21", 8000.0, 1),
        ("CP-E2", "2026-03-22", 1500.0, 2),
        ("CP-E2", "2026-03-23", 1000.0, 0),
    ]
    # and every report, whole days or not, says what it said
    assert [energy(viewer, p) for p in RANGES + PARTIAL_RANGES] == live

    # When retention (1 day) then deletes every raw sample before the 23rd
    samples = len(sample_times(engine))
    assert samples > 0
    removed = job("2026-03-24T04:00:00Z", CSMS_METER_RETENTION_DAYS="1")
    assert removed["retention_cutoff"] == "2026-03-23T00:00:00+00:00"
    assert removed["samples_deleted"] == samples
    assert sample_times(engine) == []

    # Then the reports over whole days are still right: they read the rollup
    assert [energy(viewer, p) for p in RANGES] == live[: len(RANGES)]
    # (computed live, the 20th would now be 4500 Wh: the readings that bent its curve are gone)
    evening = energy(viewer, {"from": "2026-03-20T12:00:00Z", "to": "2026-03-21T00:00:00Z"})
    assert evening["totals"]["energyWh"] == 4500.0


async def test_late_frames_are_rolled_up_again_on_the_next_run(
    provisioning: ProvisioningService,
    viewer: ApiClient,  # noqa: F811
    engine: Engine,
    job: Job,
) -> None:
    now = datetime.now(UTC)
    provisioning.add_charger("CP-L", "acme", now, security_profile=0)
    provisioning.add_charger("CP-M", "acme", now, security_profile=0)
    week = {"from": "2027-05-09T00:00:00Z", "to": "2027-05-16T00:00:00Z"}

    # Given a session on the 9th (CP-M) and one started on the 10th at 22:00 (CP-L), open,
    # with a reading of 1000 Wh at 23:00
    done = add_transaction(engine, "CP-M", "2027-05-09T10:00:00Z", 0, received="2027-05-09T10:00:01Z")
    stop_transaction(engine, done, "2027-05-09T11:00:00Z", 500, received="2027-05-09T11:00:01Z")
    tx = add_transaction(engine, "CP-L", "2027-05-10T22:00:00Z", 0, received="2027-05-10T22:00:01Z")
    add_sample(engine, "2027-05-10T23:00:00Z", 1000, tx=tx, received="2027-05-10T23:00:01Z")

    # When the job runs early on the 11th: the 9th and the 10th are rolled up
    first = job("2027-05-11T03:00:00Z")
    assert first["days_rolled_up"] == 2

    def by_day() -> dict[str, float]:
        return {d["date"]: d["energyWh"] for d in energy(viewer, week)["days"]}

    assert by_day() == {"2027-05-09": 500.0, "2027-05-10": 1000.0}

    # When a reading of 3000 Wh at 01:00 on the 11th arrives late, on the 12th: the curve from
    # 23:00 to 01:00 puts half of its 2000 Wh on the 10th
    add_sample(engine, "2027-05-11T01:00:00Z", 3000, tx=tx, received="2027-05-12T10:00:00Z")
    # (until the next run the report reads the 10th from the rollup)
    assert by_day()["2027-05-10"] == 1000.0

    # Then the next run (on the 14th: the 10th is no longer among the days rechecked anyway)
    # rolls the 10th up again, and not the 9th
    computed = {
        str(r["day"]): r["computed_at"]
        for r in rows(engine, "SELECT day, computed_at FROM energy_rollup_days")
    }
    second = job("2027-05-14T03:00:00Z")
    assert second["days_rolled_up"] == 4  # the 10th again; the 11th to the 13th for the first time
    after = {
        str(r["day"]): r["computed_at"]
        for r in rows(engine, "SELECT day, computed_at FROM energy_rollup_days")
    }
    assert after["2027-05-09"] == computed["2027-05-09"]
    assert after["2027-05-10"] == at("2027-05-14T03:00:00Z")
    assert by_day() == {"2027-05-09": 500.0, "2027-05-10": 2000.0, "2027-05-11": 1000.0}

    # When the StopTransaction arrives on the 15th (stopped at 02:00 on the 11th, 5000 Wh)
    stop_transaction(engine, tx, "2027-05-11T02:00:00Z", 5000, received="2027-05-15T08:00:00Z")

    # Then the next run rolls up the session's days again (the 10th and the 11th) and the
    # session adds up to its meter values
    third = job("2027-05-16T03:00:00Z")
    assert third["days_rolled_up"] == 2 + 2  # the 10th and 11th again; the 14th and 15th
    report = energy(viewer, week)
    assert by_day() == {"2027-05-09": 500.0, "2027-05-10": 2000.0, "2027-05-11": 3000.0}
    assert report["totals"] == {"energyWh": 5500.0, "sessionCount": 2}
    # the session's days add up to meterStop - meterStart
    rolled = rows(engine, "SELECT sum(energy_wh) AS wh FROM energy_rollup WHERE charge_point_id = 'CP-L'")
    assert rolled[0]["wh"] == 5000.0


async def test_retention_waits_until_the_rollup_has_the_days(
    provisioning: ProvisioningService,
    viewer: ApiClient,  # noqa: F811
    engine: Engine,
    job: Job,
) -> None:
    provisioning.add_charger("CP-L", "acme", datetime.now(UTC), security_profile=0)
    tx = add_transaction(engine, "CP-L", "2015-03-01T10:00:00Z", 0, received="2015-03-01T10:00:00Z")
    add_sample(engine, "2015-03-01T11:00:00Z", 4000, tx=tx, received="2015-03-01T11:00:00Z")
    stop_transaction(engine, tx, "2015-03-01T12:00:00Z", 6000, received="2015-03-01T12:00:00Z")
    day = {"from": "2015-03-01T10:30:00Z", "to": "2015-03-02T00:00:00Z"}
    assert energy(viewer, day)["totals"]["energyWh"] == 4000.0

    # When the job may only roll up one day per run: the newest (the 9th); the 1st waits
    first = job("2015-03-10T03:00:00Z", CSMS_METER_RETENTION_DAYS="2", CSMS_METER_ROLLUP_MAX_DAYS_PER_RUN="1")

    # Then retention waits for it: nothing is deleted
    assert (first["days_rolled_up"], first["days_pending"]) == (1, 8)
    assert first["retention_cutoff"] == "2015-03-01T00:00:00+00:00"
    assert first["samples_deleted"] == 0
    assert len(sample_times(engine)) == 1

    # When later runs have caught up
    caught_up = job("2015-03-10T04:00:00Z", CSMS_METER_ROLLUP_MAX_DAYS_PER_RUN="366")
    assert (caught_up["days_rolled_up"], caught_up["days_pending"]) == (8 + 1, 0)  # + the recheck

    # Then the samples go, and the whole day still reports its energy
    assert caught_up["retention_cutoff"] == "2015-03-08T00:00:00+00:00"
    assert caught_up["samples_deleted"] == 1
    whole = energy(viewer, {"from": "2015-03-01T00:00:00Z", "to": "2015-03-02T00:00:00Z"})
    assert whole["totals"] == {"energyWh": 6000.0, "sessionCount": 1}


async def test_a_day_reads_the_same_from_the_rollup_at_its_edges(
    provisioning: ProvisioningService,
    viewer: ApiClient,  # noqa: F811
    engine: Engine,
    job: Job,
) -> None:
    # Given a session that starts and stops at midnight with 100 Wh (a jump at one instant
    # counts on the day it happened), the tenant's first: its day is rolled up on its own
    provisioning.add_charger("CP-L", "acme", datetime.now(UTC), security_profile=0)
    tx = add_transaction(engine, "CP-L", "2016-04-02T00:00:00Z", 0, received="2016-04-02T00:00:00Z")
    stop_transaction(engine, tx, "2016-04-02T00:00:00Z", 100, received="2016-04-02T00:00:00Z")
    ranges = [
        {"from": "2016-04-01T00:00:00Z", "to": "2016-04-03T00:00:00Z"},
        {"from": "2016-04-02T00:00:00Z", "to": "2016-04-03T00:00:00Z"},
        {"from": "2016-04-01T12:00:00Z", "to": "2016-04-02T12:00:00Z"},
    ]
    live = [energy(viewer, r) for r in ranges]
    assert [r["totals"] for r in live] == [{"energyWh": 100.0, "sessionCount": 1}] * 3

    assert job("2016-04-05T00:00:00Z")["days_rolled_up"] == 3
    assert [energy(viewer, r) for r in ranges] == live
