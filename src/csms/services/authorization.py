"""Authorization functional block: may this id token charge?"""

from __future__ import annotations

from datetime import datetime

from csms.domain.stations import ChargerContext
from csms.domain.storage import Database, UnitOfWork
from csms.domain.tokens import AuthorizationStatus, IdToken, IdTokenInfo, IdTokenType


def id_token_info(uow: UnitOfWork, tenant_id: str, token: IdToken, now: datetime) -> IdTokenInfo:
    """The tenant's verdict on ``token`` at ``now``: a NoAuthorization token is Accepted
    without a lookup; a token the tenant does not have is Unknown; a stored Accepted one past
    its expiry date is Expired; otherwise the stored status. A token without a type (1.6) is
    found by value over every type (see :mod:`csms.domain.tokens`)."""
    if token.type is IdTokenType.NO_AUTHORIZATION:
        return IdTokenInfo(status=AuthorizationStatus.ACCEPTED)
    found = uow.id_tokens.find(tenant_id, token)
    if found is None:
        return IdTokenInfo(status=AuthorizationStatus.UNKNOWN)
    return IdTokenInfo(status=found.effective_status(now), expiry_date=found.expiry_date, group=found.group)


class AuthorizationService:
    """Authorize (1.6 Authorize.req, 2.0.1 AuthorizeRequest)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def authorize(self, ctx: ChargerContext, token: IdToken, now: datetime) -> IdTokenInfo:
        """The verdict on ``token`` (typed for 2.0.1, untyped for 1.6)."""
        # No ConcurrentTx here: OCPP 1.6 makes it "only relevant for a StartTransaction.req",
        # and a dangling transaction must not stop a driver from being authorised.
        return self._db.run(lambda uow: id_token_info(uow, ctx.tenant_id, token, now))
