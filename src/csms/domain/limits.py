"""Limits per client: counters in fixed windows, shared by every function container, and the
rules built on them (ADR 0023).

A :class:`Counters` store keeps one number per key and window (DynamoDB on AWS, moto in
``csms dev``): ``add`` is one atomic increment that answers the new total, ``read`` one batched
read. A window's counter expires on its own shortly after the window ends. The rules (failed
logins per station id and per address, REST requests per tenant and per principal, frames per
station) are plain functions of those numbers, so they are tested without a store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class Counters(Protocol):
    """Counters in fixed windows, shared across containers."""

    def add(self, key: str, amount: int, window_seconds: int, now: datetime) -> int:
        """Add ``amount`` to ``key``'s counter of the window holding ``now``; the new total."""
        ...

    def read(self, keys: Sequence[str], window_seconds: int, now: datetime) -> dict[str, int]:
        """The counters of ``keys`` in the window holding ``now`` (absent: 0)."""
        ...


class Revocations(Protocol):
    """When an operator's access was last taken away (removed or demoted)."""

    def revoke(self, subject: str, at: datetime) -> None:
        """Tokens of ``subject`` issued before ``at`` no longer count."""
        ...

    def revoked_before(self, subject: str) -> datetime | None:
        """The latest :meth:`revoke` of ``subject``, if any is still remembered."""
        ...


@dataclass(frozen=True, slots=True)
class Window:
    """A fixed window: ``seconds`` long, aligned on the epoch."""

    seconds: int

    def index(self, now: datetime) -> int:
        return int(now.timestamp()) // self.seconds

    def retry_after(self, now: datetime) -> int:
        """Whole seconds until the window holding ``now`` ends (at least 1)."""
        end = (self.index(now) + 1) * self.seconds
        return max(1, int(end - now.timestamp() + 0.999))


def window_key(key: str, window_seconds: int, now: datetime) -> str:
    """The counter's storage key: ``key`` in the window holding ``now``."""
    return f"{key}#{Window(window_seconds).index(now)}"
