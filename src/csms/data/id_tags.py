"""Read, update and delete queries behind :class:`csms.domain.tokens.IdTagQueries`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, delete, func, or_, select, update

from csms.data.database import PgDatabase
from csms.data.tables import id_tags
from csms.domain.tokens import AuthorizationStatus, IdTagQuery, IdTagRecord

_SORT = {
    "idTag": id_tags.c.id_tag,
    "createdAt": id_tags.c.created_at,
    "expiryDate": id_tags.c.expiry_date,
}


def _record(row: Row[Any]) -> IdTagRecord:
    m = row._mapping
    return IdTagRecord(
        id_tag=m["id_tag"],
        status=AuthorizationStatus(m["status"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        expiry_date=m["expiry_date"],
        parent_id_tag=m["parent_id_tag"],
    )


def _mine(tenant_id: str, id_tag: str) -> Any:
    # Case-insensitive (OCPP CiString), as ux_id_tags_tenant_lower_id_tag: at most one row.
    return and_(id_tags.c.tenant_id == tenant_id, func.lower(id_tags.c.id_tag) == func.lower(id_tag))


class PgIdTagQueries:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def search(self, tenant_id: str, query: IdTagQuery, now: datetime) -> tuple[list[IdTagRecord], int]:
        conditions = [id_tags.c.tenant_id == tenant_id]
        if query.status is not None:
            conditions.append(id_tags.c.status == query.status.value)
        if query.parent_id_tag is not None:
            conditions.append(id_tags.c.parent_id_tag == query.parent_id_tag)
        if query.id_prefix:
            conditions.append(id_tags.c.id_tag.startswith(query.id_prefix, autoescape=True))
        if query.expired is True:
            conditions.append(id_tags.c.expiry_date <= now)
        elif query.expired is False:
            conditions.append(or_(id_tags.c.expiry_date.is_(None), id_tags.c.expiry_date > now))
        column = _SORT.get(query.sort, id_tags.c.id_tag)
        order = column.desc().nulls_last() if query.descending else column.asc().nulls_last()
        tiebreak = id_tags.c.id_tag.desc() if query.descending else id_tags.c.id_tag.asc()
        where = and_(*conditions)
        with self._db.connect() as conn:
            total = conn.execute(select(func.count()).select_from(id_tags).where(where)).scalar_one()
            rows = conn.execute(
                select(id_tags).where(where).order_by(order, tiebreak).limit(query.limit).offset(query.offset)
            )
            return [_record(r) for r in rows], int(total)

    def get(self, tenant_id: str, id_tag: str) -> IdTagRecord | None:
        with self._db.connect() as conn:
            row = conn.execute(select(id_tags).where(_mine(tenant_id, id_tag))).first()
        return _record(row) if row else None

    def update(self, tenant_id: str, id_tag: str, changes: dict[str, Any], now: datetime) -> bool:
        with self._db.begin() as conn:
            result = conn.execute(
                update(id_tags).where(_mine(tenant_id, id_tag)).values(**changes, updated_at=now)
            )
            return bool(result.rowcount)

    def delete(self, tenant_id: str, id_tag: str) -> bool:
        # transactions.id_tag is plain text (no foreign key): billing records keep the tag.
        with self._db.begin() as conn:
            return bool(conn.execute(delete(id_tags).where(_mine(tenant_id, id_tag))).rowcount)
