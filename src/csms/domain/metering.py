"""Metering: the sampled values stations report (energy registers, power, SoC...).

A sample keeps its value as text, as OCPP 1.6 sends it; a 2.0.1 value (a JSON number with a
power-of-ten multiplier) is stored scaled (:func:`scaled`), so one Wh is one Wh in both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Final, Protocol

#: The register that says how much energy went to the vehicle.
ENERGY_REGISTER: Final = "Energy.Active.Import.Register"
#: A register reading counts in these units (case as OCPP spells them), as Wh.
WH_PER_UNIT: Final = {"Wh": 1, "kWh": 1000}
#: The EVSE of samples whose EVSE is not known (yet): a 2.0.1 transaction's events before the
#: one naming its EVSE.
UNKNOWN_EVSE: Final = -1


def scaled(value: Decimal | int | float | str, multiplier: int = 0) -> str:
    """``value`` x 10^``multiplier`` as plain decimal text (2.0.1 SampledValue: "the multiplier
    is a power of ten"), e.g. ``scaled(22.5, 3) == "22500"``, ``scaled(5, -1) == "0.5"``."""
    number = Decimal(str(value)).scaleb(multiplier)
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True, slots=True)
class MeterSample:
    """One sampled value, with every OCPP qualifier resolved to its default."""

    timestamp: datetime
    value: str
    measurand: str = ENERGY_REGISTER
    phase: str | None = None
    unit: str = "Wh"
    context: str = "Sample.Periodic"
    location: str = "Outlet"
    format: str = "Raw"

    def register_wh(self) -> float | None:
        """The reading in Wh if it is an energy register reading the CSMS counts: the import
        register, no phase (the total), at the outlet, in Wh or kWh, a finite number."""
        if (
            self.measurand != ENERGY_REGISTER
            or self.phase
            or self.location != "Outlet"
            or self.format != "Raw"
            or self.unit not in WH_PER_UNIT
        ):
            return None
        try:
            value = float(Decimal(self.value))
        except (InvalidOperation, ValueError):
            return None
        return value * WH_PER_UNIT[self.unit] if math.isfinite(value) else None


@dataclass(frozen=True, slots=True)
class AddedSamples:
    """Outcome of storing meter samples."""

    #: How many were new (a retried frame adds none).
    new: int
    #: The transaction they were stored with (ours): the one the station named if it is one of
    #: its own, else None (another station's or an unknown id is not followed).
    transaction_pk: int | None = None
    #: That transaction had ended before the latest of the samples was taken.
    after_stop: bool = False


class MeterValueRepository(Protocol):
    def add_samples(
        self,
        tenant_id: str,
        charge_point_id: str,
        evse_id: int,
        transaction_id: str | None,
        samples: Sequence[MeterSample],
        received_at: datetime,
    ) -> AddedSamples:
        """Insert samples, skipping ones already stored (retried frames), with the transaction
        of protocol id ``transaction_id`` only if it is one of the station's. Returns how many
        were new and the transaction they were stored with."""
        ...

    def assign_evse(self, transaction_pk: int, evse_id: int) -> None:
        """The transaction's samples stored with an unknown EVSE (UNKNOWN_EVSE) get ``evse_id``."""
        ...


# --- meter values as time series (csms.services.meter_series) -------------------------------


@dataclass(frozen=True, slots=True)
class SeriesKey:
    measurand: str
    #: None when the samples name no phase (stored as '').
    phase: str | None
    unit: str
    location: str


@dataclass(frozen=True, slots=True)
class RawPoint:
    timestamp: datetime
    value: str
    numeric_value: float | None
    context: str
    format: str


@dataclass(frozen=True, slots=True)
class BucketPoint:
    #: The start of the bucket.
    timestamp: datetime
    min: float
    max: float
    avg: float
    #: The value of the bucket's latest sample.
    last: float
    count: int


@dataclass(frozen=True, slots=True)
class Series:
    key: SeriesKey
    points: tuple[RawPoint | BucketPoint, ...]


@dataclass(frozen=True, slots=True)
class SampleScope:
    """Whose samples: a transaction's (ours), or an EVSE's (whatever transaction)."""

    tenant_id: str
    transaction_id: int | None = None
    charge_point_id: str | None = None
    evse_id: int | None = None


