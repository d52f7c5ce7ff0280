"""Read, update and delete queries behind :class:`csms.domain.tokens.IdTokenQueries`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update

from csms.data.database import PgDatabase
from csms.data.repositories import stored_id_token
from csms.data.tables import id_tokens
from csms.domain.tokens import IdToken, IdTokenQuery, StoredIdToken

_SORT = {
    "idToken": id_tokens.c.id_token,
    "createdAt": id_tokens.c.created_at,
    "expiryDate": id_tokens.c.expiry_date,
}


def _mine(tenant_id: str, token: IdToken) -> Any:
    # Case-insensitive, as ux_id_tokens_value (tenant_id, lower(id_token), type): at most one row.
    assert token.type is not None, "an operator names a token by its type and value"
    return and_(
        id_tokens.c.tenant_id == tenant_id,
        func.lower(id_tokens.c.id_token) == func.lower(token.value),
        id_tokens.c.type == token.type.value,
    )


class PgIdTokenQueries:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def search(self, tenant_id: str, query: IdTokenQuery, now: datetime) -> tuple[list[StoredIdToken], int]:
        conditions = [id_tokens.c.tenant_id == tenant_id]
        if query.status is not None:
            conditions.append(id_tokens.c.status == query.status.value)
        if query.type is not None:
            conditions.append(id_tokens.c.type == query.type.value)
        if query.group is not None:
            conditions.append(id_tokens.c.group_id_token == query.group)
        if query.id_prefix:
            conditions.append(id_tokens.c.id_token.startswith(query.id_prefix, autoescape=True))
        if query.expired is True:
            conditions.append(id_tokens.c.expiry_date <= now)
        elif query.expired is False:
            conditions.append(or_(id_tokens.c.expiry_date.is_(None), id_tokens.c.expiry_date > now))
        column = _SORT.get(query.sort, id_tokens.c.id_token)
        order = column.desc().nulls_last() if query.descending else column.asc().nulls_last()
        if query.descending:
            tiebreak = [id_tokens.c.id_token.desc(), id_tokens.c.type.desc()]
        else:
            tiebreak = [id_tokens.c.id_token.asc(), id_tokens.c.type.asc()]
        where = and_(*conditions)
        with self._db.connect() as conn:
            total = conn.execute(select(func.count()).select_from(id_tokens).where(where)).scalar_one()
            rows = conn.execute(
                select(id_tokens)
                .where(where)
                .order_by(order, *tiebreak)
                .limit(query.limit)
                .offset(query.offset)
            )
            return [stored_id_token(r) for r in rows], int(total)

    def get(self, tenant_id: str, token: IdToken) -> StoredIdToken | None:
        with self._db.connect() as conn:
            row = conn.execute(select(id_tokens).where(_mine(tenant_id, token))).first()
        return stored_id_token(row) if row else None

    def update(self, tenant_id: str, token: IdToken, changes: dict[str, Any], now: datetime) -> bool:
        with self._db.begin() as conn:
            result = conn.execute(
                update(id_tokens).where(_mine(tenant_id, token)).values(**changes, updated_at=now)
            )
            return bool(result.rowcount)

    def delete(self, tenant_id: str, token: IdToken) -> bool:
        # transactions.id_token is plain text (no foreign key): billing records keep the token.
        with self._db.begin() as conn:
            return bool(conn.execute(delete(id_tokens).where(_mine(tenant_id, token))).rowcount)
