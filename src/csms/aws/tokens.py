"""Verifying Cognito ID tokens where API Gateway cannot: the live WebSocket's ``$connect``
authorizer (WebSocket APIs have Lambda authorizers only; ADR 0025). The REST API's Cognito
authorizer accepts the same tokens: signed by the user pool's keys, its issuer, unexpired,
``token_use`` = ``id``.

PyJWT does the JOSE work (RS256 with ``cryptography``; the key set fetched once per container
and again only for an unknown ``kid``).
"""

from __future__ import annotations

from typing import Any

import jwt


class InvalidToken(Exception):
    """The token is not one of the user pool's valid ID tokens."""


class CognitoIdTokens:
    def __init__(self, issuer: str, jwks: Any = None) -> None:
        self._issuer = issuer.rstrip("/")
        #: A ``jwt.PyJWKClient``; tests pass one over a key set of their own.
        self._jwks = jwks or jwt.PyJWKClient(f"{self._issuer}/.well-known/jwks.json", timeout=5)

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims; InvalidToken if it is not valid."""
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=self._issuer,
                # An ID token's audience is the app client; the REST authorizer takes any
                # client of the pool, and so do we.
                options={"require": ["exp", "iss", "sub"], "verify_aud": False},
            )
        except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
            raise InvalidToken(str(exc)) from exc
        if claims.get("token_use") != "id":
            raise InvalidToken("not an ID token (token_use must be 'id')")
        return claims
