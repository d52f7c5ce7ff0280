"""Local bearer tokens: what Cognito issues on AWS, signed here with a local key.

The key lives in the state folder (``.csms/api-signing-key``), created on first use;
``csms dev`` trusts it and ``csms token create`` signs with it.
"""

from __future__ import annotations

import os
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import jwt

from csms.constants import ROLE_CLAIM, TENANT_CLAIM

ISSUER = "csms-local"
AUDIENCE = "csms-api"
KEY_FILE = "api-signing-key"


def signing_key(state_dir: Path) -> bytes:
    """The local signing key, created (readable by the owner only) if missing."""
    path = state_dir / KEY_FILE
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_bytes().strip()


def create_token(key: bytes, tenant: str, role: str, ttl_seconds: int, subject: str | None = None) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject or f"local-{uuid.uuid4()}",
        "iat": now,
        "exp": now + ttl_seconds,
        "token_use": "id",
        TENANT_CLAIM: tenant,
        ROLE_CLAIM: role,
    }
    return jwt.encode(claims, key, algorithm="HS256")


def verify_token(key: bytes, token: str) -> dict[str, Any]:
    """The token's claims; raises jwt.InvalidTokenError if it is not ours, expired, or never
    expires (a token without ``exp`` would stay valid for ever: Cognito never issues one)."""
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=["HS256"],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"require": ["exp"]},
    )
    return claims


def parse_ttl(text: str) -> int:
    """'90', '30m', '1h', '7d' → seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = text.strip().lower()
    if text and text[-1] in units:
        value, unit = text[:-1], units[text[-1]]
    else:
        value, unit = text, 1
    if not value.isdigit() or int(value) <= 0:
        raise ValueError(f"not a duration: {text!r} (use e.g. 3600, 30m, 1h, 7d)")
    return int(value) * unit
