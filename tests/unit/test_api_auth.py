"""Who is calling: claims from the authorizer, roles, and the local tokens."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from csms.api.auth import principal_from_event
from csms.domain.tenancy import Principal, Role
from csms.errors import Forbidden, Unauthorized
from csms.local.tokens import create_token, parse_ttl, signing_key, verify_token


def event_with(claims: dict[str, Any] | None) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    return {"requestContext": context}


def test_tenant_and_role_come_from_the_authorizer_claims() -> None:
    principal = principal_from_event(
        event_with({"custom:tenant": "acme", "custom:role": "operator", "sub": "u1"})
    )
    assert principal == Principal("acme", Role.OPERATOR, "u1")


@pytest.mark.parametrize(
    ("groups", "role"),
    [
        ("admin", Role.ADMIN),
        ("[viewer operator]", Role.OPERATOR),
        ("viewer,admin", Role.ADMIN),
        (["viewer"], Role.VIEWER),
    ],
)
def test_cognito_groups_are_a_fallback_for_the_role(groups: object, role: Role) -> None:
    assert principal_from_event(event_with({"custom:tenant": "t", "cognito:groups": groups})).role is role


@pytest.mark.parametrize(
    "claims",
    [
        None,
        {},
        {"custom:tenant": "t"},
        {"custom:role": "admin"},
        {"custom:tenant": "t", "custom:role": "root"},
    ],
)
def test_unusable_claims_are_unauthorized(claims: dict[str, Any] | None) -> None:
    with pytest.raises(Unauthorized):
        principal_from_event(event_with(claims))


def test_roles_are_ordered() -> None:
    Principal("t", Role.ADMIN, "").require(Role.OPERATOR)
    Principal("t", Role.OPERATOR, "").require(Role.OPERATOR)
    with pytest.raises(Forbidden):
        Principal("t", Role.VIEWER, "").require(Role.OPERATOR)


def test_local_tokens_round_trip_and_expire(tmp_path: Any) -> None:
    key = signing_key(tmp_path)
    assert signing_key(tmp_path) == key  # created once, then reused
    assert (tmp_path / "api-signing-key").stat().st_mode & 0o777 == 0o600
    claims = verify_token(key, create_token(key, "acme", "viewer", 60, subject="me"))
    assert (claims["custom:tenant"], claims["custom:role"], claims["sub"]) == ("acme", "viewer", "me")
    with pytest.raises(jwt.InvalidTokenError):
        verify_token(b"another-key-of-enough-length-000000", create_token(key, "acme", "viewer", 60))
    expired = jwt.encode(
        {"iss": "csms-local", "aud": "csms-api", "exp": int(time.time()) - 10}, key, algorithm="HS256"
    )
    with pytest.raises(jwt.ExpiredSignatureError):
        verify_token(key, expired)


def test_local_tokens_without_an_expiry_are_refused(tmp_path: Any) -> None:
    # Given a token signed with the right key but without `exp` (it would never expire)
    key = signing_key(tmp_path)
    now = int(time.time())
    claims = {"iss": "csms-local", "aud": "csms-api", "sub": "me", "iat": now, "custom:tenant": "acme"}
    forever = jwt.encode({**claims, "custom:role": "admin"}, key, algorithm="HS256")
    # Then it is refused
    with pytest.raises(jwt.MissingRequiredClaimError):
        verify_token(key, forever)


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("30m", 1800), ("1h", 3600), ("7d", 604800)])
def test_ttl_parsing(text: str, seconds: int) -> None:
    assert parse_ttl(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "-1h", "1w", "abc"])
def test_bad_ttls_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_ttl(text)
