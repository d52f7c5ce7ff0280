"""The injected clock: production code asks a Clock for the time, tests pass a fixed one."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Protocol


def midnight(day: date) -> datetime:
    """The start of ``day`` in UTC."""
    return datetime.combine(day, time(), tzinfo=UTC)


class Clock(Protocol):
    """Anything that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until told to move (tests)."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self._at = self._at + timedelta(seconds=seconds)
