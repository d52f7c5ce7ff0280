"""What every operator request passes before its route runs (ADR 0023): its token is not
revoked, and its tenant and principal are within their rate limits.

Revocation: removing or demoting a user stamps "revoked before now" for the user's ``sub``
(:class:`csms.services.users.UserService`); a token issued (``iat``) before the stamp is
refused. The stamp is read per request through a cache of ``cache_seconds`` (at most 60), so a
removed or demoted operator is out within that, not when the token expires (an hour).

Rate limits: fixed windows with atomic counters shared by every API container (one increment
per limit and request); past a limit the request is refused with the seconds until the window
ends. A store that fails lets requests through (logged): limits protect the service, an
outage of their store must not become one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from csms.clock import Clock
from csms.domain.limits import Counters, Revocations, Window

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Throttled:
    #: ``tenant`` or ``principal``: the limit that was reached.
    by: str
    limit: int
    retry_after_seconds: int


class ApiAccess:
    def __init__(
        self,
        counters: Counters,
        revocations: Revocations,
        clock: Clock,
        *,
        window_seconds: int,
        per_principal: int,
        per_tenant: int,
        cache_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._counters = counters
        self._revocations = revocations
        self._clock = clock
        self._window = Window(window_seconds)
        self._limits = {"principal": per_principal, "tenant": per_tenant}
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._cache: dict[str, tuple[datetime | None, float]] = {}

    def revoked(self, subject: str, issued_at: int | None) -> bool:
        """Whether a token of ``subject`` issued at ``issued_at`` (epoch seconds) was revoked."""
        if not subject:
            return False
        stamp = self._stamp(subject)
        if stamp is None:
            return False
        # iat has whole seconds: a token issued in the second of the revocation still counts.
        return issued_at is None or issued_at < int(stamp.timestamp())

    def _stamp(self, subject: str) -> datetime | None:
        now = self._monotonic()
        cached = self._cache.get(subject)
        if cached is not None and now < cached[1]:
            return cached[0]
        try:
            stamp = self._revocations.revoked_before(subject)
        except Exception:
            log.exception("could not read the revocation stamp")
            return cached[0] if cached else None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[subject] = (stamp, now + self._cache_seconds)
        return stamp

    def throttled(self, tenant_id: str, subject: str) -> Throttled | None:
        """Count the request; the limit it went past, if any."""
        now = self._clock.now()
        keys = {"tenant": f"api:tenant:{tenant_id}", "principal": f"api:principal:{tenant_id}:{subject}"}
        for by, key in keys.items():
            limit = self._limits[by]
            if limit <= 0:
                continue
            try:
                count = self._counters.add(key, 1, self._window.seconds, now)
            except Exception:
                log.exception("could not count the request against its rate limit")
                return None
            if count > limit:
                return Throttled(by, limit, self._window.retry_after(now))
        return None
