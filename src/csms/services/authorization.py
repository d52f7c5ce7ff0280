"""Authorization functional block: may this id token charge?"""

from __future__ import annotations

from datetime import datetime

from csms.domain.stations import ChargerContext
from csms.domain.storage import Database, UnitOfWork
from csms.domain.tokens import AuthorizationStatus, IdTagInfo


def id_tag_info(uow: UnitOfWork, tenant_id: str, id_tag: str, now: datetime) -> IdTagInfo:
    """The tenant's verdict on ``id_tag`` at ``now``: unknown tags are Invalid, a stored
    Accepted tag past its expiry date is Expired, otherwise the stored status."""
    tag = uow.id_tags.get(tenant_id, id_tag)
    if tag is None:
        return IdTagInfo(status=AuthorizationStatus.INVALID)
    status = tag.status
    if status is AuthorizationStatus.ACCEPTED and tag.expiry_date is not None and tag.expiry_date <= now:
        status = AuthorizationStatus.EXPIRED
    return IdTagInfo(status=status, expiry_date=tag.expiry_date, parent_id_tag=tag.parent_id_tag)


class AuthorizationService:
    """Authorize.req."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def authorize(self, ctx: ChargerContext, id_tag: str, now: datetime) -> IdTagInfo:
        # No ConcurrentTx here: OCPP 1.6 makes it "only relevant for a StartTransaction.req",
        # and a dangling transaction must not stop a driver from being authorised.
        return self._db.run(lambda uow: id_tag_info(uow, ctx.tenant_id, id_tag, now))
