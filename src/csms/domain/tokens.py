"""Authorization: the id tokens a tenant knows, and the verdict a station is given for one.

An id token is a value with a type (OCPP 2.0.1 IdTokenType: an RFID card is ``ISO14443``, a
contract id ``eMAID``, a PIN ``KeyCode``...). A 1.6 station presents a bare value (its id tag):
such a token has no type, and is looked up by value over every type, preferring them in the
order of :data:`TYPE_PREFERENCE`. Values compare case-insensitively in both protocols (1.6
CiString, 2.0.1 "case-insensitive").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, Protocol


class IdTokenType(StrEnum):
    """How an id token was presented (2.0.1 IdTokenEnumType)."""

    CENTRAL = "Central"
    EMAID = "eMAID"
    ISO14443 = "ISO14443"
    ISO15693 = "ISO15693"
    KEY_CODE = "KeyCode"
    LOCAL = "Local"
    MAC_ADDRESS = "MacAddress"
    #: No authorization needed (free vend, a start button): accepted without a lookup, never stored.
    NO_AUTHORIZATION = "NoAuthorization"


#: When one value exists under several types, the token a 1.6 station (which names no type)
#: means: the first of these that the tenant has.
TYPE_PREFERENCE: Final = (
    IdTokenType.ISO14443,
    IdTokenType.ISO15693,
    IdTokenType.KEY_CODE,
    IdTokenType.LOCAL,
    IdTokenType.CENTRAL,
    IdTokenType.EMAID,
    IdTokenType.MAC_ADDRESS,
)
#: The types a tenant may store tokens of (everything but NoAuthorization).
STORABLE_TYPES: Final = TYPE_PREFERENCE
#: What the migration gave every 1.6 tag, and the API's default: the UID of an RFID card.
DEFAULT_TYPE: Final = IdTokenType.ISO14443
#: The type of a group token when none is given (1.6 parentIdTag): an identifier of the CSMS's.
DEFAULT_GROUP_TYPE: Final = IdTokenType.CENTRAL
#: The longest value (2.0.1 IdTokenType.idToken; 1.6 allows 20).
MAX_ID_TOKEN_LENGTH: Final = 36


class AuthorizationStatus(StrEnum):
    """Outcome of authorising an id token (2.0.1 AuthorizationStatusEnumType, which contains
    1.6's; the 1.6 adapter maps the others down)."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    CONCURRENT_TX = "ConcurrentTx"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    NO_CREDIT = "NoCredit"
    NOT_ALLOWED_TYPE_EVSE = "NotAllowedTypeEVSE"
    NOT_AT_THIS_LOCATION = "NotAtThisLocation"
    NOT_AT_THIS_TIME = "NotAtThisTime"
    #: The tenant has no such token.
    UNKNOWN = "Unknown"


#: Statuses an operator may give an id token (the others are derived when a token is presented).
STORABLE_STATUSES: Final = (
    AuthorizationStatus.ACCEPTED,
    AuthorizationStatus.BLOCKED,
    AuthorizationStatus.EXPIRED,
    AuthorizationStatus.INVALID,
    AuthorizationStatus.NO_CREDIT,
)


@dataclass(frozen=True, slots=True)
class IdToken:
    """An id token as presented: its value and type (None: a 1.6 id tag, which has none)."""

    value: str
    type: IdTokenType | None = None

    def same(self, other: IdToken) -> bool:
        """The same token: the values match case-insensitively, and the types where both have one."""
        return self.value.lower() == other.value.lower() and (
            self.type is None or other.type is None or self.type is other.type
        )


@dataclass(frozen=True, slots=True)
class StoredIdToken:
    """An id token a tenant knows (RFID card, app token, key code...), with its verdict."""

    tenant_id: str
    token: IdToken
    status: AuthorizationStatus
    expiry_date: datetime | None = None
    #: The group it belongs to (1.6 parentIdTag): tokens of one group may stop each other's
    #: transactions.
    group: IdToken | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        """Past its expiry date (the same rule Authorize applies: expiry <= now)."""
        return self.expiry_date is not None and self.expiry_date <= now

    def effective_status(self, now: datetime) -> AuthorizationStatus:
        """What a station is told for this token at ``now``: an expired Accepted one is Expired."""
        if self.status is AuthorizationStatus.ACCEPTED and self.expired(now):
            return AuthorizationStatus.EXPIRED
        return self.status


@dataclass(frozen=True, slots=True)
class IdTokenInfo:
    """The answer to "may this token charge?" (1.6 IdTagInfo, 2.0.1 IdTokenInfo)."""

    status: AuthorizationStatus
    #: Until when a station may keep the verdict in its cache (1.6 expiryDate, 2.0.1
    #: cacheExpiryDateTime): the token's expiry date.
    expiry_date: datetime | None = None
    group: IdToken | None = None


class IdTokenRepository(Protocol):
    def find(self, tenant_id: str, token: IdToken) -> StoredIdToken | None:
        """The tenant's token: by type and value, or (no type) by value over every type in the
        order of TYPE_PREFERENCE. Values match case-insensitively."""
        ...

    def add(self, token: StoredIdToken, at: datetime) -> None:
        """Insert; raises AlreadyExists if the tenant has that token (type and value) already."""
        ...

    def list(self, tenant_id: str | None = None) -> list[StoredIdToken]: ...


# --- the operators' view (csms.services.id_tokens) ------------------------------------------


@dataclass(frozen=True, slots=True)
class IdTokenQuery:
    status: AuthorizationStatus | None = None
    type: IdTokenType | None = None
    #: Members of the group with this value (any group type).
    group: str | None = None
    id_prefix: str | None = None
    #: True: only tokens past their expiry date; False: only tokens without one or not yet past it.
    expired: bool | None = None
    sort: str = "idToken"  # idToken | createdAt | expiryDate
    descending: bool = False
    limit: int = 50
    offset: int = 0


class IdTokenQueries(Protocol):
    def search(self, tenant_id: str, query: IdTokenQuery, now: datetime) -> tuple[list[StoredIdToken], int]:
        """One page of the tenant's tokens matching ``query`` and the number of all matches."""
        ...

    def get(self, tenant_id: str, token: IdToken) -> StoredIdToken | None:
        """The tenant's token of that type and value (case-insensitive)."""
        ...

    def update(self, tenant_id: str, token: IdToken, changes: dict[str, Any], now: datetime) -> bool:
        """Apply ``changes`` (column → value); False if the tenant has no such token."""
        ...

    def delete(self, tenant_id: str, token: IdToken) -> bool:
        """Forget the token; False if the tenant has no such token. Transactions keep its text."""
        ...
