"""Id tags as operators manage them: create, search, get, update (status, expiry, parent), delete.

Creation goes through :class:`~csms.services.provisioning.ProvisioningService` (the CLI's
path, with its validation); the rest reads and writes through :class:`IdTagQueries`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms.clock import Clock
from csms.domain.tenancy import TenantScope
from csms.domain.tokens import (
    STORABLE_ID_TAG_STATUSES,
    AuthorizationStatus,
    IdTagQueries,
    IdTagQuery,
    IdTagRecord,
)
from csms.errors import InvalidInput, NotFound
from csms.services.provisioning import MAX_ID_TAG_LENGTH, ProvisioningService


class IdTagService:
    def __init__(self, queries: IdTagQueries, provisioning: ProvisioningService, clock: Clock) -> None:
        self._queries = queries
        self._provisioning = provisioning
        self._clock = clock

    def now(self) -> datetime:
        return self._clock.now()

    def create(
        self,
        scope: TenantScope,
        id_tag: str,
        *,
        status: AuthorizationStatus = AuthorizationStatus.ACCEPTED,
        expiry_date: datetime | None = None,
        parent_id_tag: str | None = None,
    ) -> IdTagRecord:
        """Add a tag to the tenant; AlreadyExists if the tenant has it (other tenants may)."""
        self._provisioning.add_id_tag(
            id_tag,
            scope.tenant_id,
            self._clock.now(),
            status=status,
            expiry_date=expiry_date,
            parent_id_tag=parent_id_tag,
        )
        return self.get(scope, id_tag)

    def search(self, scope: TenantScope, query: IdTagQuery) -> tuple[list[IdTagRecord], int]:
        return self._queries.search(scope.tenant_id, query, self._clock.now())

    def get(self, scope: TenantScope, id_tag: str) -> IdTagRecord:
        found = self._queries.get(scope.tenant_id, id_tag)
        if found is None:
            raise NotFound(f"no id tag {id_tag!r}")
        return found

    def update(
        self,
        scope: TenantScope,
        id_tag: str,
        *,
        status: AuthorizationStatus | None = None,
        expiry_date: datetime | None = None,
        set_expiry_date: bool = False,
        parent_id_tag: str | None = None,
        set_parent_id_tag: bool = False,
    ) -> IdTagRecord:
        """Change what is given; ``set_*`` with a None value clears that field."""
        changes: dict[str, Any] = {}
        if status is not None:
            if status not in STORABLE_ID_TAG_STATUSES:
                raise InvalidInput(
                    f"status must be one of {', '.join(s.value for s in STORABLE_ID_TAG_STATUSES)}"
                )
            changes["status"] = status.value
        if set_expiry_date:
            if expiry_date is not None and expiry_date.tzinfo is None:
                raise InvalidInput("the expiry date needs a time zone (e.g. 2027-01-01T00:00:00Z)")
            changes["expiry_date"] = expiry_date
        if set_parent_id_tag:
            if parent_id_tag is not None and not 1 <= len(parent_id_tag) <= MAX_ID_TAG_LENGTH:
                raise InvalidInput(f"a parent id tag has 1-{MAX_ID_TAG_LENGTH} characters (OCPP IdToken)")
            changes["parent_id_tag"] = parent_id_tag
        if changes and not self._queries.update(scope.tenant_id, id_tag, changes, self._clock.now()):
            raise NotFound(f"no id tag {id_tag!r}")
        return self.get(scope, id_tag)

    def delete(self, scope: TenantScope, id_tag: str) -> None:
        if not self._queries.delete(scope.tenant_id, id_tag):
            raise NotFound(f"no id tag {id_tag!r}")
