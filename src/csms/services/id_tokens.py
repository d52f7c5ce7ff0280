"""Id tokens as operators manage them: create, search, get, update (status, expiry, group), delete.

Creation goes through :class:`~csms.services.provisioning.ProvisioningService` (the CLI's
path, with its validation); the rest reads and writes through :class:`IdTokenQueries`. An
operator names a token by its type and value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csms.clock import Clock
from csms.domain.tenancy import TenantScope
from csms.domain.tokens import (
    DEFAULT_GROUP_TYPE,
    STORABLE_STATUSES,
    AuthorizationStatus,
    IdToken,
    IdTokenQueries,
    IdTokenQuery,
    StoredIdToken,
)
from csms.errors import InvalidInput, NotFound
from csms.services.provisioning import ProvisioningService, check_token


def _missing(token: IdToken) -> NotFound:
    kind = token.type.value if token.type else "any type"
    return NotFound(f"no id token {token.value!r} of type {kind}")


class IdTokenService:
    def __init__(self, queries: IdTokenQueries, provisioning: ProvisioningService, clock: Clock) -> None:
        self._queries = queries
        self._provisioning = provisioning
        self._clock = clock

    def now(self) -> datetime:
        return self._clock.now()

    def create(
        self,
        scope: TenantScope,
        token: IdToken,
        *,
        status: AuthorizationStatus = AuthorizationStatus.ACCEPTED,
        expiry_date: datetime | None = None,
        group: IdToken | None = None,
    ) -> StoredIdToken:
        """Add a token to the tenant; AlreadyExists if the tenant has it (other tenants may)."""
        assert token.type is not None, "an operator's token has a type"
        self._provisioning.add_id_token(
            token.value,
            scope.tenant_id,
            self._clock.now(),
            type=token.type,
            status=status,
            expiry_date=expiry_date,
            group=group,
        )
        return self.get(scope, token)

    def search(self, scope: TenantScope, query: IdTokenQuery) -> tuple[list[StoredIdToken], int]:
        return self._queries.search(scope.tenant_id, query, self._clock.now())

    def get(self, scope: TenantScope, token: IdToken) -> StoredIdToken:
        found = self._queries.get(scope.tenant_id, token)
        if found is None:
            raise _missing(token)
        return found

    def update(
        self,
        scope: TenantScope,
        token: IdToken,
        *,
        status: AuthorizationStatus | None = None,
        expiry_date: datetime | None = None,
        set_expiry_date: bool = False,
        group: IdToken | None = None,
        set_group: bool = False,
    ) -> StoredIdToken:
        """Change what is given; ``set_*`` with a None value clears that field."""
        changes: dict[str, Any] = {}
        if status is not None:
            if status not in STORABLE_STATUSES:
                raise InvalidInput(f"status must be one of {', '.join(s.value for s in STORABLE_STATUSES)}")
            changes["status"] = status.value
        if set_expiry_date:
            if expiry_date is not None and expiry_date.tzinfo is None:
                raise InvalidInput("the expiry date needs a time zone (e.g. 2027-01-01T00:00:00Z)")
            changes["expiry_date"] = expiry_date
        if set_group:
            if group is not None:
                group = IdToken(group.value, group.type or DEFAULT_GROUP_TYPE)
                check_token(group.value, group.type, "a group id token")
            changes["group_id_token"] = group.value if group else None
            changes["group_id_token_type"] = group.type.value if group and group.type else None
        if changes and not self._queries.update(scope.tenant_id, token, changes, self._clock.now()):
            raise _missing(token)
        return self.get(scope, token)

    def delete(self, scope: TenantScope, token: IdToken) -> None:
        if not self._queries.delete(scope.tenant_id, token):
            raise _missing(token)
