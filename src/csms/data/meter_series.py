"""Queries behind :class:`csms.domain.metering.MeterSeriesQueries`.

Buckets are computed by PostgreSQL (``date_bin``, 14+) so a month of samples leaves the
database as a few thousand rows. The EVSE queries use ix_meter_samples_connector
(tenant, charger, EVSE, time) and prune partitions by time; the transaction queries
use ix_meter_samples_transaction (transaction, time).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Float, Interval, and_, bindparam, func, literal, select, type_coerce
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.types import DateTime

from csms.data.database import PgDatabase
from csms.data.tables import meter_samples, transactions
from csms.domain.metering import BucketPoint, Extent, RawPoint, SampleFilter, SampleScope, SeriesKey

#: date_bin's origin: buckets are aligned on midnight UTC whatever their size.
BUCKET_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)

_m = meter_samples.c
_SERIES = (_m.measurand, _m.phase, _m.unit, _m.location)
_SERIES_ORDER = (_m.measurand, _m.phase, _m.location, _m.unit)


def _conditions(scope: SampleScope, where: SampleFilter) -> Any:
    conditions = [_m.tenant_id == scope.tenant_id]
    if where.measurands is not None:
        conditions.append(_m.measurand.in_(where.measurands))
    if scope.transaction_id is not None:
        conditions.append(_m.transaction_id == scope.transaction_id)
    else:
        conditions += [_m.charge_point_id == scope.charge_point_id, _m.evse_id == scope.evse_id]
    if where.phase is not None:
        conditions.append(_m.phase == where.phase)
    if where.start is not None:
        conditions.append(_m.timestamp >= where.start)
    if where.end is not None:
        conditions.append(_m.timestamp < where.end)
    return and_(*conditions)


def _key(row: Any) -> SeriesKey:
    return SeriesKey(measurand=row.measurand, phase=row.phase or None, unit=row.unit, location=row.location)


class PgMeterSeriesQueries:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def transaction_exists(self, tenant_id: str, transaction_id: int) -> bool:
        return self._db.exists(transactions, transaction_id, tenant_id)

    def samples(
        self, scope: SampleScope, where: SampleFilter, limit: int
    ) -> list[tuple[SeriesKey, RawPoint]]:
        query = (
            select(*_SERIES, _m.timestamp, _m.value, _m.numeric_value, _m.context, _m.format)
            .where(_conditions(scope, where))
            .order_by(*_SERIES_ORDER, _m.timestamp, _m.context)
            .limit(limit)
        )
        with self._db.connect() as conn:
            return [
                (
                    _key(r),
                    RawPoint(
                        timestamp=r.timestamp,
                        value=r.value,
                        numeric_value=r.numeric_value,
                        context=r.context,
                        format=r.format,
                    ),
                )
                for r in conn.execute(query)
            ]

    def buckets(
        self, scope: SampleScope, where: SampleFilter, size: timedelta, limit: int
    ) -> list[tuple[SeriesKey, BucketPoint]]:
        # The bucket is a column of a subquery so GROUP BY names it rather than repeating a
        # parameterised expression (PostgreSQL would see two different parameters).
        binned = (
            select(
                *_SERIES,
                _m.timestamp,
                _m.context,
                _m.numeric_value,
                func.date_bin(
                    bindparam("stride", size, type_=Interval),
                    _m.timestamp,
                    literal(BUCKET_ORIGIN, DateTime(timezone=True)),
                ).label("bucket"),
            )
            .where(_conditions(scope, where), _m.numeric_value.is_not(None))
            .subquery("binned")
        )
        b = binned.c
        last = type_coerce(
            func.array_agg(aggregate_order_by(b.numeric_value, b.timestamp.desc(), b.context)),
            ARRAY(Float),
        )[1]
        query = (
            select(
                b.measurand,
                b.phase,
                b.unit,
                b.location,
                b.bucket,
                func.min(b.numeric_value).label("min"),
                func.max(b.numeric_value).label("max"),
                func.avg(b.numeric_value).label("avg"),
                last.label("last"),
                func.count().label("samples"),
            )
            .group_by(b.measurand, b.phase, b.unit, b.location, b.bucket)
            .order_by(b.measurand, b.phase, b.location, b.unit, b.bucket)
            .limit(limit)
        )
        with self._db.connect() as conn:
            return [
                (
                    _key(r),
                    BucketPoint(
                        timestamp=r.bucket,
                        min=r.min,
                        max=r.max,
                        avg=r.avg,
                        last=r.last,
                        count=r.samples,
                    ),
                )
                for r in conn.execute(query)
            ]

    def extent(self, scope: SampleScope, where: SampleFilter) -> Extent:
        per_series = (
            select(
                func.count().label("samples"),
                func.min(_m.timestamp).label("first"),
                func.max(_m.timestamp).label("last"),
            )
            .where(_conditions(scope, where))
            .group_by(*_SERIES)
            .subquery("per_series")
        )
        s = per_series.c
        query = select(
            func.coalesce(func.sum(s.samples), 0).label("samples"),
            func.count().label("series"),
            func.min(s.first).label("first"),
            func.max(s.last).label("last"),
        )
        with self._db.connect() as conn:
            row = conn.execute(query).one()
        return Extent(samples=int(row.samples), series=int(row.series), first=row.first, last=row.last)
