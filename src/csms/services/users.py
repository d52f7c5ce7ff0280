"""Operator accounts of a tenant: invite, list, change the role of, remove."""

from __future__ import annotations

from csms.domain.tenancy import TenantScope, User, UserDirectory
from csms.errors import NotFound


class UserService:
    def __init__(self, directory: UserDirectory) -> None:
        self._directory = directory

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
        """Effective from the user's next token."""
        found = self._directory.set_role(scope.tenant_id, user_id, role)
        if found is None:
            raise NotFound(f"no user {user_id!r}")
        return found

    def delete(self, scope: TenantScope, user_id: str) -> None:
        if not self._directory.delete(scope.tenant_id, user_id):
            raise NotFound(f"no user {user_id!r}")
