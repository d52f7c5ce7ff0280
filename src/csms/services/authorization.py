"""Authorization functional block: may this id token charge?"""

from __future__ import annotations

from datetime import datetime

from csms.domain import AuthorizationStatus, ChargerContext, IdTagInfo
from csms.ports import Database, UnitOfWork


def id_tag_info(
    uow: UnitOfWork,
    tenant_id: str,
    id_tag: str,
    now: datetime,
    *,
    check_concurrent: bool = True,
    own_transaction_id: int | None = None,
) -> IdTagInfo:
    """The tenant's verdict on ``id_tag`` at ``now``.

    Unknown tags are Invalid; a stored Accepted tag past its expiry date is Expired; an
    Accepted tag already in an open transaction (other than ``own_transaction_id``) is
    ConcurrentTx, as SteVe does, so one card cannot run two sessions at once.
    """
    tag = uow.id_tags.get(tenant_id, id_tag)
    if tag is None:
        return IdTagInfo(status=AuthorizationStatus.INVALID)
    status = tag.status
    if status is AuthorizationStatus.ACCEPTED and tag.expiry_date is not None and tag.expiry_date <= now:
        status = AuthorizationStatus.EXPIRED
    if (
        status is AuthorizationStatus.ACCEPTED
        and check_concurrent
        and uow.transactions.has_open_transaction(tenant_id, id_tag, excluding_id=own_transaction_id)
    ):
        status = AuthorizationStatus.CONCURRENT_TX
    return IdTagInfo(status=status, expiry_date=tag.expiry_date, parent_id_tag=tag.parent_id_tag)


class AuthorizationService:
    """Authorize.req."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def authorize(self, ctx: ChargerContext, id_tag: str, now: datetime) -> IdTagInfo:
        return self._db.run(lambda uow: id_tag_info(uow, ctx.tenant_id, id_tag, now))
