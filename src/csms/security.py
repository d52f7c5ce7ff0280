"""Charger credentials: salted scrypt hashes and HTTP Basic auth parsing.

scrypt (stdlib, memory-hard) instead of a fast hash because operators sometimes type
weak passwords; its cost is tuned (~20-50 ms) so a reconnect storm of thousands of
chargers stays affordable on Lambda. The format is self-describing so the cost can be
raised later without invalidating stored hashes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass

_N, _R, _P = 2**14, 8, 1
_SCHEME = "scrypt"


def hash_password(password: str) -> str:
    """A salted hash to store: ``scrypt$N$r$p$salt$hash`` (base64 fields)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "$".join(
        (
            _SCHEME,
            str(_N),
            str(_R),
            str(_P),
            base64.b64encode(salt).decode(),
            base64.b64encode(digest).decode(),
        )
    )


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of ``password`` against a hash made by :func:`hash_password`."""
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != _SCHEME:
            return False
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(digest_b64)
        actual = hashlib.scrypt(
            password.encode(), salt=salt, n=int(n), r=int(r), p=int(p), dklen=len(expected), maxmem=2**26
        )
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(actual, expected)


#: What a generated rotation password is made of: letters and digits only (both within 2.0.1's
#: identifierString and any 1.6 charger's idea of a password).
_ALPHANUMERIC = string.ascii_letters + string.digits
#: 20 characters (about 119 bits): the longest a 1.6 AuthorizationKey holds (16 to 20 bytes),
#: well within 2.0.1's 16 to 40.
ROTATION_PASSWORD_LENGTH = 20


def rotation_password() -> str:
    """A new random password for rotate-password, good for both protocols."""
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(ROTATION_PASSWORD_LENGTH))


def generate_password() -> str:
    """A random charger password within OCPP's 16-40 character guidance (32 chars)."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True, slots=True)
class BasicCredentials:
    username: str
    password: str

    def password_of(self, user_id: str) -> str | None:
        """The password, if these are ``user_id``'s credentials; None otherwise.

        RFC 7617 splits ``user:password`` at the first colon, but OCPP charge point ids may
        contain one ("CP:1" sends ``CP:1:secret``), so match the expected id as a prefix.
        """
        presented, prefix = f"{self.username}:{self.password}", f"{user_id}:"
        return presented[len(prefix) :] if presented.startswith(prefix) else None


def parse_basic_auth(header: str | None) -> BasicCredentials | None:
    """Credentials from an ``Authorization: Basic ...`` header, or None if absent/garbled.

    OCPP 1.6 Security Profile 1/2 chargers send ``base64(chargePointId:password)``. Some
    chargers send the password as raw bytes; those decode as latin-1 rather than fail.
    """
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        decoded = raw.decode("latin-1")
    username, sep, password = decoded.partition(":")
    if not sep:
        return None
    return BasicCredentials(username=username, password=password)
