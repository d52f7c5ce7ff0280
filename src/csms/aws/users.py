"""Operator accounts in the Cognito user pool: the tenant and role claims the API trusts.

Users are kept where tokens are issued (Cognito on AWS, moto's Cognito locally). Every
operation is confined to one tenant: a user of another tenant does not exist for the caller.
"""

from __future__ import annotations

from typing import Any

from csms.constants import ROLE_CLAIM, TENANT_CLAIM
from csms.domain.tenancy import User
from csms.errors import AlreadyExists, InvalidInput


def _attributes(raw: list[dict[str, str]]) -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in raw}


def _user(username: str, attributes: dict[str, str], item: dict[str, Any]) -> User:
    return User(
        id=username,
        email=attributes.get("email", ""),
        tenant_id=attributes.get(TENANT_CLAIM, ""),
        role=attributes.get(ROLE_CLAIM, ""),
        status=str(item.get("UserStatus", "")),
        enabled=bool(item.get("Enabled", True)),
        created_at=item.get("UserCreateDate"),
        subject=attributes.get("sub", ""),
    )


class CognitoUsers:
    def __init__(self, client: Any, user_pool_id: str) -> None:
        self._client = client
        self._pool = user_pool_id

    def create(self, tenant_id: str, email: str, role: str) -> User:
        """Invite a user (Cognito e-mails a temporary password)."""
        try:
            created = self._client.admin_create_user(
                UserPoolId=self._pool,
                Username=email,
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                    {"Name": TENANT_CLAIM, "Value": tenant_id},
                    {"Name": ROLE_CLAIM, "Value": role},
                ],
                DesiredDeliveryMediums=["EMAIL"],
            )["User"]
        except self._client.exceptions.UsernameExistsException:
            raise AlreadyExists(f"a user with e-mail {email!r} exists already") from None
        except self._client.exceptions.InvalidParameterException as exc:
            # Cognito's own rules (its e-mail syntax, lengths) are stricter than our pattern.
            message = exc.response.get("Error", {}).get("Message", "invalid user")
            raise InvalidInput(f"email: {message}") from None
        return _user(created["Username"], _attributes(created.get("Attributes", [])), created)

    def list(self, tenant_id: str) -> list[User]:
        # Cognito cannot filter on custom attributes: page through and keep the tenant's.
        users: list[User] = []
        kwargs: dict[str, Any] = {"UserPoolId": self._pool}
        while True:
            page = self._client.list_users(**kwargs)
            for item in page.get("Users", []):
                attributes = _attributes(item.get("Attributes", []))
                if attributes.get(TENANT_CLAIM) == tenant_id:
                    users.append(_user(item["Username"], attributes, item))
            token = page.get("PaginationToken")
            if not token:
                return sorted(users, key=lambda u: u.email)
            kwargs["PaginationToken"] = token

    def get(self, tenant_id: str, user_id: str) -> User | None:
        try:
            item = self._client.admin_get_user(UserPoolId=self._pool, Username=user_id)
        except self._client.exceptions.UserNotFoundException:
            return None
        attributes = _attributes(item.get("UserAttributes", []))
        if attributes.get(TENANT_CLAIM) != tenant_id:
            return None
        return _user(item["Username"], attributes, item)

    def set_role(self, tenant_id: str, user_id: str, role: str) -> User | None:
        if self.get(tenant_id, user_id) is None:
            return None
        self._client.admin_update_user_attributes(
            UserPoolId=self._pool, Username=user_id, UserAttributes=[{"Name": ROLE_CLAIM, "Value": role}]
        )
        return self.get(tenant_id, user_id)

    def delete(self, tenant_id: str, user_id: str) -> bool:
        if self.get(tenant_id, user_id) is None:
            return False
        self._client.admin_delete_user(UserPoolId=self._pool, Username=user_id)
        return True