@dataclass(frozen=True, slots=True)
class SampleFilter:
    #: None: every measurand.
    measurands: tuple[str, ...] | None = None
    #: None: every phase; '': only samples without a phase; else that phase.
    phase: str | None = None
    #: ``start <= timestamp < end``; None leaves that side open.
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class Extent:
    samples: int
    series: int
    first: datetime | None
    last: datetime | None


@dataclass(frozen=True, slots=True)
class SeriesResult:
    start: datetime | None
    end: datetime | None
    bucket: timedelta | None
    series: list[Series]


class MeterSeriesQueries(Protocol):
    def transaction_exists(self, tenant_id: str, transaction_id: int) -> bool: ...

    def samples(
        self, scope: SampleScope, where: SampleFilter, limit: int
    ) -> list[tuple[SeriesKey, RawPoint]]:
        """Raw samples ordered by series (measurand, phase, location, unit), then time."""
        ...

    def buckets(
        self, scope: SampleScope, where: SampleFilter, size: timedelta, limit: int
    ) -> list[tuple[SeriesKey, BucketPoint]]:
        """One aggregate per series and bucket, ordered like :meth:`samples`."""
        ...

    def extent(self, scope: SampleScope, where: SampleFilter) -> Extent:
        """How many samples and series match, and their first and last timestamps."""
        ...


# --- meter housekeeping: partitions, the daily energy rollup, retention (csms.services.meter_housekeeping)


class LockTimeout(Exception):
    """A table lock was not granted in time: the step waits for the next run."""


@dataclass(frozen=True, slots=True)
class Partition:
    name: str
    is_default: bool
    #: The range [lower, upper); None is MINVALUE / MAXVALUE (and both None for the default).
    lower: datetime | None
    upper: datetime | None

    def overlaps(self, lower: datetime, upper: datetime) -> bool:
        if self.is_default:
            return False
        return (self.lower is None or self.lower < upper) and (self.upper is None or lower < self.upper)


class MeterHousekeepingWork(Protocol):
    """The housekeeping operations, made by the one run that holds the job's lock."""

    def is_partitioned(self) -> bool:
        """Whether meter_samples is natively partitioned (else a TimescaleDB hypertable)."""
        ...

    def partitions(self) -> list[Partition]: ...

    def create_month_partition(self, name: str, lower: datetime, upper: datetime) -> int | None:
        """Create partition ``name`` for [lower, upper), moving its rows out of the default
        partition; the number of rows moved, or None when a partition already covers (part
        of) the range. LockTimeout if a lock was not granted."""
        ...

    def drop_partition(self, name: str) -> None:
        """Drop a (month) partition with its rows. LockTimeout if the lock was not granted."""
        ...

    def delete_samples_before(self, cutoff: datetime, partition: str | None = None) -> int:
        """Delete the samples older than ``cutoff`` from one partition (default: the whole
        table); the number deleted."""
        ...

    def drop_hypertable_chunks_before(self, cutoff: datetime) -> None:
        """TimescaleDB: drop the chunks entirely older than ``cutoff``."""
        ...

    def watermark(self) -> datetime | None:
        """When the newest rollup was computed (None: nothing is rolled up)."""
        ...

    def first_days(self) -> dict[str, date]:
        """Per tenant with transactions, the UTC day of its first one."""
        ...

    def missing_days(self, last: date) -> dict[str, list[date]]:
        """Per tenant, the days up to ``last`` (from its first transaction's) not rolled up yet."""
        ...

    def dirty_days(self, since: datetime, settle: timedelta, not_before: date) -> dict[str, list[date]]:
        """Per tenant, the rolled-up days from ``not_before`` on whose inputs changed since
        they were computed."""
        ...

    def roll_up(self, tenant_id: str, first: date, stop: date, computed_at: datetime) -> int:
        """(Re)compute the tenant's days [first, stop) as the energy report computes them."""
        ...


class MeterHousekeepingStore(Protocol):
    def exclusive(self) -> AbstractContextManager[MeterHousekeepingWork | None]:
        """The operations for the one run that holds the job's lock; None while another run
        holds it."""
        ...
