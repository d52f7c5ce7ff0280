"""The live event feed: a tenant's domain events read back from the outbox, oldest first,
from a cursor (the long poll itself is the REST adapter's: csms.api.routers.events)."""

from __future__ import annotations

from collections.abc import Sequence

from csms.domain.events import EventFeed, StoredEvent
from csms.domain.tenancy import TenantScope


class EventFeedService:
    def __init__(self, feed: EventFeed, max_wait_seconds: float) -> None:
        self._feed = feed
        #: The longest a long poll may wait in this deployment (``feed_max_wait_seconds``).
        self.max_wait_seconds = max_wait_seconds

    def head(self, scope: TenantScope) -> int:
        """The cursor of the tenant's latest event (0 if none): a feed that starts now."""
        return self._feed.head(scope.tenant_id)

    def read(
        self,
        scope: TenantScope,
        after: int,
        limit: int,
        *,
        types: Sequence[str] = (),
        charge_point_id: str | None = None,
    ) -> list[StoredEvent]:
        """At most ``limit`` of the tenant's events after the cursor ``after``, in feed order."""
        return self._feed.feed(scope.tenant_id, after, limit, types=types, charge_point_id=charge_point_id)
