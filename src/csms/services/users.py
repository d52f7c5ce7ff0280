"""Operator accounts of a tenant: invite, list, change the role of, remove."""

from __future__ import annotations

from csms.clock import Clock, SystemClock
from csms.domain.limits import Revocations
from csms.domain.tenancy import TenantScope, User, UserDirectory
from csms.errors import NotFound


class UserService:
    def __init__(
        self, directory: UserDirectory, revocations: Revocations | None = None, clock: Clock | None = None
    ) -> None:
        self._directory = directory
        self._revocations = revocations
        self._clock = clock or SystemClock()

    def _revoke(self, user: User) -> None:
        """Tokens the user holds stop working (within the API's revocation cache, <= 60 s)."""
        if self._revocations is not None and user.subject:
            self._revocations.revoke(user.subject, self._clock.now())

    def create(self, scope: TenantScope, email: str, role: str) -> User:
        """Invite a user to the tenant; AlreadyExists if the e-mail is taken."""
        return self._directory.create(scope.tenant_id, email, role)

    def list(self, scope: TenantScope) -> list[User]:
        return self._directory.list(scope.tenant_id)

    def get(self, scope: TenantScope, user_id: str) -> User:
        found = self._directory.get(scope.tenant_id, user_id)
        if found is None:
            raise NotFound(f"no user {user_id!r}")
        return found

    def set_role(self, scope: TenantScope, user_id: str, role: str) -> User:
        """Effective from the user's next token; a change revokes the tokens the user holds
        (they would keep the old role for up to an hour), so the user signs in again."""
        before = self.get(scope, user_id)
        found = self._directory.set_role(scope.tenant_id, user_id, role)
        if found is None:
            raise NotFound(f"no user {user_id!r}")
        if before.role != role:
            self._revoke(before)
        return found

    def delete(self, scope: TenantScope, user_id: str) -> None:
        """Remove the user; the tokens they hold are revoked."""
        user = self.get(scope, user_id)
        if not self._directory.delete(scope.tenant_id, user_id):
            raise NotFound(f"no user {user_id!r}")
        self._revoke(user)
