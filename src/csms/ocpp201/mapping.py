"""OCPP 2.0.1 payload pieces onto the version-neutral model and back: id tokens and their
verdicts. 2.0.1 leaves an absent field out (never null) and writes times with at most three
fraction digits (:func:`csms.domain.events.iso`)."""

from __future__ import annotations

from typing import Any

from csms.domain.events import iso
from csms.domain.tokens import IdToken, IdTokenInfo, IdTokenType


def id_token(payload: dict[str, Any]) -> IdToken:
    """An IdTokenType (``{idToken, type, additionalInfo?}``)."""
    return IdToken(payload["idToken"], IdTokenType(payload["type"]))


def id_token_payload(token: IdToken) -> dict[str, Any]:
    # A token without a type came from a 1.6 station or a migrated 1.6 parent: 2.0.1 needs
    # one, and a group id is a CSMS-side identity (Central).
    return {"idToken": token.value, "type": (token.type or IdTokenType.CENTRAL).value}


def id_token_info(info: IdTokenInfo, token: IdToken) -> dict[str, Any]:
    """An IdTokenInfoType for ``token``: its status, until when the station may cache it (not for
    a Central token, which the CSMS issued and stations must not cache), its group."""
    out: dict[str, Any] = {"status": info.status.value}
    if info.expiry_date is not None and token.type is not IdTokenType.CENTRAL:
        out["cacheExpiryDateTime"] = iso(info.expiry_date)
    if info.group is not None:
        out["groupIdToken"] = id_token_payload(info.group)
    return out
