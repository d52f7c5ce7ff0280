"""Per-tenant settings kept in ``tenants`` (migration 0017): the file URL rules."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from csms.data.database import PgDatabase
from csms.data.tables import tenants


class PgTenantSettings:
    """:class:`csms.services.file_urls.FileUrlRulesSource` on PostgreSQL."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def file_url_rules(self, tenant_id: str) -> tuple[Sequence[str] | None, Sequence[str] | None]:
        with self._db.connect() as connection:
            row = connection.execute(
                select(tenants.c.file_url_schemes, tenants.c.file_url_hosts).where(tenants.c.id == tenant_id)
            ).first()
        return (row.file_url_schemes, row.file_url_hosts) if row else (None, None)


def tenant_names(db: PgDatabase) -> list[tuple[str, str]]:
    """Every tenant as (id, name), by id: what the local console's development sign-in offers."""
    with db.connect() as connection:
        rows = connection.execute(select(tenants.c.id, tenants.c.name).order_by(tenants.c.id)).all()
    return [(row.id, row.name) for row in rows]
