"""Console live updates (ADR 0025): operators' WebSocket connections that receive their
tenant's domain events as they are published.

A :class:`LiveSubscriber` is admitted at ``$connect`` with the tenant and role its verified
token names; the fan-out sends each published event to the subscribers of the event's tenant
and drops those API Gateway reports gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from csms.domain.tenancy import Role


@dataclass(frozen=True, slots=True)
class LiveSubscriber:
    """One console's live connection."""

    connection_id: str
    tenant_id: str
    role: Role
    #: The token's ``sub``: whose console it is (logs; a revocation names it).
    subject: str
    connected_at: datetime


class LiveSubscribers(Protocol):
    """Where live connections are kept (DynamoDB on AWS and locally)."""

    def add(self, subscriber: LiveSubscriber) -> None:
        """Record a connection admitted at ``$connect``."""
        ...

    def remove(self, connection_id: str) -> None:
        """Forget a connection (``$disconnect``, or gone when posted to); no error if unknown."""
        ...

    def of_tenant(self, tenant_id: str) -> Sequence[str]:
        """The connection ids of the tenant's live consoles."""
        ...
