"""The id token, session and meter series services with in-memory queries (no database)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from csms.clock import FixedClock
from csms.domain.metering import BucketPoint, Extent, RawPoint, SampleFilter, SampleScope, SeriesKey
from csms.domain.tenancy import TenantScope
from csms.domain.tokens import AuthorizationStatus, IdToken, IdTokenType, StoredIdToken
from csms.domain.transactions import Transaction, TransactionRecord
from csms.errors import InvalidInput, NotFound
from csms.services.meter_series import MAX_POINTS, MeterSeriesService, bucket_label, parse_bucket
from tests.fakes import stations_where

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ENERGY = SeriesKey("Energy.Active.Import.Register", None, "Wh", "Outlet")
CURRENT_L1 = SeriesKey("Current.Import", "L1", "A", "Outlet")


def a_tag(**overrides: Any) -> StoredIdToken:
    values: dict[str, Any] = {
        "tenant_id": "acme",
        "token": IdToken("TAG1", IdTokenType.ISO14443),
        "status": AuthorizationStatus.ACCEPTED,
        "created_at": NOW,
        "updated_at": NOW,
    }
    return StoredIdToken(**{**values, **overrides})


def a_transaction(**overrides: Any) -> TransactionRecord:
    values: dict[str, Any] = {
        "id": 1,
        "transaction_id": "1",
        "tenant_id": "acme",
        "charge_point_id": "CP-1",
        "evse_id": 1,
        "connector_id": 1,
        "id_token": IdToken("TAG1"),
        "start_auth_status": AuthorizationStatus.ACCEPTED,
        "meter_start": 0,
        "start_timestamp": NOW - timedelta(minutes=30),
    }
    return TransactionRecord(Transaction(**{**values, **overrides}))


def a_raw_point(minute: int) -> RawPoint:
    return RawPoint(NOW + timedelta(minutes=minute), str(minute), float(minute), "Sample.Periodic", "Raw")


@dataclass
class FakeMeterQueries:
    rows: list[tuple[SeriesKey, RawPoint | BucketPoint]] = field(default_factory=list)
    extent_answer: Extent = field(default_factory=lambda: Extent(0, 0, None, None))
    asked: list[tuple[str, SampleScope, SampleFilter, Any]] = field(default_factory=list)

    def transaction_exists(self, tenant_id: str, transaction_id: int) -> bool:
        return (tenant_id, transaction_id) == ("acme", 7)

    def charge_point_exists(self, tenant_id: str, charge_point_id: str) -> bool:
        return (tenant_id, charge_point_id) == ("acme", "CP-1")

    def samples(self, scope: SampleScope, where: SampleFilter, limit: int) -> list[Any]:
        self.asked.append(("samples", scope, where, limit))
        return self.rows[:limit]

    def buckets(self, scope: SampleScope, where: SampleFilter, size: timedelta, limit: int) -> list[Any]:
        self.asked.append(("buckets", scope, where, size))
        return self.rows[:limit]

    def extent(self, scope: SampleScope, where: SampleFilter) -> Extent:
        return self.extent_answer


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1m", timedelta(minutes=1)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("7d", timedelta(days=7)),
    ],
)
def test_bucket_sizes_read_and_write_alike(text: str, size: timedelta) -> None:
    assert parse_bucket(text) == size
    assert bucket_label(size) == text
    assert bucket_label(timedelta(minutes=90)) == "90m"


@pytest.mark.parametrize("text", ["0m", "30s", "1w", "PT5M", "m", "10000m", " 5m"])
def test_bucket_sizes_outside_the_notation_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_bucket(text)


def test_an_accepted_tag_past_its_expiry_is_answered_expired() -> None:
    assert a_tag(expiry_date=NOW).effective_status(NOW) is AuthorizationStatus.EXPIRED
    assert a_tag(expiry_date=NOW + timedelta(seconds=1)).effective_status(NOW) is AuthorizationStatus.ACCEPTED
    blocked = a_tag(status=AuthorizationStatus.BLOCKED, expiry_date=NOW - timedelta(days=1))
    assert (blocked.effective_status(NOW), blocked.expired(NOW)) == (AuthorizationStatus.BLOCKED, True)
    assert not a_tag().expired(NOW)


def test_duration_runs_to_the_stop_or_to_now() -> None:
    assert a_transaction().duration_seconds(NOW) == 1800
    closed = a_transaction(stop_timestamp=NOW - timedelta(minutes=20), meter_stop=10)
    assert (closed.duration_seconds(NOW), closed.open) == (600, False)
    assert a_transaction(start_timestamp=NOW + timedelta(minutes=1)).duration_seconds(NOW) == 0  # clock skew


def test_a_stop_without_reason_is_local_and_an_open_transaction_has_none() -> None:
    assert a_transaction(stop_timestamp=NOW).effective_stop_reason == "Local"
    assert (
        a_transaction(stop_timestamp=NOW, stop_reason="EVDisconnected").effective_stop_reason
        == "EVDisconnected"
    )
    assert a_transaction().effective_stop_reason is None


def test_series_are_grouped_by_key_in_query_order() -> None:
    queries = FakeMeterQueries(
        rows=[(CURRENT_L1, a_raw_point(0)), (ENERGY, a_raw_point(0)), (ENERGY, a_raw_point(5))]
    )
    result = MeterSeriesService(
        queries, stations_where(queries.charge_point_exists), FixedClock(NOW)
    ).for_transaction(TenantScope("acme"), 7, measurands=["Current.Import", "Energy.Active.Import.Register"])
    assert [(s.key, len(s.points)) for s in result.series] == [(CURRENT_L1, 1), (ENERGY, 2)]
    (_, scope, where, limit) = queries.asked[0]
    assert scope == SampleScope("acme", transaction_id=7)
    assert (where.measurands, where.start, where.end, limit) == (
        ("Current.Import", "Energy.Active.Import.Register"),
        None,
        None,
        MAX_POINTS + 1,
    )


def test_the_connector_range_defaults_to_the_last_day() -> None:
    queries = FakeMeterQueries()
    service = MeterSeriesService(queries, stations_where(queries.charge_point_exists), FixedClock(NOW))
    result = service.for_evse(TenantScope("acme"), "CP-1", 1, bucket=timedelta(hours=1))
    assert (result.start, result.end) == (NOW - timedelta(days=1), NOW)
    until = service.for_evse(TenantScope("acme"), "CP-1", 1, end=NOW - timedelta(hours=1))
    assert until.start == NOW - timedelta(hours=25)
    assert queries.asked[0][0] == "buckets"


def test_unknown_scopes_and_bad_ranges() -> None:
    queries = FakeMeterQueries()
    service = MeterSeriesService(queries, stations_where(queries.charge_point_exists), FixedClock(NOW))
    with pytest.raises(NotFound):
        service.for_transaction(TenantScope("globex"), 7)
    with pytest.raises(NotFound):
        service.for_evse(TenantScope("globex"), "CP-1", 1)
    with pytest.raises(InvalidInput, match="from must be before to"):
        service.for_evse(TenantScope("acme"), "CP-1", 1, start=NOW, end=NOW)
    with pytest.raises(InvalidInput, match="366 days"):
        service.for_evse(TenantScope("acme"), "CP-1", 1, start=NOW - timedelta(days=367), end=NOW)


def test_too_many_points_names_the_smallest_bucket_that_fits() -> None:
    # Three series over two fortnights: 1m and 5m buckets give too many points, 15m fits (3 x 1345)
    fortnight = (NOW - timedelta(days=14), NOW)
    queries = FakeMeterQueries(
        rows=[(ENERGY, a_raw_point(i)) for i in range(MAX_POINTS + 1)],
        extent_answer=Extent(samples=60_480, series=3, first=fortnight[0], last=fortnight[1]),
    )
    service = MeterSeriesService(queries, stations_where(queries.charge_point_exists), FixedClock(NOW))
    with pytest.raises(InvalidInput) as raw:
        service.for_evse(TenantScope("acme"), "CP-1", 1, start=fortnight[0], end=fortnight[1])
    assert str(raw.value) == (
        "the range holds 60480 samples in 3 series; one answer holds at most 10000 points: "
        "ask for bucket=15m (or a shorter range or fewer measurands)"
    )
    with pytest.raises(InvalidInput, match=r"more than 10000 points in 3 series.*bucket=30m"):
        service.for_evse(
            TenantScope("acme"), "CP-1", 1, start=fortnight[0], end=fortnight[1], bucket=timedelta(minutes=15)
        )
