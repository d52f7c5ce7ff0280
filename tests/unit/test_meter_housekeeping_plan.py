"""The meter-housekeeping job's planning rules and the energy report's split between the
rollup and live computation (pure functions; the SQL side is tested against PostgreSQL in
tests/integration/test_job_meter_housekeeping.py)."""

from __future__ import annotations

from datetime import date, datetime

from csms.data.reports import live_ranges, whole_days
from csms.services.meter_housekeeping import (
    add_months,
    chunks,
    partition_months,
    plan_rollup,
    retention_cutoff,
)
from csms.settings import Settings


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def d(day: int, month: int = 3) -> date:
    return date(2026, month, day)


def test_months_ahead_roll_over_the_year() -> None:
    assert add_months(date(2026, 11, 1), 3) == date(2027, 2, 1)
    assert add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert partition_months(at("2026-12-31T23:59:59Z"), 2) == [
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]
    assert partition_months(at("2027-01-01T00:30:00+01:00"), 0) == [date(2026, 12, 1)]  # UTC


def test_days_are_computed_in_runs_of_consecutive_days() -> None:
    assert chunks([d(5), d(1), d(2), d(3), d(7), d(2)], size=2) == [
        (d(1), d(3)),
        (d(3), d(4)),
        (d(5), d(6)),
        (d(7), d(8)),
    ]
    assert chunks([]) == []


def test_the_plan_takes_every_dirty_day_the_newest_missing_ones_and_the_recheck_window() -> None:
    plan, left = plan_rollup(
        today=d(20),
        first_days={"a": d(1), "b": d(19), "c": d(20)},
        missing={"a": [d(1), d(2), d(3), d(18)], "b": [d(19)]},
        dirty={"a": [d(10)]},
        recheck_days=2,
        max_missing=2,
        final_before=None,
    )
    assert plan == {"a": [d(3), d(10), d(18), d(19)], "b": [d(19)]}
    assert left == {"a": [d(1), d(2)]}


def test_final_days_are_not_rechecked() -> None:
    plan, _ = plan_rollup(
        today=d(20),
        first_days={"a": d(1)},
        missing={"a": [d(2)]},
        dirty={},
        recheck_days=3,
        max_missing=10,
        final_before=d(18),
    )
    assert plan == {"a": [d(2), d(18), d(19)]}  # a missing day is rolled up even when final


def test_the_retention_cutoff_is_midnight_and_waits_for_the_rollup() -> None:
    keep_30 = Settings(meter_retention_days=30)
    assert retention_cutoff(keep_30, d(10, 5), {}) == at("2026-04-10T00:00:00Z")
    assert retention_cutoff(keep_30, d(10, 5), {"a": [d(2), d(3)], "b": []}) == at("2026-03-02T00:00:00Z")
    assert retention_cutoff(Settings(meter_retention_days=0), d(10, 5), {}) is None  # 0 keeps forever
    assert retention_cutoff(Settings(), d(10, 5), {}) == at("2026-02-09T00:00:00Z")  # 90 days by default


def test_whole_days_of_a_range() -> None:
    assert whole_days(at("2026-03-20T00:00:00Z"), at("2026-03-23T00:00:00Z")) == (d(20), d(23))
    assert whole_days(at("2026-03-20T00:00:01Z"), at("2026-03-22T23:00:00Z")) == (d(21), d(22))
    assert whole_days(at("2026-03-20T01:00:00+02:00"), at("2026-03-21T00:00:00Z")) == (d(20), d(21))
    first, stop = whole_days(at("2026-03-20T06:00:00Z"), at("2026-03-20T08:00:00Z"))
    assert first >= stop


def test_the_report_computes_live_only_what_the_rollup_does_not_cover() -> None:
    start, end = at("2026-03-20T12:00:00Z"), at("2026-03-25T06:00:00Z")
    assert live_ranges(start, end, []) == [(start, end)]
    assert live_ranges(start, end, [d(21), d(22), d(24)]) == [
        (start, at("2026-03-21T00:00:00Z")),
        (at("2026-03-23T00:00:00Z"), at("2026-03-24T00:00:00Z")),
        (at("2026-03-25T00:00:00Z"), end),
    ]
    whole = at("2026-03-21T00:00:00Z"), at("2026-03-23T00:00:00Z")
    assert live_ranges(*whole, [d(21), d(22)]) == []
    assert live_ranges(*whole, [d(22)]) == [(whole[0], at("2026-03-22T00:00:00Z"))]
