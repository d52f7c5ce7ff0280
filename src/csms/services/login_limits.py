"""Failed handshakes per station id and per source address (ADR 0023).

Each refusal for identity (unknown id, missing or wrong password) counts once against the
station id and once against the address it came from, in fixed windows shared by every
``connect`` container (DynamoDB). Past either limit, handshakes for that id, or from that
address, are refused before the database or scrypt are asked, until the window ends: at most
``per_station`` guesses per id and window, whoever guesses, and ``per_address`` from one place.
Unknown ids count like known ones, so the limit tells nothing about which exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from csms.domain.limits import Counters, Window


@dataclass(frozen=True, slots=True)
class Lockout:
    #: ``station`` or ``address``: which limit was reached.
    by: str
    retry_after_seconds: int


class LoginLimiter:
    def __init__(
        self, counters: Counters, *, window_seconds: int, per_station: int, per_address: int
    ) -> None:
        self._counters = counters
        self._window = Window(window_seconds)
        self._per_station = per_station
        self._per_address = per_address

    def _keys(self, station_id: str, address: str | None) -> dict[str, tuple[str, int]]:
        keys = {"station": (f"authfail:cp:{station_id}", self._per_station)}
        if address:
            keys["address"] = (f"authfail:ip:{address}", self._per_address)
        return keys

    def locked(self, station_id: str, address: str | None, now: datetime) -> Lockout | None:
        """A lockout, if the id or the address used up its failures in this window."""
        keys = self._keys(station_id, address)
        counts = self._counters.read([key for key, _ in keys.values()], self._window.seconds, now)
        for by, (key, limit) in keys.items():
            if counts.get(key, 0) >= limit:
                return Lockout(by, self._window.retry_after(now))
        return None

    def failed(self, station_id: str, address: str | None, now: datetime) -> Lockout | None:
        """Count a refusal; the lockout it starts, if it reached a limit."""
        reached = None
        for by, (key, limit) in self._keys(station_id, address).items():
            if self._counters.add(key, 1, self._window.seconds, now) >= limit and reached is None:
                reached = Lockout(by, self._window.retry_after(now))
        return reached
