"""Password hashing and Basic auth parsing."""

from __future__ import annotations

import base64

import pytest

from csms.security import (
    BasicCredentials,
    generate_password,
    hash_password,
    parse_basic_auth,
    verify_password,
)


def test_hashes_are_salted_and_verify() -> None:
    first, second = hash_password("pw-123"), hash_password("pw-123")
    assert first != second
    assert "pw-123" not in first
    assert verify_password("pw-123", first)
    assert verify_password("pw-123", second)
    assert not verify_password("pw-124", first)


@pytest.mark.parametrize("stored", ["", "plain", "bcrypt$x$y$z$a$b", "scrypt$16384$8$1$!!$!!"])
def test_garbled_hashes_never_verify(stored: str) -> None:
    assert not verify_password("anything", stored)


def test_generated_passwords_fit_ocpp_limits() -> None:
    assert 16 <= len(generate_password()) <= 40


def basic(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (basic(b"CP-1:pw"), BasicCredentials("CP-1", "pw")),
        (basic(b"CP-1:pw:with:colons"), BasicCredentials("CP-1", "pw:with:colons")),
        ("basic " + base64.b64encode(b"CP-1:pw").decode(), BasicCredentials("CP-1", "pw")),
        (basic(b"CP-1:\xff\xfe"), BasicCredentials("CP-1", "\xff\xfe")),
        (basic(b"no-colon"), None),
        ("Basic", None),
        ("Basic ***", None),
        ("Bearer abc", None),
        (None, None),
    ],
)
def test_basic_auth_parsing(header: str | None, expected: BasicCredentials | None) -> None:
    assert parse_basic_auth(header) == expected


@pytest.mark.parametrize(
    ("credentials", "user_id", "password"),
    [
        (BasicCredentials("CP-1", "pw"), "CP-1", "pw"),
        (BasicCredentials("CP", "1:pw"), "CP:1", "pw"),  # sent as "CP:1:pw"
        (BasicCredentials("CP", "1:pw"), "CP", "1:pw"),
        (BasicCredentials("CP-10", "pw"), "CP-1", None),
        (BasicCredentials("CP-1", "pw"), "CP-10", None),
        (BasicCredentials("cp-1", "pw"), "CP-1", None),
    ],
)
def test_the_password_belongs_to_the_whole_user_id(
    credentials: BasicCredentials, user_id: str, password: str | None
) -> None:
    assert credentials.password_of(user_id) == password
