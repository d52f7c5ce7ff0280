"""PostgreSQL implementation of :class:`csms.domain.local_list.LocalListStore`.

The versions a charger holds live in ``local_auth_lists``; the lists themselves are the
SendLocalList commands (their requests are the audit trail of what was sent), so version
allocation and "since the last Full list" read the ``commands`` table too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from csms.data.database import PgDatabase
from csms.data.repositories import stored_id_token
from csms.data.tables import commands, id_tokens, local_auth_lists
from csms.domain.local_list import LocalListState
from csms.domain.tokens import StoredIdToken

ACTION = "SendLocalList"


_VERSION = commands.c.request["listVersion"].astext.cast(Integer)
_UPDATE_TYPE = commands.c.request["updateType"].astext


class PgLocalListStore:
    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def state(self, tenant_id: str, charge_point_id: str) -> LocalListState | None:
        with self._db.connect() as conn:
            row = conn.execute(
                select(local_auth_lists).where(
                    local_auth_lists.c.tenant_id == tenant_id,
                    local_auth_lists.c.charge_point_id == charge_point_id,
                )
            ).first()
        if row is None:
            return None
        return LocalListState(
            charge_point_id=row.charge_point_id,
            sent_version=row.sent_version,
            sent_at=row.sent_at,
            reported_version=row.reported_version,
            reported_at=row.reported_at,
        )

    def next_version(self, charge_point_id: str) -> int:
        held = (
            select(func.greatest(local_auth_lists.c.sent_version, local_auth_lists.c.reported_version))
            .where(local_auth_lists.c.charge_point_id == charge_point_id)
            .scalar_subquery()
        )
        sent = (
            select(func.max(_VERSION))
            .where(commands.c.charge_point_id == charge_point_id, commands.c.action == ACTION)
            .scalar_subquery()
        )
        with self._db.connect() as conn:
            highest = conn.execute(
                select(func.greatest(func.coalesce(held, 0), func.coalesce(sent, 0)))
            ).scalar_one()
        return int(highest) + 1

    def last_full_list_at(self, charge_point_id: str) -> datetime | None:
        with self._db.connect() as conn:
            at: datetime | None = conn.execute(
                select(func.max(commands.c.created_at)).where(
                    commands.c.charge_point_id == charge_point_id,
                    commands.c.action == ACTION,
                    commands.c.status == "accepted",
                    _UPDATE_TYPE == "Full",
                )
            ).scalar_one()
        return at

    def tokens(self, tenant_id: str, changed_since: datetime | None = None) -> list[StoredIdToken]:
        query = (
            select(id_tokens)
            .where(id_tokens.c.tenant_id == tenant_id)
            .order_by(id_tokens.c.id_token, id_tokens.c.type)
        )
        if changed_since is not None:
            query = query.where(id_tokens.c.updated_at >= changed_since)
        with self._db.connect() as conn:
            return [stored_id_token(r) for r in conn.execute(query)]

    def tokens_named(self, tenant_id: str, values: Sequence[str]) -> list[StoredIdToken]:
        if not values:
            return []
        # Case-insensitive, as ux_id_tokens_value (tenant_id, lower(id_token), type).
        with self._db.connect() as conn:
            rows = conn.execute(
                select(id_tokens)
                .where(
                    id_tokens.c.tenant_id == tenant_id,
                    func.lower(id_tokens.c.id_token).in_([func.lower(v) for v in dict.fromkeys(values)]),
                )
                .order_by(id_tokens.c.id_token, id_tokens.c.type)
            )
            return [stored_id_token(r) for r in rows]

    def _upsert(self, tenant_id: str, charge_point_id: str, **values: Any) -> None:
        statement = pg_insert(local_auth_lists).values(
            tenant_id=tenant_id, charge_point_id=charge_point_id, **values
        )
        statement = statement.on_conflict_do_update(
            index_elements=[local_auth_lists.c.charge_point_id], set_=values
        )
        with self._db.begin() as conn:
            conn.execute(statement)

    def record_sent(self, tenant_id: str, charge_point_id: str, version: int, at: datetime) -> None:
        self._upsert(tenant_id, charge_point_id, sent_version=version, sent_at=at)

    def record_reported(self, tenant_id: str, charge_point_id: str, version: int, at: datetime) -> None:
        self._upsert(tenant_id, charge_point_id, reported_version=version, reported_at=at)

    def abandon_following(self, charge_point_id: str, version: int, at: datetime, reason: str) -> int:
        with self._db.begin() as conn:
            queued = conn.execute(
                select(commands.c.id, _VERSION.label("version"), _UPDATE_TYPE.label("update_type"))
                .where(
                    commands.c.charge_point_id == charge_point_id,
                    commands.c.action == ACTION,
                    commands.c.status == "queued",
                )
                .order_by(commands.c.created_at, commands.c.id)
                .with_for_update()
            ).all()
            dropped = []
            for row in queued:
                if row.update_type == "Full":
                    break  # a Full list starts afresh: it and what follows it still go out
                if row.version > version:
                    dropped.append(row.id)
            if not dropped:
                return 0
            result = conn.execute(
                update(commands)
                .where(commands.c.id.in_(dropped), commands.c.status == "queued")
                .values(status="failed", finished_at=at, reason=reason)
            )
            return int(result.rowcount)
