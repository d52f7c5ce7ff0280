"""OCPP date-times, read leniently. (They are written one way, with
:func:`csms.domain.events.iso`: UTC, milliseconds, ``Z``; 2.0.1 allows at most three fraction
digits and 1.6 chargers in the field parse that form best.)"""

from __future__ import annotations

from datetime import UTC, datetime


def parse_datetime(value: str) -> datetime:
    """An OCPP dateTime. Stations in the field sometimes omit the zone: read that as UTC.

    Raises ValueError for a time that has no UTC equivalent within years 1-9999 (such as
    0001-01-01T00:00:00+14:00), which could be neither stored nor compared.
    """
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value!r} is out of range") from None
    return parsed


def is_datetime(value: str) -> bool:
    try:
        parse_datetime(value)
    except ValueError:
        return False
    return True
