"""Operator accounts of a tenant, managed by its admins (Cognito; moto's locally)."""

from __future__ import annotations

import pytest

from tests.integration.api_client import ApiClient

pytestmark = pytest.mark.integration
V1 = "/api/v1"


@pytest.fixture(autouse=True)
def no_users_left(api: ApiClient) -> None:
    """The user pool outlives the database truncation between tests: start from none."""
    for tenant in ("acme", "globex"):
        admin = api.as_(tenant, "admin")
        for user in admin.get(f"{V1}/users", limit=500).body["items"]:
            admin.delete(f"{V1}/users/{user['id']}")


def test_admins_invite_list_change_and_remove_users(api: ApiClient) -> None:
    admin = api.as_("acme", "admin")
    created = admin.post(f"{V1}/users", {"email": "ops@acme.example", "role": "operator"})
    assert created.status == 201
    user = created.body
    assert (user["email"], user["role"], user["enabled"]) == ("ops@acme.example", "operator", True)
    assert created.headers["Location"] == f"{V1}/users/{user['id']}"
    assert admin.post(f"{V1}/users", {"email": "ops@acme.example", "role": "viewer"}).status == 409
    listed = admin.get(f"{V1}/users")
    assert (listed.body["total"], [u["email"] for u in listed.body["items"]]) == (1, ["ops@acme.example"])
    changed = admin.patch(f"{V1}/users/{user['id']}", {"role": "admin"})
    assert changed.body["role"] == "admin"
    assert admin.get(f"{V1}/users/{user['id']}").body["role"] == "admin"
    assert admin.delete(f"{V1}/users/{user['id']}").status == 204
    assert admin.get(f"{V1}/users/{user['id']}").status == 404


def test_only_admins_manage_users(api: ApiClient) -> None:
    for role in ("viewer", "operator"):
        client = api.as_("acme", role)
        assert client.get(f"{V1}/users").status == 403
        assert client.post(f"{V1}/users", {"email": "x@acme.example", "role": "viewer"}).status == 403


def test_users_belong_to_the_admins_tenant(api: ApiClient) -> None:
    acme, globex = api.as_("acme", "admin"), api.as_("globex", "admin")
    user = acme.post(f"{V1}/users", {"email": "ops@acme.example", "role": "viewer"}).body
    assert globex.get(f"{V1}/users").body["total"] == 0
    assert globex.get(f"{V1}/users/{user['id']}").status == 404
    assert globex.patch(f"{V1}/users/{user['id']}", {"role": "admin"}).status == 404
    assert globex.delete(f"{V1}/users/{user['id']}").status == 404
    assert acme.get(f"{V1}/users/{user['id']}").body["role"] == "viewer"


def test_invalid_input_names_the_field(api: ApiClient) -> None:
    admin = api.as_("acme", "admin")
    bad_email = admin.post(f"{V1}/users", {"email": "not-an-email", "role": "viewer"})
    assert bad_email.status == 422
    assert "email" in bad_email.body["detail"]
    assert admin.post(f"{V1}/users", {"email": "a@acme.example", "role": "root"}).status == 422


def test_an_address_without_a_real_domain_is_a_422(api: ApiClient) -> None:
    # Found by fuzzing: Cognito refuses "0@0.0"; the API's pattern now does too.
    refused = api.as_("acme", "admin").post(f"{V1}/users", {"email": "0@0.0", "role": "operator"})
    assert (refused.status, refused.content_type) == (422, "application/problem+json")
    assert "email" in refused.body["detail"]
