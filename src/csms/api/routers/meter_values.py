"""Meter values as time series for a transaction or an EVSE, raw or downsampled.

The answer is ``{from, to, bucket, series: [{measurand, phase, unit, location, points}]}``,
one series per line a dashboard draws. See :mod:`csms.services.meter_series` for buckets and
the cap on points.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field, WithJsonSchema

from csms.api.auth import caller
from csms.api.common import ApiModel, From, StationId, To, UtcDatetime, error_responses
from csms.api.context import services
from csms.api.routers.transactions import INT32_MAX, TransactionId, utc_param
from csms.domain.metering import BucketPoint, RawPoint, SeriesResult
from csms.services.meter_series import (
    BUCKET_PATTERN,
    MEASURANDS,
    MeterSeriesService,
    bucket_label,
    parse_bucket,
)

router = APIGatewayRouter()
TAG = ["meter values"]
SERIES_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {"description": "one series per measurand, phase, unit and location"},
    **error_responses(401, 404, 422, 503),
}

_MEASURAND = "(?:" + "|".join(re.escape(name) for name in MEASURANDS) + ")"
#: One measurand or a comma-separated list of them (no spaces).
MEASURAND_LIST_PATTERN = f"^{_MEASURAND}(?:,{_MEASURAND})*$"
Measurands = Annotated[
    # The pattern is documented for clients, and checked in _measurands with a readable message.
    list[Annotated[str, WithJsonSchema({"type": "string", "pattern": MEASURAND_LIST_PATTERN})]] | None,
    Query(
        description="measurands to return (repeat the parameter or separate with commas); "
        f"default: every measurand sampled. One of: {', '.join(MEASURANDS)}"
    ),
]
PhaseFilter = Annotated[
    Literal["L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1", "none"] | None,
    Query(description="only this phase; `none`: only samples without a phase; default every phase"),
]
Bucket = Annotated[
    str | None,
    Query(
        pattern=BUCKET_PATTERN,
        description="downsample to one point per bucket: a number and m, h or d (1m, 5m, 15m, 1h, 1d); "
        "buckets are aligned on 2000-01-01T00:00Z. Without it: raw samples",
    ),
]


def _meter_series() -> MeterSeriesService:
    return services(router).meter_series


class RawPointOut(ApiModel):
    timestamp: UtcDatetime
    value: str = Field(description="as the station sent it")
    numeric_value: float | None = Field(description="the value as a number (Raw format only)")
    context: str
    format: str


class BucketPointOut(ApiModel):
    timestamp: UtcDatetime = Field(description="start of the bucket")
    min: float
    max: float
    avg: float
    last: float = Field(description="value of the bucket's latest sample")
    count: int = Field(description="numeric samples in the bucket")


class SeriesOut(ApiModel):
    measurand: str
    phase: str | None = Field(description="null: the samples name no phase")
    unit: str
    location: str
    points: list[RawPointOut] | list[BucketPointOut] = Field(description="oldest first")


class MeterSeriesOut(ApiModel):
    start: UtcDatetime | None = Field(alias="from", description="inclusive; null: unbounded")
    end: UtcDatetime | None = Field(alias="to", description="exclusive; null: unbounded")
    bucket: str | None
    series: list[SeriesOut]


def _measurands(given: list[str] | None) -> tuple[str, ...] | None:
    if not given:
        return None  # every measurand
    wanted = [name for value in given for name in value.split(",")]
    unknown = next((name for name in wanted if name not in MEASURANDS), None)
    if unknown is not None:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "measurand"),
                    "msg": f"unknown measurand {unknown!r}; one of {', '.join(MEASURANDS)}",
                    "type": "value_error",
                }
            ]
        )
    return tuple(dict.fromkeys(wanted))  # without repeats, in the order asked


def _phase(given: str | None) -> str | None:
    return "" if given == "none" else given


def _bucket(given: str | None) -> timedelta | None:
    return parse_bucket(given) if given is not None else None


def _out(result: SeriesResult) -> MeterSeriesOut:
    series = []
    for s in result.series:
        points: list[RawPointOut] | list[BucketPointOut]
        if result.bucket is None:
            points = [RawPointOut.model_validate(p) for p in s.points if isinstance(p, RawPoint)]
        else:
            points = [BucketPointOut.model_validate(p) for p in s.points if isinstance(p, BucketPoint)]
        series.append(
            SeriesOut(
                measurand=s.key.measurand,
                phase=s.key.phase,
                unit=s.key.unit,
                location=s.key.location,
                points=points,
            )
        )
    return MeterSeriesOut.model_validate(
        {
            "start": result.start,
            "end": result.end,
            "bucket": bucket_label(result.bucket) if result.bucket is not None else None,
            "series": series,
        }
    )


@router.get(
    "/transactions/<transactionId>/meter-values",
    summary="Meter values of a transaction, by measurand and phase, raw or per bucket",
    tags=TAG,
    responses=SERIES_RESPONSES,
)
def transaction_meter_values(
    transactionId: TransactionId,
    measurand: Measurands = None,
    phase: PhaseFilter = None,
    start: From = None,
    to: To = None,
    bucket: Bucket = None,
) -> MeterSeriesOut:
    """Every sample the transaction carried (MeterValues and StopTransaction's transactionData,
    2.0.1 TransactionEvent meter values), of every measurand unless ``measurand`` names some,
    or those from ``from`` to ``to``. At most 10,000 points per answer: more is refused (422)
    naming a bucket that fits."""
    scope = caller(router).scope
    result = _meter_series().for_transaction(
        scope,
        transactionId,
        measurands=_measurands(measurand),
        phase=_phase(phase),
        start=utc_param(start, "from"),
        end=utc_param(to, "to"),
        bucket=_bucket(bucket),
    )
    return _out(result)


@router.get(
    "/stations/<stationId>/evses/<evseId>/meter-values",
    summary="Meter values of an EVSE over a time range (default: the last 24 hours)",
    tags=TAG,
    responses=SERIES_RESPONSES,
)
def evse_meter_values(
    stationId: StationId,
    evseId: Annotated[
        int,
        Path(ge=0, le=INT32_MAX, description="0: the station's main meter (1.6 connector N is EVSE N)"),
    ],
    measurand: Measurands = None,
    phase: PhaseFilter = None,
    start: From = None,
    to: To = None,
    bucket: Bucket = None,
) -> MeterSeriesOut:
    """Samples of the EVSE in any transaction or none, of every measurand unless ``measurand``
    names some. ``to`` defaults to now and
    ``from`` to 24 hours before ``to``; the range may span at most 366 days."""
    scope = caller(router).scope
    result = _meter_series().for_evse(
        scope,
        stationId,
        evseId,
        measurands=_measurands(measurand),
        phase=_phase(phase),
        start=utc_param(start, "from"),
        end=utc_param(to, "to"),
        bucket=_bucket(bucket),
    )
    return _out(result)
