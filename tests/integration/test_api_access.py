"""Who gets what from the operator API (issue 13, part 2): Idempotency-Key answers per
principal and without secrets, rate limits per tenant and principal, and revoked tokens."""

from __future__ import annotations

import json
import time

import pytest

from csms.aws.clients import client
from csms.local.stack import LocalStack
from csms.local.tokens import create_token
from csms.settings import get_settings
from tests.integration.api_client import ApiClient
from tests.integration.conftest import API_KEY

pytestmark = pytest.mark.integration
V1 = "/api/v1"


def as_subject(api: ApiClient, tenant: str, role: str, subject: str) -> ApiClient:
    return ApiClient(api.base_url, API_KEY, create_token(API_KEY, tenant, role, 3600, subject=subject))


def idempotency_records() -> str:
    settings = get_settings()
    items = client("dynamodb", settings.aws_region).scan(TableName=settings.idempotency_table)["Items"]
    return json.dumps(items)


def test_a_replayed_key_answers_only_its_own_principal_and_never_shows_the_password_again(
    api: ApiClient,
) -> None:
    admin = as_subject(api, "acme", "admin", "admin-1")
    headers = {"Idempotency-Key": "provision-cp-k"}
    body = {"id": "CP-K", "generatePassword": True}
    first = admin.post(f"{V1}/stations", body, headers=headers)
    password = first.body["password"]
    assert first.status == 201
    assert password
    # A viewer of the tenant replaying the key is refused before any stored answer
    viewer = as_subject(api, "acme", "viewer", "viewer-1")
    assert viewer.post(f"{V1}/stations", body, headers=headers).status == 403
    # Another admin with the same key runs the request itself (and finds the station taken)
    other_admin = as_subject(api, "acme", "admin", "admin-2")
    assert other_admin.post(f"{V1}/stations", body, headers=headers).status == 409
    # The same admin demoted to operator runs it too: the role is checked, and refuses
    demoted = as_subject(api, "acme", "operator", "admin-1")
    assert demoted.post(f"{V1}/stations", body, headers=headers).status == 403
    # The admin's own retry gets the first answer, with the password redacted and said so
    again = admin.post(f"{V1}/stations", body, headers=headers)
    assert (again.status, again.body["password"], again.headers["Csms-Redacted-Fields"]) == (
        201,
        None,
        "password",
    )
    # and the password is nowhere in the idempotency table
    assert password not in idempotency_records()


def test_rate_limits_per_principal_and_per_tenant(api: ApiClient, reconfigure: object) -> None:
    reconfigure(CSMS_API_RATE_PER_PRINCIPAL="5", CSMS_API_RATE_PER_TENANT="8")  # type: ignore[operator]
    flooder = as_subject(api, "acme", "viewer", "flooder")
    answers = [flooder.get(f"{V1}/stations") for _ in range(6)]
    assert [a.status for a in answers] == [200] * 5 + [429]
    refused = answers[-1]
    assert refused.content_type == "application/problem+json"
    assert refused.body["status"] == 429
    assert "principal" in refused.body["detail"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # Another principal of the tenant still gets through, until the tenant's limit (8)
    colleague = as_subject(api, "acme", "viewer", "colleague")
    assert [colleague.get(f"{V1}/stations").status for _ in range(3)] == [200, 200, 429]
    # Another tenant is not affected, and the public health check is never counted
    assert as_subject(api, "globex", "viewer", "g-1").get(f"{V1}/stations").status == 200
    assert api.anonymous().get(f"{V1}/health").status == 200


def test_removed_or_demoted_operators_lose_access_at_once(
    api: ApiClient, stack: LocalStack, reconfigure: object
) -> None:
    reconfigure(CSMS_REVOCATION_CACHE_SECONDS="0")  # type: ignore[operator]
    admin = api.as_("acme", "admin")
    settings = get_settings()
    cognito = client("cognito-idp", settings.aws_region)

    def subject_of(user_id: str) -> str:
        attributes = cognito.admin_get_user(UserPoolId=settings.user_pool_id, Username=user_id)[
            "UserAttributes"
        ]
        return next(a["Value"] for a in attributes if a["Name"] == "sub")

    demoted = admin.post(f"{V1}/users", {"email": "demoted@acme.example", "role": "admin"}).body
    removed = admin.post(f"{V1}/users", {"email": "removed@acme.example", "role": "operator"}).body
    demoted_token = as_subject(api, "acme", "admin", subject_of(demoted["id"]))
    removed_token = as_subject(api, "acme", "operator", subject_of(removed["id"]))
    assert demoted_token.get(f"{V1}/stations").status == 200
    assert removed_token.get(f"{V1}/stations").status == 200
    time.sleep(1.1)  # tokens carry whole seconds: the revocation comes a second after them

    assert admin.patch(f"{V1}/users/{demoted['id']}", {"role": "viewer"}).status == 200
    assert admin.delete(f"{V1}/users/{removed['id']}").status == 204

    for token in (demoted_token, removed_token):
        refused = token.get(f"{V1}/stations")
        assert (refused.status, refused.content_type) == (401, "application/problem+json")
        assert "revoked" in refused.body["detail"]
    # A token issued after the change (the demoted user signing in again) works
    assert as_subject(api, "acme", "viewer", subject_of(demoted["id"])).get(f"{V1}/stations").status == 200
    for user in (demoted,):
        admin.delete(f"{V1}/users/{user['id']}")
