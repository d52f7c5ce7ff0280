"""Operator accounts of a tenant: invite, list, change the role of, remove."""

from __future__ import annotations

from csms.domain.tenancy import User, UserDirectory
from csms.errors import NotFound


class UserService:
    def __init__(self, directory: UserDirectory) -> None:
        self._directory = directory

    def create(self, tenant_id: str, email: str, role: str) -> User:
        """Invite a user to the tenant; AlreadyExists if the e-mail is taken."""
        return self._directory.create(tenant_id, email, role)

    def list(self, tenant_id: str) -> list[User]:
        return self._directory.list(tenant_id)

    def get(self, tenant_id: str, user_id: str) -> User:
        found = self._directory.get(tenant_id, user_id)
        if found is None:
            raise NotFound(f"no user {user_id!r}")
        return found

    def set_role(self, tenant_id: str, user_id: str, role: str) -> User:
        """Effective from the user's next token."""
        found = self._directory.set_role(tenant_id, user_id, role)
        if found is None:
            raise NotFound(f"no user {user_id!r}")
        return found

    def delete(self, tenant_id: str, user_id: str) -> None:
        if not self._directory.delete(tenant_id, user_id):
            raise NotFound(f"no user {user_id!r}")
