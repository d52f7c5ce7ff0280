"""Meter values as time series, for a transaction or an EVSE, raw or downsampled.

A series is one (measurand, phase, unit, location): location is part of the key because an
Inlet and an Outlet register are different meters, and mixing them in one line would be
wrong. Without a bucket a series holds the raw samples; with one, one point per bucket
(``date_bin`` aligned on 2000-01-01T00:00Z) with min, max, avg, last and count of the numeric
values (samples without a numeric value, e.g. SignedData, are left out of buckets).

One answer holds at most :data:`MAX_POINTS` points over all series: a range that would give
more is refused (422) with the smallest bucket that fits, rather than paginated, because a
chart wants the whole range in one response and a bucket is what makes that possible.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from csms.clock import Clock
from csms.domain.metering import (
    BucketPoint,
    MeterSeriesQueries,
    RawPoint,
    SampleFilter,
    SampleScope,
    Series,
    SeriesKey,
    SeriesResult,
)
from csms.domain.tenancy import TenantScope
from csms.errors import InvalidInput, NotFound
from csms.services.stations import Stations

MAX_POINTS = 10_000
#: The connector route's range when none is given: the last 24 hours.
DEFAULT_WINDOW = timedelta(hours=24)
#: Longest range one request may cover (a scan of a year of samples is the most we accept).
MAX_RANGE = timedelta(days=366)

#: The OCPP measurands: 1.6 Measurand and 2.0.1 MeasurandEnumType (2.0.1 adds the net and
#: apparent energies and drops RPM and Temperature). The CSMS stores no other.
MEASURANDS = (
    "Current.Export",
    "Current.Import",
    "Current.Offered",
    "Energy.Active.Export.Register",
    "Energy.Active.Import.Register",
    "Energy.Reactive.Export.Register",
    "Energy.Reactive.Import.Register",
    "Energy.Active.Export.Interval",
    "Energy.Active.Import.Interval",
    "Energy.Reactive.Export.Interval",
    "Energy.Reactive.Import.Interval",
    "Energy.Active.Net",
    "Energy.Reactive.Net",
    "Energy.Apparent.Net",
    "Energy.Apparent.Import",
    "Energy.Apparent.Export",
    "Frequency",
    "Power.Active.Export",
    "Power.Active.Import",
    "Power.Factor",
    "Power.Offered",
    "Power.Reactive.Export",
    "Power.Reactive.Import",
    "RPM",
    "SoC",
    "Temperature",
    "Voltage",
)
PHASES = ("L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1")

#: Bucket sizes: a number and a unit, minutes (m), hours (h) or days (d); at least 1m.
BUCKET_PATTERN = r"^[1-9][0-9]{0,3}[mhd]$"
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
#: The sizes suggested when a range holds too many points.
_SUGGESTED = ("1m", "5m", "15m", "30m", "1h", "3h", "6h", "12h", "1d", "7d", "30d")


def parse_bucket(text: str) -> timedelta:
    """``"15m"`` → 15 minutes; InvalidInput for anything but <1-9999><m|h|d>."""
    if not re.fullmatch(BUCKET_PATTERN, text):
        raise InvalidInput(f"bucket {text!r} is not a size like 1m, 15m, 1h or 1d")
    return int(text[:-1]) * _UNITS[text[-1]]


def bucket_label(size: timedelta) -> str:
    """The shortest notation of ``size``: 90 minutes → ``"90m"``, 2 hours → ``"2h"``."""
    minutes = int(size.total_seconds()) // 60
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


class MeterSeriesService:
    def __init__(self, queries: MeterSeriesQueries, stations: Stations, clock: Clock) -> None:
        self._queries = queries
        self._stations = stations
        self._clock = clock

    def for_transaction(
        self,
        scope: TenantScope,
        transaction_id: int,
        *,
        measurands: Sequence[str] | None = None,
        phase: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        bucket: timedelta | None = None,
    ) -> SeriesResult:
        """The transaction's samples (of these measurands; None: every one); without
        ``start``/``end``, all of them."""
        if not self._queries.transaction_exists(scope.tenant_id, transaction_id):
            raise NotFound(f"no transaction {transaction_id}")
        _check_range(start, end)
        samples = SampleScope(scope.tenant_id, transaction_id=transaction_id)
        where = SampleFilter(tuple(measurands) if measurands is not None else None, phase, start, end)
        return SeriesResult(start, end, bucket, self._series(samples, where, bucket))

    def for_evse(
        self,
        scope: TenantScope,
        charge_point_id: str,
        evse_id: int,
        *,
        measurands: Sequence[str] | None = None,
        phase: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        bucket: timedelta | None = None,
    ) -> SeriesResult:
        """The EVSE's samples (0: the station's main meter; of these measurands, None: every
        one) from ``start`` to ``end``: by default
        the last 24 hours (``end`` defaults to now, ``start`` to 24 hours before ``end``)."""
        self._stations.require(scope, charge_point_id)
        end = end if end is not None else self._clock.now()
        start = start if start is not None else end - DEFAULT_WINDOW
        _check_range(start, end)
        samples = SampleScope(scope.tenant_id, charge_point_id=charge_point_id, evse_id=evse_id)
        where = SampleFilter(tuple(measurands) if measurands is not None else None, phase, start, end)
        return SeriesResult(start, end, bucket, self._series(samples, where, bucket))

    def _series(self, scope: SampleScope, where: SampleFilter, bucket: timedelta | None) -> list[Series]:
        rows: Sequence[tuple[SeriesKey, RawPoint | BucketPoint]]
        if bucket is None:
            rows = self._queries.samples(scope, where, MAX_POINTS + 1)
        else:
            rows = self._queries.buckets(scope, where, bucket, MAX_POINTS + 1)
        if len(rows) > MAX_POINTS:
            raise InvalidInput(self._too_many(scope, where, bucket))
        series: list[Series] = []
        for key, group in itertools.groupby(rows, key=_series_key):
            series.append(Series(key, tuple(point for _, point in group)))
        return series

    def _too_many(self, scope: SampleScope, where: SampleFilter, bucket: timedelta | None) -> str:
        extent = self._queries.extent(scope, where)
        start = where.start or extent.first
        end = where.end or extent.last
        span = (end - start) if start is not None and end is not None else timedelta(0)
        series = max(1, extent.series)
        what = f"{extent.samples} samples" if bucket is None else f"more than {MAX_POINTS} points"
        advice = "a shorter range or fewer measurands"
        for label in _SUGGESTED:
            size = parse_bucket(label)
            # date_bin alignment can add one partial bucket at each end
            if (bucket is None or size > bucket) and series * (math.ceil(span / size) + 1) <= MAX_POINTS:
                advice = f"bucket={label} (or {advice})"
                break
        return (
            f"the range holds {what} in {series} series; one answer holds at most {MAX_POINTS} points: "
            f"ask for {advice}"
        )


def _series_key(row: tuple[SeriesKey, RawPoint | BucketPoint]) -> SeriesKey:
    return row[0]


def _check_range(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None:
        if start >= end:
            raise InvalidInput("from must be before to")
        if end - start > MAX_RANGE:
            raise InvalidInput(f"from and to may be at most {MAX_RANGE.days} days apart")
